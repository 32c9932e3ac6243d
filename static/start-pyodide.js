// Starts Pyodide from <head>, and hands that same Pyodide to PyScript when it asks.
//
// Why: PyScript calls loadPyodide() only once its own module chain has run (core.js,
// its hashed chunk, the config, the custom <script type="py"> element): ~110 ms warm,
// ~300 ms cold after a bare page would have started the same call. Pyodide's start
// (fetching and compiling the wasm, the stdlib, Python's own boot) does not depend on
// any of that, so this module starts it as soon as the page is parsed that far, and
// PyScript (pyscript.json "interpreter" names this file) gets the running start
// instead of a new one. PyScript keeps doing everything else: files, modules, main.py.
//
// PyScript passes stdout/stderr (its own I/O) and an indexURL derived from this file's
// location, which is not Pyodide's folder: the real one is fixed below. It would pass
// "packages" only if pyscript.json listed some; it lists none (Pillow, when served, is
// loaded by py/app/boot.py), and a call that asks for them gets them here all the same.
// Main thread only (it touches the page): a worker would need an interpreter of its own.
//
// It also says on the page, at once, when Python cannot start: with PyScript's error
// plugin off nothing else would, and shell.js only says "taking unusually long" after 45 s.

const indexURL = new URL("../pyscript/pyodide/", import.meta.url).href;
const io = { stdout: (s) => console.log(s), stderr: (s) => console.warn(s) };
let settled = false;
let problem = null; // the first thing that went wrong with the runtime's files, in its own words

function failed(why) {
  if (settled) return;
  const say = () => {
    const text = document.getElementById("boot-text");
    if (!text || !document.body.classList.contains("booting")) return;
    const line = String(problem || why || "unknown error").split("\n")[0].slice(0, 200).replace(/\.$/, "");
    text.textContent = `Python could not start in this browser (${line}). Reload the page; if it ` +
      "happens again, the site may be incomplete (rebuild it with “imagesynth build”) or the " +
      "browser may be blocking WebAssembly.";
    for (const id of ["generate", "about-status"]) {
      const node = document.getElementById(id);
      if (node) node.textContent = "Python did not start";
    }
    document.body.classList.add("boot-failed");
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", say, { once: true });
  else say();
}

// A runtime file that is missing surfaces as an unhandled rejection inside Pyodide (naming
// the file) before its start fails with a less telling "exit(1)". Only those are kept.
const noteProblem = (e) => {
  const msg = (e.reason && e.reason.message) || "";
  if (!settled && !problem && msg.includes(indexURL)) problem = msg;
};
window.addEventListener("unhandledrejection", noteProblem);

// A runtime file the server does not have. Needed for the wasm above all: Pyodide only prints
// that it could not compile it, and loadPyodide() never settles. Resource Timing's
// responseStatus (Chromium; elsewhere undefined, and shell.js's message stays the fallback).
let observer = null;
try {
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!settled && e.name.startsWith(indexURL) && e.responseStatus >= 400) {
        problem = `${e.name.slice(indexURL.length)} answered HTTP ${e.responseStatus}`;
        failed(problem);
      }
    }
  });
  observer.observe({ type: "resource", buffered: true });
} catch {
  // no PerformanceObserver for resources: the failures above still show when Pyodide rejects
}

// A snapshot of Python's start that an earlier visit saved on this device (snapshot-restore.js,
// preloaded by index.html): its read starts now, beside the import of Pyodide below. Imported,
// not a static import: without it, Python starts as it always did.
const snapshotting = import("./snapshot-restore.js").then(
  (restore) => ({ restore, snapshot: restore.openSnapshot(new URL("../", import.meta.url).href) }),
  (err) => {
    console.warn(`imagesynth: starting without a snapshot of Python's start (${err})`);
    return null;
  },
);

// Imported, not a static import: if pyodide.mjs itself is missing, this module still runs
// far enough to say so.
let pyodideModule;
try {
  pyodideModule = await import("../pyscript/pyodide/pyodide.mjs");
} catch (err) {
  failed((err && err.message) || String(err));
  throw err;
}

// PyScript's own Python package, compiled by the build (py/pyscript-bytecode.json, written
// by build/pyscript_pyc.py): PyScript writes the package's sources and imports them before
// main.py runs, which compiled them, ~60 ms of a cold start. Their pycs go into
// pyscript/__pycache__ first; checked-hash ones, so Python uses each only if it was made from
// the very source PyScript wrote, and compiles that source otherwise. Asked for now, beside
// Pyodide's own files; if it cannot be had, PyScript compiles as it always did.
const pyscriptBytecode = fetch(new URL("../py/pyscript-bytecode.json", import.meta.url))
  .then((r) => (r.ok ? r.json() : null))
  .catch(() => null);

function putPyscriptBytecode(pyodide, bytecode) {
  const { FS } = pyodide;
  try {
    for (const [path, b64] of Object.entries((bytecode && bytecode.files) || {})) {
      const full = `${FS.cwd()}/${path}`;
      FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
      // Uint8Array.fromBase64 where the browser has it (Chromium 140+, Firefox 133+, Safari 18.2+)
      const bytes = Uint8Array.fromBase64 ? Uint8Array.fromBase64(b64)
        : Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      FS.writeFile(full, bytes);
    }
  } catch (err) {
    console.warn(`imagesynth: PyScript's bytecode was not used (${err}); it compiles its sources instead`);
  }
}

// Pyodide without JSPI (WebAssembly stack switching), as in browsers that lack it: Pyodide
// turns it on when it sees WebAssembly.Suspending, and then runs Python's calls from
// JavaScript on secondary stacks. Chromium's sampling heap profiler, which Chrome switches on
// in a share of browser sessions, walks the stack by frame pointers up to the thread's real
// stack end, and reads past a secondary stack into its guard page: the tab crashes ("Aw,
// Snap!"), again and again in such a session. With that profiler forced on, the app's edit
// and generate tests (30) crashed 40 times with JSPI, 11 of them still failing after two
// reruns, and not once without it (test_app_chromium.py keeps it so; the tests' browser has the
// profiler off besides, playwright/chromium.py). The app needs nothing of JSPI
// (it never blocks on a promise: no run_sync). Hidden only while Pyodide starts, which is
// when it looks.
const suspending = Object.getOwnPropertyDescriptor(WebAssembly, "Suspending");
if (suspending) delete WebAssembly.Suspending;
const restoreSuspending = () => {
  if (suspending && !("Suspending" in WebAssembly)) Object.defineProperty(WebAssembly, "Suspending", suspending);
};
const options = { indexURL, stdout: (s) => io.stdout(s), stderr: (s) => io.stderr(s) };
async function startPython() {
  let snap = null;
  try {
    snap = await snapshotting;
    const restored = snap && (await snap.restore.startFromSnapshot(snap.snapshot, pyodideModule.loadPyodide, options));
    if (restored) return restored;
  } catch (err) {
    // whatever went wrong with a snapshot, Python starts as it always did
    console.warn(`imagesynth: starting without a snapshot of Python's start (${err})`);
    snap = null;
  }
  document.documentElement.dataset.pythonStart = "fresh";
  const pyodide = await pyodideModule.loadPyodide(options);
  if (snap) snap.restore.saveForNextVisit(snap.snapshot, indexURL, new URL("snapshot-worker.js", import.meta.url).href);
  return pyodide;
}
const started = startPython();
// PyScript awaits this same promise and logs a failure to the console; the page says it.
started.then(
  () => {
    restoreSuspending();
    settled = true;
    if (observer) observer.disconnect();
    window.removeEventListener("unhandledrejection", noteProblem);
  },
  (err) => {
    restoreSuspending();
    failed((err && err.message) || String(err));
  },
);

export const version = pyodideModule.version;

export async function loadPyodide(options = {}) {
  if (options.stdout) io.stdout = options.stdout;
  if (options.stderr) io.stderr = options.stderr;
  const pyodide = await started;
  putPyscriptBytecode(pyodide, await pyscriptBytecode);
  if (options.packages && options.packages.length) await pyodide.loadPackage(options.packages);
  return pyodide;
}
