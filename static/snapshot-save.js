// Saves a snapshot of Python's start on this device, for static/snapshot-restore.js to start
// from on later visits (py/imagesynth/build/snapshot.py says why). Imported only after a start
// that had none to use, so the first screen never loads this file.
//
// Once per runtime, and only when the page has nothing else to do: after the controls are wired
// (body[data-wired]) and some seconds of quiet, a worker (static/snapshot-worker.js) boots a
// Pyodide of its own and saves the snapshot (~15 MB) in Cache Storage; then the note in
// localStorage tells the next visit it is there. Never where storage is short: the user's
// images live in the same origin's quota, and they come first.
//
// What happened is on <html data-snapshot> ("waiting", "making", "saved", "skipped", "failed")
// with the reason in data-snapshot-note: the About panel says it, tests and the bench wait on it.

import { writeNote } from "./snapshot-restore.js";

const QUIET_MS = 3000; // after the controls come alive: a first visit's first clicks come first
const MIN_FREE_BYTES = 512 * 1024 * 1024; // left for images after the snapshot, or none is saved

const root = document.documentElement;

function say(state, note = "") {
  root.dataset.snapshot = state;
  if (note) root.dataset.snapshotNote = note;
  else delete root.dataset.snapshotNote;
}

function whenWired() {
  return new Promise((resolve) => {
    if (document.body.hasAttribute("data-wired")) return resolve();
    const seen = new MutationObserver(() => {
      if (document.body.hasAttribute("data-wired")) {
        seen.disconnect();
        resolve();
      }
    });
    seen.observe(document.body, { attributes: true, attributeFilter: ["data-wired"] });
  });
}

function quiet() {
  return new Promise((resolve) => setTimeout(() => {
    if (self.requestIdleCallback) requestIdleCallback(() => resolve(), { timeout: 5000 });
    else resolve();
  }, QUIET_MS));
}

async function roomFor() {
  if (!navigator.storage || !navigator.storage.estimate) return true;
  const { quota, usage } = await navigator.storage.estimate();
  return quota === undefined || usage === undefined || quota - usage >= MIN_FREE_BYTES;
}

function runWorker(workerURL, message) {
  return new Promise((resolve) => {
    const worker = new Worker(workerURL, { type: "module", name: "imagesynth: snapshot of Python's start" });
    const done = (result) => {
      worker.terminate();
      resolve(result);
    };
    worker.onmessage = ({ data }) => done(data);
    worker.onerror = (e) => {
      e.preventDefault();
      done({ ok: false, error: e.message || "the worker stopped" });
    };
    worker.postMessage(message);
  });
}

export async function saveLater({ key, url, siteURL, indexURL, workerURL, cacheName }) {
  say("waiting");
  try {
    await whenWired();
    await quiet();
    if (!(await roomFor())) {
      say("skipped", "less than 512 MB of this site's storage is free: kept for your images");
      return;
    }
    say("making");
    const manifestURL = new URL("py/runtime-snapshot.json", siteURL).href;
    const result = await runWorker(workerURL, { key, manifestURL, indexURL, cacheName, entryURL: url, siteURL });
    if (result.ok) {
      writeNote(siteURL, { key, length: result.length });
      say("saved", `${(result.bytes / 1048576).toFixed(0)} MB`);
    } else {
      say("failed", result.error);
      console.info(`imagesynth: no snapshot of Python's start was saved (${result.error}); ` +
        "the page starts as it did, only not faster on the next visit");
    }
  } catch (err) {
    say("failed", String((err && err.message) || err));
  }
}
