// Runs in <head>, before anything is painted: marks a first visit (no saved connection) on
// <html>, so the "Where do images come from?" card is in the very first frame instead of
// appearing a frame later and pushing the prompt box down while someone starts typing.
// py/app/connect.py takes the card over when Python starts (the hidden attribute rules from
// then on); changing it here again would cost the first frame a second layout.
(function () {
  "use strict";
  var saved = null;
  try { saved = window.localStorage.getItem("imagesynth.connection"); } catch (e) { /* storage blocked */ }
  if (!saved) document.documentElement.classList.add("first-run");
})();
