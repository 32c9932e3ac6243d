// Starts Python from the snapshot of its start that an earlier visit saved on this device, for
// this very runtime (py/imagesynth/build/snapshot.py says why; static/snapshot-save.js saves
// it). Used by static/start-pyodide.js.
//
// The build names the runtime in a <meta>; snapshot-save.js notes in localStorage that one is
// saved, and how long it is. Without that note (no snapshot yet, an older index.html, a page
// served over plain http from another machine: no Cache Storage) nothing here touches the
// Cache Storage, whose first open alone took 35-125 ms, and the start is as it always was.
// With it, the read of the snapshot (~15 MB) starts at once, beside the import of Pyodide, and
// goes into the buffer Pyodide is given: Pyodide needs only its length before it instantiates
// the wasm, and its bytes once that is done, so the read and the instantiation run side by side.
//
// What happened is on <html data-python-start> ("snapshot" or "fresh"); a snapshot that does
// not restore is deleted, and not made again for this runtime (<html data-snapshot="skipped">).

export const SNAPSHOT_CACHE = "imagesynth-runtime";

const ENTRY = /^py\/runtime-snapshot-[0-9a-f]+\.bin$/;

// Run in the restored Python: the state is the saving visit's, so what is random in it is too.
// The stdlib zip is read through the snapshot's own table of its entries (os's file): one that
// does not fit the served zip fails here, and the page starts afresh, instead of failing at a
// later import. Directory listings the import system cached in the saving worker are of its
// files, not the page's: dropped (importlib.invalidate_caches() would also re-read the stdlib
// zip's table, ~45 ms, and it is the same served zip).
const AFTER_RESTORE = `
import importlib.machinery, sys
for finder in list(sys.path_importer_cache.values()):
    if isinstance(finder, importlib.machinery.FileFinder):
        finder.invalidate_caches()
if "random" in sys.modules:
    sys.modules["random"].seed()
if ".zip/" in (getattr(sys.modules["os"], "__file__", None) or ""):
    sys.modules["os"].__loader__.get_data(sys.modules["os"].__file__)
`;

// The saved snapshot is not the one the note names (gone, or another): a new one is made.
class NotTheNoted extends Error {}

// The note snapshot-save.js keeps: {key, length} once saved, {key, failed: true} once one of
// this runtime did not restore here (whatever failed would fail again, and each try costs a
// visit's worth of work; a rebuilt site, a new key, tries anew). One per site, so that two
// builds served from one origin do not take turns replacing each other's.
export function noteName(siteURL) {
  return `imagesynth.snapshot ${siteURL}`;
}

export function readNote(siteURL) {
  try {
    return JSON.parse(localStorage.getItem(noteName(siteURL)) || "null") || {};
  } catch {
    return {};
  }
}

export function writeNote(siteURL, note) {
  try {
    if (note) localStorage.setItem(noteName(siteURL), JSON.stringify(note));
    else localStorage.removeItem(noteName(siteURL));
  } catch {
    // storage off: the next visit starts as this one did
  }
}

// Whether a cache entry is a snapshot of this site (of any runtime), not of another site here.
export function isEntryOf(siteURL, url) {
  return url.startsWith(siteURL) && ENTRY.test(url.slice(siteURL.length));
}

// How a snapshot is stored, both ways here: without its all-zero pages, about half of Pyodide's
// memory, because the page reads it on its way to Python and 15 MB are read sooner than 31.
// Layout, little-endian u32s: magic "ISNP", format 1, the snapshot's length, the page size; then
// a byte per page (1: stored), padded to 8; then the stored pages in order.
const MAGIC = 0x504e5349;
const FORMAT = 1;
const PAGE = 65536;

// In static/snapshot-worker.js, which saves it.
export function packSnapshot(snapshot) {
  const pages = Math.ceil(snapshot.length / PAGE);
  const flags = new Uint8Array(pages);
  let stored = 0;
  for (let p = 0; p < pages; p++) {
    const start = p * PAGE;
    const end = Math.min(start + PAGE, snapshot.length);
    // whole pages are 8-aligned: compared 8 bytes at a time; the last one's tail byte by byte
    const words = new BigUint64Array(snapshot.buffer, snapshot.byteOffset + start, (end - start) >> 3);
    let zero = words.every((w) => w === 0n);
    for (let i = start + words.length * 8; zero && i < end; i++) zero = snapshot[i] === 0;
    if (!zero) {
      flags[p] = 1;
      stored += end - start;
    }
  }
  const head = 16 + Math.ceil(pages / 8) * 8;
  const out = new Uint8Array(head + stored);
  new Uint32Array(out.buffer, 0, 4).set([MAGIC, FORMAT, snapshot.length, PAGE]);
  out.set(flags, 16);
  let at = head;
  for (let p = 0; p < pages; p++) {
    if (!flags[p]) continue;
    const page = snapshot.subarray(p * PAGE, Math.min((p + 1) * PAGE, snapshot.length));
    out.set(page, at);
    at += page.length;
  }
  return out;
}

// Read back into `target` (zeroed: the pages left out are already there).
function unpackInto(buffer, target) {
  if (buffer.byteLength < 16) throw new Error("not a snapshot this page can read");
  const [magic, format, length, page] = new Uint32Array(buffer, 0, 4);
  if (magic !== MAGIC || format !== FORMAT) throw new Error("not a snapshot this page can read");
  if (length !== target.length) throw new NotTheNoted("the saved snapshot is not the one noted");
  const pages = Math.ceil(length / page);
  const flags = new Uint8Array(buffer, 16, pages);
  let at = 16 + Math.ceil(pages / 8) * 8;
  for (let p = 0; p < pages; p++) {
    if (!flags[p]) continue;
    const size = Math.min(page, length - p * page);
    if (at + size > buffer.byteLength) break;
    target.set(new Uint8Array(buffer, at, size), p * page);
    at += size;
  }
  if (at !== buffer.byteLength) throw new Error("the saved snapshot is incomplete");
}

// Call as soon as the page runs: what this page has of a snapshot, its read already started.
export function openSnapshot(siteURL) {
  const key = document.querySelector('meta[name="imagesynth-snapshot"]')?.content || null;
  if (!key) return null;
  const url = new URL(`py/runtime-snapshot-${key}.bin`, siteURL).href;
  const note = readNote(siteURL);
  const snapshot = { key, url, siteURL, failed: note.key === key && note.failed === true, read: null };
  if (note.key === key && note.length !== undefined && self.caches) {
    let target;
    try {
      if (!Number.isSafeInteger(note.length) || note.length <= 0) throw new RangeError("no such length");
      target = new Uint8Array(note.length);
    } catch {
      writeNote(siteURL, null); // a note that names no possible snapshot: a new one will be made
      return snapshot;
    }
    const filled = (async () => {
      const saved = await (await caches.open(SNAPSHOT_CACHE)).match(url);
      if (!saved) throw new NotTheNoted("no saved snapshot (the site's storage was cleared?)");
      unpackInto(await saved.arrayBuffer(), target);
    })();
    filled.catch(() => {}); // awaited in startFromSnapshot(); a failure there starts Python afresh
    snapshot.read = { target, filled };
  }
  return snapshot;
}

// Python started from the snapshot, or null (then start afresh: nothing of this is left behind).
export async function startFromSnapshot(snapshot, loadPyodide, options) {
  if (!snapshot || !snapshot.read) return null;
  const { target, filled } = snapshot.read;
  try {
    const pyodide = await loadPyodide({
      ...options,
      _loadSnapshot: target,
      // Pyodide's own module factory (what loadPyodide imports when not given one), made to
      // finish only once the snapshot is read: Pyodide copies it into its memory right after.
      createPyodideModule: async (settings) => {
        const { default: create } = await import(`${options.indexURL}pyodide.asm.mjs`);
        const module = await create(settings);
        await filled;
        return module;
      },
    });
    pyodide.runPython(AFTER_RESTORE);
    document.documentElement.dataset.pythonStart = "snapshot";
    return pyodide;
  } catch (err) {
    if (err instanceof NotTheNoted) {
      writeNote(snapshot.siteURL, null); // made again once this visit is idle
    } else {
      console.warn(`imagesynth: the saved snapshot of Python's start did not restore (${err}); starting afresh`);
      writeNote(snapshot.siteURL, { key: snapshot.key, failed: true });
      snapshot.failed = true;
      caches.open(SNAPSHOT_CACHE).then((c) => c.delete(snapshot.url)).catch(() => {});
    }
    return null;
  }
}

// After a fresh start: have a snapshot saved for the next visit, once this one is idle.
export function saveForNextVisit(snapshot, indexURL, workerURL) {
  if (!snapshot) return;
  const root = document.documentElement;
  if (snapshot.failed) {
    root.dataset.snapshot = "skipped";
    root.dataset.snapshotNote = "one made here earlier did not restore";
    return;
  }
  if (!self.caches || !self.Worker) return;
  import("./snapshot-save.js")
    .then((m) => m.saveLater({ ...snapshot, indexURL, workerURL, cacheName: SNAPSHOT_CACHE }))
    .catch((err) => console.info(`imagesynth: no snapshot of Python's start will be saved (${err})`));
}
