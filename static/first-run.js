// Runs in <head>, before anything is painted: marks a first visit (no saved connection) on
// <html>, so the "Where do images come from?" card is in the very first frame instead of
// appearing a frame later and pushing the prompt box down while someone starts typing.
// static/shell.js, at the end of <body>, then shows the card for real and drops the mark.
(function () {
  "use strict";
  var saved = null;
  try { saved = window.localStorage.getItem("imagesynth.connection"); } catch (e) { /* storage blocked */ }
  if (!saved) document.documentElement.classList.add("first-run");
})();
