// The whole baseline: loadPyodide() from the site's own runtime, then a first Python call.
import { loadPyodide } from "../pyscript/pyodide/pyodide.mjs";

window.benchReady = (async () => {
  const pyodide = await loadPyodide({ indexURL: new URL("../pyscript/pyodide/", import.meta.url).href });
  pyodide.runPython("1 + 1");
  const t = performance.now();
  window.pyodide = pyodide;
  document.body.setAttribute("data-ready", "1");
  document.getElementById("status").textContent = "ready";
  return t;
})();
