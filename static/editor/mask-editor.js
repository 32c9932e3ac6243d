// imagesynth mask editor — a self-contained canvas component (ES module).
//
// Why JavaScript and not Python: painting must keep up with the pointer on a
// 2048² image (pointer event -> pixels on screen within one 16 ms frame).
// Crossing the Pyodide FFI on every pointer event (and the coalesced events
// inside it) costs more than that budget, so the hot path — pointer handling,
// brush stamping, zoom/pan, rendering — lives here. Python drives the editor
// through the small, promise-returning API below (see py/app/editor.py).
//
// Model:
//   * the image canvas and the mask canvas both have the image's own pixel
//     size; zoom and pan are a CSS transform of the stage that holds them, so
//     a stroke always lands on the same image pixels whatever the zoom;
//   * the mask canvas holds "painted" coverage as alpha (painted = area to
//     change); the export turns it into the API convention: RGBA PNG, alpha 0
//     where painted (and where the image itself is transparent, which covers
//     outpainting extensions), alpha 255 elsewhere;
//   * undo/redo: each stroke stores only its dirty rectangle (before/after
//     ImageData), never a full copy; whole-canvas operations store one copy;
//     the history is bounded by bytes;
//   * pointer samples are queued and stamped in one requestAnimationFrame.
//
// Public API (all in image pixels):
//   const ed = await createMaskEditor(container, {image, settings, storageKey})
//   await ed.loadImage(blob|ArrayBuffer|Uint8Array|url|ImageBitmap|HTMLImageElement|canvas)
//   await ed.loadMask(same kinds, {mode: 'auto'|'alpha'|'luminance'})
//   await ed.exportMask({withImage: false}) -> Blob (image/png)
//   ed.exportMaskBitmap() -> ImageBitmap (the mask's pixels, not encoded; the caller owns it)
//   await ed.exportImage() -> Blob (image/png)
//   ed.extend({left, top, right, bottom})
//   ed.undo() ed.redo() ed.clear() ed.fill() ed.invert()
//   ed.setTool('brush'|'eraser') ed.setBrushSize(px) ed.setFeather(0..1)
//   ed.setOverlayOpacity(0..1) ed.zoomIn() ed.zoomOut() ed.setZoom(z, clientX?, clientY?) ed.fit()
//   ed.getState() -> plain object; ed.onChange(cb) -> unsubscribe function
//   ed.imageToClient(x, y) / ed.clientToImage(x, y) -> {x, y}
//   ed.destroy()
// Events (EventTarget): 'change' (mask or image changed; detail = state),
//   'settings' (tool settings changed), 'render' (a frame with new paint was
//   drawn; detail = {events, stamps, ms}).

export const SETTINGS_KEY = 'imagesynth.editor.settings';
export const VERSION = '1';

const DEFAULTS = Object.freeze({
  tool: 'brush',
  size: 48,
  feather: 0.25,
  opacity: 0.55,
  extendBy: 256,
});
const MIN_SIZE = 1;
const MAX_SIZE = 1024;
const MIN_ZOOM = 0.02;
const MAX_ZOOM = 32;
const HISTORY_BYTES = 256 * 1024 * 1024;
const HISTORY_STEPS = 500;
const OVERLAY_RGB = [255, 32, 96];
const OVERLAY_CSS = `rgb(${OVERLAY_RGB.join(',')})`;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

function makeCanvas(w, h_) {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(w));
  c.height = Math.max(1, Math.round(h_));
  return c;
}

function copyCanvas(src) {
  const c = makeCanvas(src.width, src.height);
  c.getContext('2d').drawImage(src, 0, 0);
  return c;
}

function canvasToBlob(canvas, type = 'image/png') {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas export failed'))), type));
}

// Decode anything image-like to something drawable, EXIF orientation applied.
async function toDrawable(src) {
  if (src == null) throw new TypeError('no image given');
  if (typeof HTMLCanvasElement !== 'undefined' && src instanceof HTMLCanvasElement) return src;
  if (typeof ImageBitmap !== 'undefined' && src instanceof ImageBitmap) return src;
  if (typeof HTMLImageElement !== 'undefined' && src instanceof HTMLImageElement) {
    if (!src.complete) await src.decode();
    return src;
  }
  let blob = src;
  if (typeof src === 'string') {
    const r = await fetch(src);
    if (!r.ok) throw new Error(`could not load ${src}: HTTP ${r.status}`);
    blob = await r.blob();
  } else if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) {
    blob = new Blob([src]);
  }
  if (!(blob instanceof Blob)) throw new TypeError('unsupported image source');
  try {
    return await createImageBitmap(blob, {
      imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none',
    });
  } catch (e) {
    throw new Error('This file could not be read as an image (PNG, JPEG, WebP or GIF work).');
  }
}

function loadSettings(key) {
  try {
    const raw = key && globalThis.localStorage?.getItem(key);
    if (!raw) return {};
    const s = JSON.parse(raw);
    return typeof s === 'object' && s ? s : {};
  } catch { return {}; }
}

function sanitizeSettings(s) {
  const out = { ...DEFAULTS };
  if (s.tool === 'brush' || s.tool === 'eraser') out.tool = s.tool;
  if (Number.isFinite(+s.size)) out.size = clamp(Math.round(+s.size), MIN_SIZE, MAX_SIZE);
  if (Number.isFinite(+s.feather)) out.feather = clamp(+s.feather, 0, 1);
  if (Number.isFinite(+s.opacity)) out.opacity = clamp(+s.opacity, 0.05, 1);
  if (Number.isFinite(+s.extendBy)) out.extendBy = clamp(Math.round(+s.extendBy), 1, 4096);
  return out;
}

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
const MOD = IS_MAC ? '⌘' : 'Ctrl';

export class MaskEditor extends EventTarget {
  constructor(container, options = {}) {
    super();
    if (!container) throw new TypeError('MaskEditor needs a container element');
    this.container = container;
    this.storageKey = options.storageKey === undefined ? SETTINGS_KEY : options.storageKey;
    this.settings = sanitizeSettings({ ...loadSettings(this.storageKey), ...(options.settings || {}) });
    this.width = 0;
    this.height = 0;
    this.imageRect = { x: 0, y: 0, w: 0, h: 0 }; // the original image inside the (extended) canvas
    this.view = { zoom: 1, x: 0, y: 0, fitted: true };
    this._undo = [];
    this._redo = [];
    this._historyBytes = 0;
    this._queue = [];          // pending stroke samples (image coords) for the next frame
    this._stroke = null;       // current stroke: {pointerId, last, dirty, tool}
    this._raf = 0;
    this._pointers = new Map(); // active touch pointers for pinch
    this._spaceDown = false;
    this._pan = null;
    this._stampCache = new Map();
    this._destroyed = false;
    this._build();
  }

  // ---------- DOM ----------
  _build() {
    const btn = (id, label, shortcut, onclick, extra = {}) => {
      const title = shortcut ? `${label} (${shortcut})` : label;
      const b = h('button', {
        type: 'button', class: `me-btn me-${id}`, 'data-action': id,
        title, 'aria-label': title, 'aria-keyshortcuts': extra.keys, onclick,
        'aria-pressed': extra.pressed,
      });
      b.append(h('span', { class: 'me-ico', 'aria-hidden': 'true', text: extra.icon || '' }),
        h('span', { class: 'me-label', text: label }));
      return b;
    };
    const slider = (id, label, min, max, step, value, oninput, shortcut) => {
      const input = h('input', {
        type: 'range', min, max, step, value, class: `me-range me-${id}`, 'data-setting': id,
        'aria-label': shortcut ? `${label} (${shortcut})` : label,
        title: shortcut ? `${label} (${shortcut})` : label,
      });
      input.addEventListener('input', () => oninput(+input.value));
      const out = h('output', { class: 'me-value', 'aria-hidden': 'true' });
      const wrap = h('label', { class: 'me-field' }, h('span', { class: 'me-field-label', text: label }), input, out);
      return { wrap, input, out };
    };

    this.root = h('div', { class: 'mask-editor', 'data-mask-editor': VERSION });
    this.ui = {};
    const u = this.ui;
    u.brush = btn('brush', 'Brush', 'B', () => this.setTool('brush'), { icon: '●', keys: 'B', pressed: 'false' });
    u.eraser = btn('eraser', 'Eraser', 'E', () => this.setTool('eraser'), { icon: '○', keys: 'E', pressed: 'false' });
    const size = slider('size', 'Size', MIN_SIZE, 400, 1, this.settings.size, (v) => this.setBrushSize(v), '[ and ]');
    const feather = slider('feather', 'Soft edge', 0, 100, 1, Math.round(this.settings.feather * 100), (v) => this.setFeather(v / 100));
    const opacity = slider('opacity', 'Overlay', 5, 100, 1, Math.round(this.settings.opacity * 100), (v) => this.setOverlayOpacity(v / 100));
    Object.assign(u, { size, feather, opacity });
    u.undo = btn('undo', 'Undo', `${MOD}+Z`, () => this.undo(), { icon: '↶', keys: 'Control+Z Meta+Z' });
    u.redo = btn('redo', 'Redo', `Shift+${MOD}+Z`, () => this.redo(), { icon: '↷', keys: 'Shift+Control+Z Shift+Meta+Z' });
    u.clear = btn('clear', 'Clear', 'Delete', () => this.clear(), { icon: '⌫', keys: 'Delete' });
    u.fill = btn('fill', 'Fill', 'Shift+Delete', () => this.fill(), { icon: '■', keys: 'Shift+Delete' });
    u.invert = btn('invert', 'Invert', 'I', () => this.invert(), { icon: '◐', keys: 'I' });
    u.zoomOut = btn('zoom-out', 'Zoom out', '−', () => this.zoomOut(), { icon: '−', keys: '-' });
    u.zoomIn = btn('zoom-in', 'Zoom in', '+', () => this.zoomIn(), { icon: '+', keys: '+' });
    u.fit = btn('fit', 'Fit', 'F', () => this.fit(), { icon: '⤢', keys: 'F' });
    u.zoomLabel = h('span', { class: 'me-zoom', 'aria-live': 'off', text: '100%' });
    u.upload = btn('upload-mask', 'Upload mask', '', () => u.file.click(), { icon: '⇪' });
    u.file = h('input', { type: 'file', accept: 'image/*', class: 'me-file', hidden: true, tabindex: '-1', 'aria-hidden': 'true' });
    u.file.addEventListener('change', async () => {
      const f = u.file.files && u.file.files[0];
      u.file.value = '';
      if (!f) return;
      try { await this.loadMask(f); this._announce('Mask loaded'); }
      catch (e) { this._announce(e.message || String(e), true); }
    });
    u.extendBy = h('input', {
      type: 'number', min: 1, max: 4096, step: 1, value: this.settings.extendBy,
      class: 'me-extend-by', 'aria-label': 'Extend by (pixels)', title: 'Extend by (pixels)',
    });
    u.extendBy.addEventListener('change', () => this._setSetting('extendBy', clamp(Math.round(+u.extendBy.value || 1), 1, 4096)));
    const ext = (side, arrow) => btn(`extend-${side}`, `Extend ${side}`, '', () => {
      const n = this.settings.extendBy; this.extend({ [side]: n });
    }, { icon: arrow });
    u.extLeft = ext('left', '⇤'); u.extTop = ext('top', '⤒'); u.extRight = ext('right', '⇥'); u.extBottom = ext('bottom', '⤓');
    for (const b of [u.extLeft, u.extTop, u.extRight, u.extBottom]) b.classList.add('me-icon-only');
    for (const b of [u.zoomOut, u.zoomIn, u.undo, u.redo]) b.classList.add('me-icon-only');

    const group = (label, ...els) => h('div', { class: 'me-group', role: 'group', 'aria-label': label }, ...els);
    this.toolbar = h('div', { class: 'me-toolbar', role: 'toolbar', 'aria-label': 'Mask tools' },
      group('Tool', u.brush, u.eraser),
      group('Brush', size.wrap, feather.wrap),
      group('History', u.undo, u.redo),
      group('Mask', u.clear, u.fill, u.invert, u.upload, u.file),
      group('View', opacity.wrap, u.zoomOut, u.zoomLabel, u.zoomIn, u.fit),
      group('Extend canvas', h('span', { class: 'me-field-label', text: 'Extend' }), u.extendBy, u.extLeft, u.extTop, u.extRight, u.extBottom),
    );

    this.viewport = h('div', {
      class: 'me-viewport', role: 'application', tabindex: '0',
      'aria-label': 'Mask editor: paint the area to change',
      'aria-roledescription': 'mask editor',
      'aria-describedby': '',
    });
    this.stage = h('div', { class: 'me-stage' });
    this.imageCanvas = makeCanvas(1, 1); this.imageCanvas.className = 'me-image';
    this.imageCanvas.setAttribute('aria-hidden', 'true');
    this.stage.append(this.imageCanvas);
    // The mask and lock layers live off-screen at image resolution; what is
    // shown is a viewport-sized overlay canvas, redrawn only where a stroke
    // changed it (a 2048² layer re-uploaded every frame would not keep up).
    this.lockCanvas = makeCanvas(1, 1);
    this.maskCanvas = makeCanvas(1, 1);
    this.display = makeCanvas(1, 1);
    this.display.className = 'me-display';
    this.display.setAttribute('aria-hidden', 'true');
    this.displayCtx = this.display.getContext('2d');
    this.cursor = h('div', { class: 'me-cursor', 'aria-hidden': 'true' });
    this.hint = h('div', { class: 'me-hint', id: `me-hint-${Math.random().toString(36).slice(2)}`,
      text: 'B brush · E eraser · [ ] size · wheel zoom · space-drag pan · ' + MOD + '+Z undo' });
    this.viewport.setAttribute('aria-describedby', this.hint.id);
    this.viewport.append(this.stage, this.display, this.cursor);
    this.status = h('div', { class: 'me-status', role: 'status', 'aria-live': 'polite' });
    this.root.append(this.toolbar, this.viewport, h('div', { class: 'me-footer' }, this.hint, this.status));
    this.container.append(this.root);

    this.maskCtx = this.maskCanvas.getContext('2d');
    this.imageCtx = this.imageCanvas.getContext('2d');
    this.base = makeCanvas(1, 1); // mask as it was at the start of the current stroke
    this.baseCtx = this.base.getContext('2d', { willReadFrequently: true });

    // Events.
    this._on = [];
    const on = (el, type, fn, opts) => { el.addEventListener(type, fn, opts); this._on.push([el, type, fn, opts]); };
    on(this.viewport, 'pointerdown', (e) => this._pointerDown(e));
    on(this.viewport, 'pointermove', (e) => this._pointerMove(e));
    on(this.viewport, 'pointerup', (e) => this._pointerUp(e));
    on(this.viewport, 'pointercancel', (e) => this._pointerUp(e, true));
    on(this.viewport, 'pointerleave', () => { if (!this._stroke) this.cursor.style.display = 'none'; });
    on(this.viewport, 'lostpointercapture', (e) => { if (this._stroke && this._stroke.pointerId === e.pointerId) this._endStroke(); });
    on(this.viewport, 'wheel', (e) => this._wheel(e), { passive: false });
    on(this.viewport, 'contextmenu', (e) => e.preventDefault());
    on(this.root, 'keydown', (e) => this._keyDown(e));
    on(this.root, 'keyup', (e) => this._keyUp(e));
    on(this.viewport, 'blur', () => { this._spaceDown = false; this._updateCursorStyle(); });
    if (typeof ResizeObserver !== 'undefined') {
      this._ro = new ResizeObserver(() => { if (this.view.fitted) this.fit(); else this._applyView(); this._invalidate(); });
      this._ro.observe(this.viewport);
    }
    this._syncUI();
  }

  _announce(msg, isError = false) {
    this.status.textContent = msg;
    this.status.classList.toggle('me-error', !!isError);
    clearTimeout(this._statusTimer);
    this._statusTimer = setTimeout(() => { this.status.textContent = ''; }, isError ? 8000 : 2500);
  }

  _syncUI() {
    const s = this.settings, u = this.ui;
    u.brush.setAttribute('aria-pressed', String(s.tool === 'brush'));
    u.eraser.setAttribute('aria-pressed', String(s.tool === 'eraser'));
    u.size.input.max = String(Math.max(400, s.size));
    u.size.input.value = String(s.size); u.size.out.textContent = `${s.size}px`;
    u.feather.input.value = String(Math.round(s.feather * 100)); u.feather.out.textContent = `${Math.round(s.feather * 100)}%`;
    u.opacity.input.value = String(Math.round(s.opacity * 100)); u.opacity.out.textContent = `${Math.round(s.opacity * 100)}%`;
    if (document.activeElement !== u.extendBy) u.extendBy.value = String(s.extendBy);
    this.display.style.opacity = String(s.opacity);
    u.undo.disabled = this._undo.length === 0;
    u.redo.disabled = this._redo.length === 0;
    u.zoomLabel.textContent = `${Math.round(this.view.zoom * 100)}%`;
    this.root.dataset.tool = s.tool;
    this._updateCursorSize();
  }

  _setSetting(k, v) {
    if (this.settings[k] === v) return;
    this.settings[k] = v;
    try { if (this.storageKey) localStorage.setItem(this.storageKey, JSON.stringify(this.settings)); } catch { /* private mode */ }
    this._syncUI();
    this.dispatchEvent(new CustomEvent('settings', { detail: { ...this.settings } }));
  }

  // ---------- settings API ----------
  setTool(tool) { if (tool !== 'brush' && tool !== 'eraser') throw new RangeError(`unknown tool ${tool}`); this._setSetting('tool', tool); }
  setBrushSize(px) { this._setSetting('size', clamp(Math.round(+px), MIN_SIZE, MAX_SIZE)); }
  setFeather(f) { this._setSetting('feather', clamp(+f, 0, 1)); }
  setOverlayOpacity(o) { this._setSetting('opacity', clamp(+o, 0.05, 1)); }
  getSettings() { return { ...this.settings }; }

  _stepSize(dir) {
    const s = this.settings.size;
    const next = dir > 0 ? Math.max(s + 1, Math.round(s * 1.2)) : Math.min(s - 1, Math.round(s / 1.2));
    this.setBrushSize(next);
  }

  // ---------- images ----------
  async loadImage(src) {
    const img = await toDrawable(src);
    const w = img.width, hh = img.height;
    if (!w || !hh) throw new Error('The image is empty.');
    this.width = w; this.height = hh;
    this.imageRect = { x: 0, y: 0, w, h: hh };
    for (const c of [this.imageCanvas, this.maskCanvas, this.lockCanvas, this.base]) { c.width = w; c.height = hh; }
    this.imageCtx.drawImage(img, 0, 0);
    if (img.close) img.close();
    this._transparent = this._hasTransparency();
    this._rebuildLock();
    this._undo = []; this._redo = []; this._historyBytes = 0;
    this._sizeStage();
    this.fit();
    this._changed('load');
  }

  // Once per image: does it have transparent pixels? (An opaque image lets
  // the export skip a full-size compositing pass.)
  _hasTransparency() {
    const d = this.imageCanvas.getContext('2d', { willReadFrequently: false }).getImageData(0, 0, this.width, this.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return true;
    return false;
  }

  // The lock layer shows, in the overlay colour, what is masked regardless of
  // painting: the image's own transparent pixels (incl. outpainting areas).
  _rebuildLock() {
    const ctx = this.lockCanvas.getContext('2d');
    if (!this._transparent) { ctx.clearRect(0, 0, this.width, this.height); return; }
    ctx.globalCompositeOperation = 'copy';
    ctx.fillStyle = OVERLAY_CSS;
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.globalCompositeOperation = 'destination-out';
    ctx.drawImage(this.imageCanvas, 0, 0);
    ctx.globalCompositeOperation = 'source-over';
  }

  _sizeStage() {
    this.stage.style.width = `${this.width}px`;
    this.stage.style.height = `${this.height}px`;
  }

  /** Upload a mask. mode 'auto': alpha if the image has transparency, else luminance (white = change). */
  async loadMask(src, { mode = 'auto' } = {}) {
    if (!this.width) throw new Error('Load an image before a mask.');
    const img = await toDrawable(src);
    const tmp = makeCanvas(this.width, this.height);
    const tctx = tmp.getContext('2d', { willReadFrequently: true });
    // The mask covers the original image; stretched if its size differs.
    const r = this.imageRect;
    tctx.drawImage(img, r.x, r.y, r.w, r.h);
    if (img.close) img.close();
    const data = tctx.getImageData(0, 0, this.width, this.height);
    const px = data.data;
    let useAlpha = mode === 'alpha';
    if (mode === 'auto') {
      for (let i = 3; i < px.length; i += 4) {
        const x = ((i >> 2) % this.width), y = ((i >> 2) / this.width) | 0;
        if (x < r.x || y < r.y || x >= r.x + r.w || y >= r.y + r.h) continue;
        if (px[i] < 255) { useAlpha = true; break; }
      }
    }
    const [R, G, B] = OVERLAY_RGB;
    for (let i = 0; i < px.length; i += 4) {
      const painted = useAlpha ? 255 - px[i + 3]
        : Math.round(0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]) * px[i + 3] / 255;
      px[i] = R; px[i + 1] = G; px[i + 2] = B; px[i + 3] = painted;
    }
    // Outside the original image, the upload says nothing: nothing painted there.
    const before = copyCanvas(this.maskCanvas);
    this.maskCtx.putImageData(data, 0, 0);
    this.maskCtx.save();
    this.maskCtx.beginPath();
    this.maskCtx.rect(0, 0, this.width, this.height);
    this.maskCtx.rect(r.x, r.y, r.w, r.h);
    this.maskCtx.clip('evenodd');
    this.maskCtx.clearRect(0, 0, this.width, this.height);
    this.maskCtx.restore();
    this._pushFull('upload', before, copyCanvas(this.maskCanvas));
    this._syncBase();
    this._changed('mask');
    return { mode: useAlpha ? 'alpha' : 'luminance' };
  }

  /** Outpainting: grow the canvas; the new area is transparent and part of the mask. */
  extend({ left = 0, top = 0, right = 0, bottom = 0 } = {}) {
    [left, top, right, bottom] = [left, top, right, bottom].map((v) => Math.max(0, Math.round(+v || 0)));
    if (!this.width || !(left || top || right || bottom)) return;
    const prev = { image: this.imageCanvas, mask: this.maskCanvas, transparent: this._transparent, rect: { ...this.imageRect }, w: this.width, h: this.height };
    const w = this.width + left + right, hh = this.height + top + bottom;
    const img = makeCanvas(w, hh); img.getContext('2d').drawImage(this.imageCanvas, left, top);
    const mask = makeCanvas(w, hh); mask.getContext('2d').drawImage(this.maskCanvas, left, top);
    const next = { image: img, mask, transparent: true, rect: { ...this.imageRect, x: this.imageRect.x + left, y: this.imageRect.y + top }, w, h: hh };
    this._swapCanvases(next);
    // Keep the picture where it was on screen.
    if (!this.view.fitted) { this.view.x -= left * this.view.zoom; this.view.y -= top * this.view.zoom; }
    this._pushEntry({ type: 'extend', prev, next, bytes: 0 });
    this._changed('extend');
  }

  _swapCanvases(st) {
    st.image.className = 'me-image';
    st.image.setAttribute('aria-hidden', 'true');
    this.imageCanvas.replaceWith(st.image);
    this.imageCanvas = st.image; this.maskCanvas = st.mask;
    this.imageCtx = st.image.getContext('2d'); this.maskCtx = st.mask.getContext('2d');
    this.width = st.w; this.height = st.h; this.imageRect = { ...st.rect };
    this._transparent = st.transparent;
    this.lockCanvas.width = st.w; this.lockCanvas.height = st.h;
    this._rebuildLock();
    this.base.width = st.w; this.base.height = st.h;
    this._syncBase();
    this._sizeStage();
    if (this.view.fitted) this.fit(); else this._applyView();
  }

  _syncBase() {
    this.baseCtx.globalCompositeOperation = 'copy';
    this.baseCtx.drawImage(this.maskCanvas, 0, 0);
    this.baseCtx.globalCompositeOperation = 'source-over';
  }

  // ---------- export ----------
  /** The mask in the API convention: RGBA PNG, alpha 0 = change, 255 = keep.
   *  withImage: true gives the image's own pixels with the painted area cut out. */
  async exportMask({ withImage = false } = {}) {
    return canvasToBlob(this._maskCanvas(makeCanvas(this.width, this.height), withImage));
  }

  /** The mask's pixels as an ImageBitmap, handed over without a copy or an encode (a 12 MP
   *  PNG written only to be decoded again took most of a second); the caller closes it. */
  exportMaskBitmap() {
    if (typeof OffscreenCanvas === 'undefined') return null;
    return this._maskCanvas(new OffscreenCanvas(this.width, this.height), false).transferToImageBitmap();
  }

  _maskCanvas(out, withImage) {
    if (!this.width) throw new Error('No image loaded.');
    this._flush();
    const ctx = out.getContext('2d');
    if (withImage) ctx.drawImage(this.imageCanvas, 0, 0);
    else { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, this.width, this.height); }
    ctx.globalCompositeOperation = 'destination-out'; // alpha *= 1 - painted
    ctx.drawImage(this.maskCanvas, 0, 0);
    if (!withImage && this._transparent) {          // alpha *= image alpha (0 in extensions)
      ctx.globalCompositeOperation = 'destination-in';
      ctx.drawImage(this.imageCanvas, 0, 0);
    }
    return out;
  }

  async exportImage() {
    if (!this.width) throw new Error('No image loaded.');
    return canvasToBlob(this.imageCanvas);
  }

  // ---------- mask operations ----------
  clear() { this._fullOp('clear', (ctx) => ctx.clearRect(0, 0, this.width, this.height)); }
  fill() {
    this._fullOp('fill', (ctx) => { ctx.globalCompositeOperation = 'copy'; ctx.fillStyle = OVERLAY_CSS; ctx.fillRect(0, 0, this.width, this.height); ctx.globalCompositeOperation = 'source-over'; });
  }
  invert() {
    if (!this.width) return;
    this._flush();
    this._invertMask();
    this._pushEntry({ type: 'invert', bytes: 0 });
    this._changed('invert');
  }
  _invertMask() {
    const tmp = copyCanvas(this.maskCanvas);
    const ctx = this.maskCtx;
    ctx.globalCompositeOperation = 'copy';
    ctx.fillStyle = OVERLAY_CSS;
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.globalCompositeOperation = 'destination-out';
    ctx.drawImage(tmp, 0, 0);
    ctx.globalCompositeOperation = 'source-over';
    this._syncBase();
  }
  _fullOp(name, fn) {
    if (!this.width) return;
    this._flush();
    const before = copyCanvas(this.maskCanvas);
    fn(this.maskCtx);
    this._pushFull(name, before, null, fn);
    this._syncBase();
    this._changed(name);
  }
  _pushFull(name, before, after, redoFn) {
    this._pushEntry({ type: 'full', name, before, after, redoFn, bytes: this.width * this.height * 4 * (after ? 2 : 1) });
  }

  // ---------- history ----------
  _pushEntry(entry) {
    this._undo.push(entry);
    this._historyBytes += entry.bytes;
    for (const e of this._redo) this._historyBytes -= e.bytes;
    this._redo = [];
    while (this._undo.length > 1 && (this._historyBytes > HISTORY_BYTES || this._undo.length > HISTORY_STEPS)) {
      this._historyBytes -= this._undo.shift().bytes;
    }
    this._syncUI();
  }

  _apply(entry, forward) {
    const ctx = this.maskCtx;
    switch (entry.type) {
      case 'stroke': {
        const d = forward ? entry.after : entry.before;
        ctx.putImageData(d, entry.rect.x, entry.rect.y);
        this.baseCtx.putImageData(d, entry.rect.x, entry.rect.y);
        break;
      }
      case 'full':
        if (forward) {
          if (entry.after) { ctx.globalCompositeOperation = 'copy'; ctx.drawImage(entry.after, 0, 0); ctx.globalCompositeOperation = 'source-over'; }
          else entry.redoFn(ctx);
        } else {
          ctx.globalCompositeOperation = 'copy'; ctx.drawImage(entry.before, 0, 0); ctx.globalCompositeOperation = 'source-over';
        }
        this._syncBase();
        break;
      case 'invert': this._invertMask(); break;
      case 'extend': this._swapCanvases(forward ? entry.next : entry.prev); break;
    }
  }

  undo() {
    this._flush();
    const e = this._undo.pop();
    if (!e) return false;
    this._apply(e, false);
    this._redo.push(e);
    this._changed('undo');
    return true;
  }

  redo() {
    this._flush();
    const e = this._redo.pop();
    if (!e) return false;
    this._apply(e, true);
    this._undo.push(e);
    this._changed('redo');
    return true;
  }

  _changed(reason) {
    if (reason !== 'stroke') this._invalidate();
    this._syncUI();
    this.dispatchEvent(new CustomEvent('change', { detail: { reason, ...this.getState() } }));
  }

  getState() {
    return {
      width: this.width, height: this.height,
      imageRect: { ...this.imageRect },
      extended: this.width !== this.imageRect.w || this.height !== this.imageRect.h,
      canUndo: this._undo.length > 0, canRedo: this._redo.length > 0,
      undoSteps: this._undo.length, redoSteps: this._redo.length, historyBytes: this._historyBytes,
      zoom: this.view.zoom, pan: { x: this.view.x, y: this.view.y },
      painting: !!this._stroke,
      settings: { ...this.settings },
    };
  }

  /** Subscribe to mask changes; returns an unsubscribe function. */
  onChange(cb) {
    const fn = (e) => cb(e.detail);
    this.addEventListener('change', fn);
    return () => this.removeEventListener('change', fn);
  }

  // ---------- view ----------
  _applyView() {
    // Applied in the next frame, together with the overlay redraw, so the
    // image and the mask never show out of step.
    this._viewDirty = true;
    this._invalidate();
    this.ui.zoomLabel.textContent = `${Math.round(this.view.zoom * 100)}%`;
    this._updateCursorSize();
  }

  _applyViewNow() {
    const { zoom, x, y } = this.view;
    this.stage.style.transform = `translate(${x}px, ${y}px) scale(${zoom})`;
    // Crisp pixels when zoomed in; constant-size checkerboard on screen.
    this.stage.classList.toggle('me-pixelated', zoom >= 2);
    const cell = 8 / zoom;
    this.stage.style.backgroundSize = `${2 * cell}px ${2 * cell}px`;
    this.stage.style.backgroundPosition = `0 0, ${cell}px ${cell}px`;
    this.ui.zoomLabel.textContent = `${Math.round(zoom * 100)}%`;
    this._updateCursorSize();
  }

  fit() {
    const vw = this.viewport.clientWidth, vh = this.viewport.clientHeight;
    if (!this.width || !vw || !vh) { this.view.fitted = true; return; }
    const pad = 16;
    const z = clamp(Math.min((vw - 2 * pad) / this.width, (vh - 2 * pad) / this.height), MIN_ZOOM, MAX_ZOOM);
    this.view = { zoom: z, x: (vw - this.width * z) / 2, y: (vh - this.height * z) / 2, fitted: true };
    this._applyView();
  }

  /** Zoom to z keeping the image point under (clientX, clientY) — default the viewport centre — in place. */
  setZoom(z, clientX, clientY) {
    const r = this.viewport.getBoundingClientRect();
    const cx = clientX === undefined ? r.width / 2 : clientX - r.left;
    const cy = clientY === undefined ? r.height / 2 : clientY - r.top;
    const old = this.view.zoom;
    z = clamp(z, MIN_ZOOM, MAX_ZOOM);
    const ix = (cx - this.view.x) / old, iy = (cy - this.view.y) / old;
    this.view = { zoom: z, x: cx - ix * z, y: cy - iy * z, fitted: false };
    this._applyView();
  }
  zoomIn(cx, cy) { this.setZoom(this.view.zoom * 1.25, cx, cy); }
  zoomOut(cx, cy) { this.setZoom(this.view.zoom / 1.25, cx, cy); }
  panBy(dx, dy) { this.view.x += dx; this.view.y += dy; this.view.fitted = false; this._applyView(); }

  clientToImage(clientX, clientY) {
    const r = this._vpRect || this.viewport.getBoundingClientRect();
    return { x: (clientX - r.left - this.view.x) / this.view.zoom, y: (clientY - r.top - this.view.y) / this.view.zoom };
  }
  imageToClient(x, y) {
    const r = this.viewport.getBoundingClientRect();
    return { x: r.left + this.view.x + x * this.view.zoom, y: r.top + this.view.y + y * this.view.zoom };
  }

  _wheel(e) {
    e.preventDefault();
    if (!this.width) return;
    if (e.shiftKey && !e.ctrlKey) { this.panBy(-e.deltaY, -e.deltaX); return; }
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const factor = Math.exp(-e.deltaY * unit * (e.ctrlKey ? 0.01 : 0.0015));
    this.setZoom(this.view.zoom * factor, e.clientX, e.clientY);
  }

  // ---------- cursor ----------
  _updateCursorSize() {
    const d = Math.max(4, this.settings.size * this.view.zoom);
    this.cursor.style.width = `${d}px`;
    this.cursor.style.height = `${d}px`;
    this.cursor.style.marginLeft = `${-d / 2}px`;
    this.cursor.style.marginTop = `${-d / 2}px`;
  }
  _moveCursor(e) {
    const r = this._vpRect || this.viewport.getBoundingClientRect();
    this.cursor.style.display = (this._spaceDown || this._pan || e.pointerType === 'touch') ? 'none' : 'block';
    this.cursor.style.transform = `translate(${e.clientX - r.left}px, ${e.clientY - r.top}px)`;
  }
  _updateCursorStyle() {
    this.viewport.classList.toggle('me-panning', this._spaceDown || !!this._pan);
    this.viewport.classList.toggle('me-grabbing', !!this._pan);
  }

  // ---------- pointer input ----------
  _pointerDown(e) {
    if (!this.width) return;
    if (document.activeElement !== this.viewport) this.viewport.focus({ preventScroll: true });
    this._vpRect = this.viewport.getBoundingClientRect();
    if (e.pointerType === 'touch') {
      this._pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this._pointers.size === 2) { // second finger: pinch/pan instead of painting
        if (this._stroke) this._cancelStroke();
        this._pinch = this._pinchState();
        this._capture(e.pointerId);
        return;
      }
      if (this._pointers.size > 2) return;
    }
    const panButton = e.button === 1 || (e.button === 0 && this._spaceDown);
    if (panButton) {
      e.preventDefault();
      this._pan = { pointerId: e.pointerId, x: e.clientX, y: e.clientY };
      this._capture(e.pointerId);
      this._updateCursorStyle();
      return;
    }
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    if (this._stroke) return;
    e.preventDefault();
    this._capture(e.pointerId);
    const tool = e.pointerType === 'pen' && (e.buttons & 32) ? 'eraser' : this.settings.tool; // pen eraser end
    this._stroke = { pointerId: e.pointerId, tool, last: null, dirty: null, stamps: 0, events: 0 };
    this._moveCursor(e);
    this._enqueue(e);
  }

  _capture(id) {
    // Keeps the stroke when the pointer leaves the viewport; synthetic events
    // (tests, benchmarks) may carry an id the browser does not know.
    try { this.viewport.setPointerCapture(id); } catch { /* not an active pointer */ }
  }

  _pointerMove(e) {
    if (e.pointerType === 'touch' && this._pointers.has(e.pointerId)) {
      this._pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this._pinch) { this._pinchMove(); return; }
    }
    if (this._pan && e.pointerId === this._pan.pointerId) {
      this.panBy(e.clientX - this._pan.x, e.clientY - this._pan.y);
      this._pan.x = e.clientX; this._pan.y = e.clientY;
      return;
    }
    this._moveCursor(e);
    if (this._stroke && e.pointerId === this._stroke.pointerId) {
      const evs = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : null;
      if (evs && evs.length) for (const ce of evs) this._enqueue(ce); else this._enqueue(e);
      this._stroke.events++;
    }
  }

  _pointerUp(e, cancelled = false) {
    if (e.pointerType === 'touch') {
      this._pointers.delete(e.pointerId);
      if (this._pinch) { if (this._pointers.size < 2) this._pinch = null; return; }
    }
    if (this._pan && e.pointerId === this._pan.pointerId) {
      this._pan = null; this._updateCursorStyle(); return;
    }
    if (this._stroke && e.pointerId === this._stroke.pointerId) {
      if (cancelled) this._cancelStroke(); else { this._enqueue(e); this._endStroke(); }
    }
  }

  _pinchState() {
    const [a, b] = [...this._pointers.values()];
    return { dist: Math.hypot(a.x - b.x, a.y - b.y) || 1, cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, zoom: this.view.zoom };
  }
  _pinchMove() {
    const now = this._pinchState();
    const p = this._pinch;
    this.panBy(now.cx - p.cx, now.cy - p.cy);
    this.setZoom(p.zoom * now.dist / p.dist, now.cx, now.cy);
    this._pinch = { ...now, zoom: p.zoom, dist: p.dist };
  }

  _enqueue(e) {
    const p = this.clientToImage(e.clientX, e.clientY);
    let pressure = 1;
    if (e.pointerType === 'pen' && e.pressure > 0) pressure = clamp(e.pressure, 0.05, 1);
    this._queue.push(p.x, p.y, pressure);
    this._requestFrame();
  }

  _requestFrame() {
    if (!this._raf && !this._destroyed) this._raf = requestAnimationFrame(() => this._frame());
  }

  /** Redraw the overlay: all of it (rect omitted) or an image-space rect. */
  _invalidate(rect) {
    if (!rect) this._fullDirty = true;
    else {
      const d = this._frameDirty;
      this._frameDirty = d ? { x0: Math.min(d.x0, rect.x0), y0: Math.min(d.y0, rect.y0), x1: Math.max(d.x1, rect.x1), y1: Math.max(d.y1, rect.y1) } : { ...rect };
    }
    this._requestFrame();
  }

  _render() {
    const vp = this.viewport, dpr = globalThis.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(vp.clientWidth * dpr)), ch = Math.max(1, Math.round(vp.clientHeight * dpr));
    const ctx = this.displayCtx;
    if (this.display.width !== cw || this.display.height !== ch) {
      this.display.width = cw; this.display.height = ch;
      this.display.style.width = `${vp.clientWidth}px`; this.display.style.height = `${vp.clientHeight}px`;
      this._fullDirty = true;
    }
    const { zoom, x, y } = this.view;
    const s = zoom * dpr, ox = x * dpr, oy = y * dpr;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (this._fullDirty) {
      ctx.clearRect(0, 0, cw, ch);
    } else {
      // Device-pixel-aligned clip around the changed image rect: no seams.
      const d = this._frameDirty;
      const x0 = Math.max(0, Math.floor(ox + d.x0 * s) - 1), y0 = Math.max(0, Math.floor(oy + d.y0 * s) - 1);
      const x1 = Math.min(cw, Math.ceil(ox + d.x1 * s) + 1), y1 = Math.min(ch, Math.ceil(oy + d.y1 * s) + 1);
      if (x1 <= x0 || y1 <= y0) { ctx.restore(); return; }
      ctx.beginPath(); ctx.rect(x0, y0, x1 - x0, y1 - y0); ctx.clip();
      ctx.clearRect(x0, y0, x1 - x0, y1 - y0);
    }
    if (this.width) {
      ctx.setTransform(s, 0, 0, s, ox, oy);
      ctx.imageSmoothingEnabled = zoom < 2;
      if (this._transparent) ctx.drawImage(this.lockCanvas, 0, 0);
      ctx.drawImage(this.maskCanvas, 0, 0);
    }
    ctx.restore();
  }

  _frame() {
    this._raf = 0;
    const t0 = performance.now();
    if (this._viewDirty) { this._viewDirty = false; this._applyViewNow(); this._fullDirty = true; }
    const n = this._queue.length / 3;
    const stamps = this._paintQueue();
    if (this._fullDirty || this._frameDirty) this._render();
    this._fullDirty = false; this._frameDirty = null;
    if (n) this.dispatchEvent(new CustomEvent('render', { detail: { samples: n, stamps, ms: performance.now() - t0 } }));
  }

  // Draw queued samples now (also used before any operation reads the mask).
  _flush() {
    this._paintQueue(); // the frame already requested shows it
  }

  _stamp(radius, feather) {
    // One cached stamp per (diameter, feather): a disc with a smooth falloff
    // from radius*(1-feather) to radius; drawn scaled for pen pressure.
    const d = Math.max(1, Math.ceil(radius * 2));
    const key = `${d}:${feather.toFixed(2)}`;
    let c = this._stampCache.get(key);
    if (c) return c;
    if (this._stampCache.size > 64) this._stampCache.clear();
    const pad = 1;
    c = makeCanvas(d + 2 * pad, d + 2 * pad);
    const ctx = c.getContext('2d');
    const r = d / 2, cx = r + pad;
    if (feather <= 0.001) {
      ctx.fillStyle = OVERLAY_CSS;
      ctx.beginPath(); ctx.arc(cx, cx, r, 0, Math.PI * 2); ctx.fill();
    } else {
      const g = ctx.createRadialGradient(cx, cx, 0, cx, cx, r);
      const [R, G, B] = OVERLAY_RGB;
      const inner = 1 - feather;
      g.addColorStop(0, `rgba(${R},${G},${B},1)`);
      g.addColorStop(inner, `rgba(${R},${G},${B},1)`);
      for (let i = 1; i <= 6; i++) { // smoothstep falloff
        const t = i / 6, a = 1 - t * t * (3 - 2 * t);
        g.addColorStop(inner + (1 - inner) * t, `rgba(${R},${G},${B},${a.toFixed(4)})`);
      }
      ctx.fillStyle = g;
      ctx.beginPath(); ctx.arc(cx, cx, r, 0, Math.PI * 2); ctx.fill();
    }
    c._pad = pad;
    this._stampCache.set(key, c);
    return c;
  }

  _paintQueue() {
    const q = this._queue;
    const st = this._stroke;
    if (!q.length || !st) { q.length = 0; return 0; }
    const ctx = this.maskCtx;
    const baseR = this.settings.size / 2;
    const feather = this.settings.feather;
    const stamp = this._stamp(baseR, feather);
    ctx.globalCompositeOperation = st.tool === 'eraser' ? 'destination-out' : 'source-over';
    let count = 0;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    const put = (x, y, r) => {
      const s = (r * 2) / (stamp.width - 2 * stamp._pad); // scale for pressure
      const pad = stamp._pad * s;
      const dw = stamp.width * s;
      ctx.drawImage(stamp, x - r - pad, y - r - pad, dw, dw);
      count++;
      if (x - r - pad < minX) minX = x - r - pad;
      if (y - r - pad < minY) minY = y - r - pad;
      if (x + r + pad > maxX) maxX = x + r + pad;
      if (y + r + pad > maxY) maxY = y + r + pad;
    };
    for (let i = 0; i < q.length; i += 3) {
      const x = q[i], y = q[i + 1], r = Math.max(0.5, baseR * q[i + 2]);
      const last = st.last;
      if (!last) { put(x, y, r); st.last = { x, y, r, carry: 0 }; continue; }
      const dx = x - last.x, dy = y - last.y, dist = Math.hypot(dx, dy);
      const spacing = Math.max(0.5, Math.min(r, last.r) * (feather > 0.05 ? 0.15 : 0.25));
      let t = spacing - last.carry;
      while (t <= dist) {
        const k = t / dist;
        put(last.x + dx * k, last.y + dy * k, last.r + (r - last.r) * k);
        t += spacing;
      }
      st.last = { x, y, r, carry: dist - (t - spacing) };
    }
    ctx.globalCompositeOperation = 'source-over';
    q.length = 0;
    if (count) {
      const d = st.dirty;
      const x0 = Math.max(0, Math.floor(minX)), y0 = Math.max(0, Math.floor(minY));
      const x1 = Math.min(this.width, Math.ceil(maxX)), y1 = Math.min(this.height, Math.ceil(maxY));
      if (x1 > x0 && y1 > y0) {
        this._invalidate({ x0, y0, x1, y1 });
        st.dirty = d ? { x0: Math.min(d.x0, x0), y0: Math.min(d.y0, y0), x1: Math.max(d.x1, x1), y1: Math.max(d.y1, y1) }
          : { x0, y0, x1, y1 };
      }
      st.stamps += count;
    }
    return count;
  }

  _endStroke() {
    const st = this._stroke;
    if (!st) return;
    this._flush();
    this._stroke = null;
    const d = st.dirty;
    if (!d) return;
    const rect = { x: d.x0, y: d.y0, w: d.x1 - d.x0, h: d.y1 - d.y0 };
    const before = this.baseCtx.getImageData(rect.x, rect.y, rect.w, rect.h);
    const after = this.maskCtx.getImageData(rect.x, rect.y, rect.w, rect.h);
    this.baseCtx.putImageData(after, rect.x, rect.y);
    this._pushEntry({ type: 'stroke', rect, before, after, bytes: rect.w * rect.h * 8 });
    this._changed('stroke');
  }

  _cancelStroke() {
    const st = this._stroke;
    this._queue.length = 0;
    this._stroke = null;
    if (st && st.dirty) {
      const d = st.dirty;
      this.maskCtx.globalCompositeOperation = 'copy';
      this.maskCtx.drawImage(this.base, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
      this.maskCtx.globalCompositeOperation = 'source-over';
      this._invalidate();
    }
  }

  // ---------- keyboard (only while focus is inside the editor) ----------
  _keyDown(e) {
    const t = e.target;
    const typing = t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && !['range', 'button', 'checkbox'].includes(t.type)) || t.isContentEditable);
    if (typing) return;
    const mod = e.ctrlKey || e.metaKey;
    const k = e.key;
    let handled = true;
    if (mod && (k === 'z' || k === 'Z')) { if (e.shiftKey) this.redo(); else this.undo(); }
    else if (mod && (k === 'y' || k === 'Y')) this.redo();
    else if (mod || e.altKey) handled = false;
    else if (k === ' ' || k === 'Spacebar') {
      if (t && t.tagName === 'BUTTON') handled = false; // space activates buttons
      else { this._spaceDown = true; this._updateCursorStyle(); this.cursor.style.display = 'none'; }
    }
    else if (k === 'b' || k === 'B') this.setTool('brush');
    else if (k === 'e' || k === 'E') this.setTool('eraser');
    else if (k === 'x' || k === 'X') this.setTool(this.settings.tool === 'brush' ? 'eraser' : 'brush');
    else if (k === '[') this._stepSize(-1);
    else if (k === ']') this._stepSize(1);
    else if (k === '+' || k === '=') this.zoomIn();
    else if (k === '-' || k === '_') this.zoomOut();
    else if (k === 'f' || k === 'F' || k === '0') this.fit();
    else if (k === '1') this.setZoom(1);
    else if (k === 'i' || k === 'I') this.invert();
    else if (k === 'Delete' || k === 'Backspace') { if (e.shiftKey) this.fill(); else this.clear(); }
    else if (k === 'Escape' && this._stroke) this._cancelStroke();
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  }

  _keyUp(e) {
    if (e.key === ' ' || e.key === 'Spacebar') { this._spaceDown = false; this._updateCursorStyle(); }
  }

  destroy() {
    if (this._destroyed) return;
    this._destroyed = true;
    if (this._raf) cancelAnimationFrame(this._raf);
    for (const [el, type, fn, opts] of this._on) el.removeEventListener(type, fn, opts);
    if (this._ro) this._ro.disconnect();
    clearTimeout(this._statusTimer);
    this.root.remove();
    this._undo = []; this._redo = [];
  }
}

/** Create an editor in `container` (optionally loading `image`). Resolves to the editor. */
export async function createMaskEditor(container, options = {}) {
  const ed = new MaskEditor(container, options);
  if (options.image) await ed.loadImage(options.image);
  return ed;
}

// For hosts that load this file with a plain <script type="module"> (the
// Python glue does, so it works under a strict CSP without eval).
globalThis.ImagesynthMaskEditor = { MaskEditor, createMaskEditor, SETTINGS_KEY, VERSION };
globalThis.dispatchEvent?.(new Event('imagesynth-mask-editor-ready'));
