// pyodide.js with one change: the standard library as Pyodide's npm package ships it.
import { loadPyodide } from "../pyscript/pyodide/pyodide.mjs";

window.benchReady = (async () => {
  const pyodide = await loadPyodide({
    indexURL: new URL("../pyscript/pyodide/", import.meta.url).href,
    stdLibURL: new URL("npm/python_stdlib.zip", import.meta.url).href,
  });
  pyodide.runPython("1 + 1");
  const t = performance.now();
  window.pyodide = pyodide;
  document.body.setAttribute("data-ready", "1");
  document.getElementById("status").textContent = "ready";
  return t;
})();
