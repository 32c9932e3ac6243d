// The only JavaScript the shell needs before Python is ready: show the first
// screen when nothing is configured yet, and say so if Python never starts.
// Everything else (settings, generation, views) is Python in py/app/.
(function () {
  "use strict";
  var saved = null;
  try { saved = window.localStorage.getItem("imagesynth.connection"); } catch (e) { /* storage blocked */ }
  if (!saved) {
    var connect = document.getElementById("connect");
    if (connect) connect.hidden = false;
    var toggle = document.getElementById("open-connect");
    if (toggle) toggle.setAttribute("aria-expanded", "true");
  }
  document.documentElement.classList.remove("first-run");  // static/first-run.js: the card is shown now
  var started = Date.now();
  var timer = window.setInterval(function () {
    if (!document.body.classList.contains("booting")) { window.clearInterval(timer); return; }
    var secs = Math.round((Date.now() - started) / 1000);
    if (secs >= 45) {
      var text = document.getElementById("boot-text");
      if (text) text.textContent = "Python is taking unusually long to start (" + secs +
        " s). If this does not change, reload the page; the browser may be out of memory or blocking WebAssembly.";
    }
  }, 1000);
})();
