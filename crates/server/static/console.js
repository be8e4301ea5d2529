// Bulwark console: live countdowns to deadlines. No framework, no inline
// script (the pages' Content-Security-Policy allows only this file).
"use strict";
(function () {
  function left(ms) {
    var past = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    var text = (d ? d + " d " : "") + h + " h " + m + " min";
    return past ? "overdue by " + text : "in " + text;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (t) {
      var at = Date.parse(t.getAttribute("datetime"));
      if (!isNaN(at)) {
        // Keep the date readable beside the countdown (not only in a tooltip).
        if (!t.dataset.at) { t.dataset.at = new Date(at).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }
        t.textContent = left(at - now) + " (" + t.dataset.at + ")";
        t.classList.toggle("overdue", at < now);
      }
    });
  }
  // On a narrow screen a wide table scrolls within itself: make it reachable
  // by keyboard so its hidden columns can be scrolled to.
  function scrollables() {
    document.querySelectorAll("table").forEach(function (t) {
      if (t.scrollWidth > t.clientWidth + 1) {
        t.setAttribute("tabindex", "0");
      } else {
        t.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick(); scrollables(); setInterval(tick, 30000);
    window.addEventListener("resize", scrollables);
  });
})();
