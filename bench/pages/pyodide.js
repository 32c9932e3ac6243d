// The whole baseline: loadPyodide() from the site's own runtime, then a first Python call.
// ?stdlib=npm: the standard library as Pyodide's npm package ships it (sources only), copied
// to npm/ by bench/run.py, for the rows that compare with a plain Pyodide page.
import { loadPyodide } from "../pyscript/pyodide/pyodide.mjs";

const npmStdlib = new URLSearchParams(location.search).get("stdlib") === "npm";

window.benchReady = (async () => {
  const pyodide = await loadPyodide({
    indexURL: new URL("../pyscript/pyodide/", import.meta.url).href,
    ...(npmStdlib ? { stdLibURL: new URL("npm/python_stdlib.zip", import.meta.url).href } : {}),
  });
  pyodide.runPython("1 + 1");
  const t = performance.now();
  window.pyodide = pyodide;
  document.body.setAttribute("data-ready", "1");
  document.getElementById("status").textContent = "ready";
  return t;
})();
