// IndexedDB, promise-shaped for Python (py/app/store.py). Storage only: no
// protocol logic, no rendering. Records are plain objects; images are Blobs.
const DB_NAME = "imagesynth";
const DB_VERSION = 1;
const IMAGES = "images";

let dbPromise = null;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(IMAGES)) {
          const store = db.createObjectStore(IMAGES, { keyPath: "id", autoIncrement: true });
          store.createIndex("created", "created");
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => { dbPromise = null; reject(req.error); };
      req.onblocked = () => reject(new Error("The image store is open in another tab with an older version; close that tab."));
    });
  }
  return dbPromise;
}

// Resolves only when the transaction has committed: the image is on disk.
export async function putImage(record) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(IMAGES, "readwrite", { durability: "strict" });
    let id = null;
    const req = tx.objectStore(IMAGES).put(record);
    req.onsuccess = () => { id = req.result; };
    tx.oncomplete = () => resolve(id);
    tx.onerror = () => reject(tx.error || req.error);
    tx.onabort = () => reject(tx.error || new Error("The browser refused to save the image."));
  });
}

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

export async function deleteImage(id) {
  const db = await open();
  return request(db.transaction(IMAGES, "readwrite").objectStore(IMAGES).delete(id));
}

export async function countImages() {
  const db = await open();
  return request(db.transaction(IMAGES, "readonly").objectStore(IMAGES).count());
}

export async function estimate() {
  if (navigator.storage && navigator.storage.estimate) return navigator.storage.estimate();
  return { usage: 0, quota: 0 };
}
