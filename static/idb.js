// IndexedDB, promise-shaped for Python (py/app/store.py). Storage only: no
// protocol logic, no rendering. Records are plain objects; images are Blobs.
//
// Version 2 layout (why three stores: the gallery lists hundreds of images and
// must not touch a single full-size one to do it):
//   images  id → {created, prompt, mime, width, height, params (JSON text),
//                 size, sha256, favourite, run, thumb (small WebP/JPEG Blob)}
//   full    id → {id, blob}   the image as received, read only on demand
//   runs    id → {started, page, prompt, settings (JSON text), n, state}
//           a generation in flight: written when it starts, removed when it
//           ends; one left "pending" by a page that died is an interrupted run.
const DB_NAME = "imagesynth";
const DB_VERSION = 2;
const IMAGES = "images";
const FULL = "full";
const RUNS = "runs";

let dbPromise = null;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx, value) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(typeof value === "function" ? value() : value);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("The browser refused to write to the image store."));
  });
}

export function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = (event) => {
        const db = req.result;
        const tx = req.transaction;
        let images;
        if (!db.objectStoreNames.contains(IMAGES)) {
          images = db.createObjectStore(IMAGES, { keyPath: "id", autoIncrement: true });
          images.createIndex("created", "created");
        } else {
          images = tx.objectStore(IMAGES);
        }
        if (!db.objectStoreNames.contains(FULL)) db.createObjectStore(FULL, { keyPath: "id" });
        if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS, { keyPath: "id", autoIncrement: true });
        if (event.oldVersion === 1) {
          // v1 kept the full image inside the record: move it to its own store.
          // Thumbnails for these records are made later, the first time they are shown.
          const full = tx.objectStore(FULL);
          images.openCursor().onsuccess = (e) => {
            const cursor = e.target.result;
            if (!cursor) return;
            const rec = cursor.value;
            if (rec.blob) {
              full.put({ id: rec.id, blob: rec.blob });
              delete rec.blob;
              cursor.update(rec);
            }
            cursor.continue();
          };
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = () => { dbPromise = null; reject(req.error); };
      req.onblocked = () => reject(new Error("The image store is open in another tab with an older version; close that tab."));
    });
  }
  return dbPromise;
}

// Resolves only when the transaction has committed: the image is on disk.
export async function putImage(record, blob) {
  const db = await open();
  const tx = db.transaction([IMAGES, FULL], "readwrite", { durability: "strict" });
  let id = null;
  const result = done(tx, () => id);
  const req = tx.objectStore(IMAGES).put(record);
  req.onsuccess = () => {
    id = req.result;
    if (blob) tx.objectStore(FULL).put({ id, blob });
  };
  return result;
}

export async function updateImage(id, fields) {
  const db = await open();
  const tx = db.transaction(IMAGES, "readwrite");
  const result = done(tx, true);
  const store = tx.objectStore(IMAGES);
  const req = store.get(id);
  req.onsuccess = () => {
    if (!req.result) return;
    store.put(Object.assign(req.result, fields));
  };
  return result;
}

// Metadata and thumbnails, newest first; never the full images.
export async function listImages(limit) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const out = [];
    const tx = db.transaction(IMAGES, "readonly");
    const req = tx.objectStore(IMAGES).index("created").openCursor(null, "prev");
    req.onsuccess = () => {
      const cursor = req.result;
      if (cursor && (!limit || out.length < limit)) { out.push(cursor.value); cursor.continue(); }
      else resolve(out);
    };
    req.onerror = () => reject(req.error);
  });
}

export async function getImage(id) {
  const db = await open();
  return request(db.transaction(IMAGES, "readonly").objectStore(IMAGES).get(id));
}

// The full image as received (a Blob), or null.
export async function getFull(id) {
  const db = await open();
  const row = await request(db.transaction(FULL, "readonly").objectStore(FULL).get(id));
  return row ? row.blob : null;
}

export async function deleteImages(ids) {
  const db = await open();
  const tx = db.transaction([IMAGES, FULL], "readwrite");
  const result = done(tx, true);
  for (const id of ids) {
    tx.objectStore(IMAGES).delete(id);
    tx.objectStore(FULL).delete(id);
  }
  return result;
}

export async function deleteImage(id) {
  return deleteImages([id]);
}

export async function countImages() {
  const db = await open();
  return request(db.transaction(IMAGES, "readonly").objectStore(IMAGES).count());
}

// ---------------------------------------------------------------- runs in flight
export async function putRun(run) {
  const db = await open();
  const tx = db.transaction(RUNS, "readwrite", { durability: "strict" });
  let id = null;
  const result = done(tx, () => id);
  const req = tx.objectStore(RUNS).put(run);
  req.onsuccess = () => { id = req.result; };
  return result;
}

export async function listRuns() {
  const db = await open();
  return request(db.transaction(RUNS, "readonly").objectStore(RUNS).getAll());
}

export async function deleteRun(id) {
  const db = await open();
  const tx = db.transaction(RUNS, "readwrite");
  const result = done(tx, true);
  tx.objectStore(RUNS).delete(id);
  return result;
}

// ---------------------------------------------------------------- page liveness
// Each page holds a Web Lock named after its token for as long as it lives, so
// a later page can tell a run whose page died from one another tab is running.
export function holdPageLock(token) {
  if (!navigator.locks) return false;
  navigator.locks.request("imagesynth-page-" + token, () => new Promise(() => {}));
  return true;
}

export async function livePages() {
  if (!navigator.locks || !navigator.locks.query) return null;
  const state = await navigator.locks.query();
  return (state.held || []).map((l) => String(l.name || "")).filter((n) => n.startsWith("imagesynth-page-"))
    .map((n) => n.slice("imagesynth-page-".length));
}

// ---------------------------------------------------------------- storage
export async function estimate() {
  if (navigator.storage && navigator.storage.estimate) return navigator.storage.estimate();
  return { usage: 0, quota: 0 };
}

export async function persist() {
  if (!navigator.storage || !navigator.storage.persist) return "unsupported";
  if (navigator.storage.persisted && await navigator.storage.persisted()) return "granted";
  return (await navigator.storage.persist()) ? "granted" : "denied";
}

export async function persisted() {
  if (!navigator.storage || !navigator.storage.persisted) return false;
  return navigator.storage.persisted();
}
