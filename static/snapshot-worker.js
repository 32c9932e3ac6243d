// Makes the snapshot of Python's start that static/snapshot-restore.js restores on later visits
// (py/imagesynth/build/snapshot.py says why; static/snapshot-save.js starts this worker).
//
// A worker, so the page never waits for it, and a Pyodide of its own, so the snapshot holds
// nothing of the page's: no key, no prompt, no image; the page's Python is never touched.
// It must reach the state the page's own start reaches: the same Pyodide with the same options
// (start-pyodide.js passes only indexURL and the output callbacks), JSPI hidden as there, then
// the start-up stdlib modules the build listed, imported. Pyodide keeps each JavaScript object
// Python holds by its path from globalThis (setTimeout, fetch ...), so the page's own globals
// take their place on restore; makeMemorySnapshot() refuses a state it could not restore.

import { loadPyodide } from "../pyscript/pyodide/pyodide.mjs";
import { isEntryOf, packSnapshot } from "./snapshot-restore.js";

const IMPORTS = `
import importlib, json, sys
for name in json.loads(NAMES):
    try:
        importlib.import_module(name)
    except BaseException:  # listed by the build as loaded in the page; not importable here
        pass
del NAMES
# loadPyodide() puts "" first on sys.path, and does so again after restoring: once is enough
if sys.path and sys.path[0] == "":
    del sys.path[0]
# an extension module from a shared library lives outside the memory a snapshot holds
json.dumps([n for n, m in list(sys.modules.items()) if str(getattr(m, "__file__", None) or "").endswith(".so")])
`;

async function make({ key, manifestURL, indexURL, cacheName, entryURL, siteURL }) {
  const manifest = await (await fetch(manifestURL, { cache: "no-cache" })).json();
  if (manifest.key !== key) throw new Error("the site was rebuilt since this page loaded");
  delete WebAssembly.Suspending; // Pyodide without JSPI, as start-pyodide.js starts the page's
  const pyodide = await loadPyodide({
    indexURL,
    _makeSnapshot: true,
    stdout: (s) => console.log(s),
    stderr: (s) => console.warn(s),
  });
  pyodide.globals.set("NAMES", JSON.stringify(manifest.modules));
  const shared = JSON.parse(pyodide.runPython(IMPORTS));
  if (shared.length) throw new Error(`modules from shared libraries were loaded (${shared.join(", ")})`);
  const snapshot = pyodide.makeMemorySnapshot();
  const packed = packSnapshot(snapshot);
  const cache = await caches.open(cacheName);
  await cache.put(entryURL, new Response(packed, { headers: { "content-type": "application/octet-stream" } }));
  // An older runtime's snapshot of this same site can never be used again.
  for (const request of await cache.keys()) {
    if (request.url !== entryURL && isEntryOf(siteURL, request.url)) await cache.delete(request);
  }
  return { length: snapshot.length, bytes: packed.length };
}

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ ok: true, ...(await make(data)) });
  } catch (err) {
    self.postMessage({ ok: false, error: String((err && err.message) || err).split("\n")[0] });
  }
};
