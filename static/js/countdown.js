// Live SLA countdowns: every element with data-due="<ISO 8601 UTC>" shows the time left, updated each
// second, in the words of the server's `time_left` filter (sla/templatetags/sla.py) and with the
// colour of its `urgency` filter, so the first paint and the live text agree. Change both together.
(function () {
  "use strict";

  var SOON_MS = 60 * 60 * 1000;
  var COLOURS = ["text-bg-success", "text-bg-warning", "text-bg-danger"];

  function span(ms) {
    var minutes = Math.floor(ms / 60000);
    var days = Math.floor(minutes / (24 * 60));
    minutes -= days * 24 * 60;
    var hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + (minutes < 10 ? "0" : "") + minutes + " min";
    return minutes + " min";
  }

  function timeLeft(delta) {
    return delta < 0 ? "late by " + span(-delta) : span(delta) + " left";
  }

  function urgency(delta) {
    if (delta < 0) return "text-bg-danger";
    return delta < SOON_MS ? "text-bg-warning" : "text-bg-success";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (element) {
      var due = Date.parse(element.getAttribute("data-due"));
      if (isNaN(due)) return;
      var delta = due - now;
      var text = timeLeft(delta);
      if (element.textContent !== text) element.textContent = text;
      var colour = urgency(delta);
      if (!element.classList.contains(colour)) {
        element.classList.remove.apply(element.classList, COLOURS);
        element.classList.add(colour);
      }
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
