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
// loaded by main.py), and a call that asks for them gets them here all the same.
import { loadPyodide as load, version } from "../pyscript/pyodide/pyodide.mjs";

const io = { stdout: (s) => console.log(s), stderr: (s) => console.warn(s) };
const started = load({
  indexURL: new URL("../pyscript/pyodide/", import.meta.url).href,
  stdout: (s) => io.stdout(s),
  stderr: (s) => io.stderr(s),
});
started.catch(() => {}); // a failed start is reported by PyScript, which awaits this same promise

export { version };

export async function loadPyodide(options = {}) {
  if (options.stdout) io.stdout = options.stdout;
  if (options.stderr) io.stderr = options.stderr;
  const pyodide = await started;
  if (options.packages && options.packages.length) await pyodide.loadPackage(options.packages);
  return pyodide;
}
