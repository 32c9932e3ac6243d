// The only JavaScript the shell needs before Python is ready: say the first screen's
// connection card is open (index.html's inline script in <head> has shown it from the first
// frame, by a class on <html>; py/app/connect.py takes it over), and say so if Python never starts.
// Everything else (settings, generation, views) is Python in py/app/.
(function () {
  "use strict";
  if (document.documentElement.classList.contains("first-run")) {
    var toggle = document.getElementById("open-connect");
    if (toggle) toggle.setAttribute("aria-expanded", "true");
  }
  var started = Date.now();
  var timer = window.setInterval(function () {
    var body = document.body.classList;  // ready, or start-pyodide.js has said why not
    if (!body.contains("booting") || body.contains("boot-failed")) { window.clearInterval(timer); return; }
    var secs = Math.round((Date.now() - started) / 1000);
    if (secs >= 45) {
      var text = document.getElementById("boot-text");
      if (text) text.textContent = "Python is taking unusually long to start (" + secs +
        " s). If this does not change, reload the page; the browser may be out of memory or blocking WebAssembly.";
    }
  }, 1000);
})();
