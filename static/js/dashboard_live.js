// The SLA dashboard's live part: every few seconds, fetch the fragment at data-live-url and swap it
// in, without reloading the page. Countdowns keep ticking in between (countdown.js reads [data-due]
// on each tick, so new rows count down too). A failed fetch leaves the last figures and says so.
(function () {
  "use strict";

  var box = document.getElementById("dashboard-live");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-live-url");
  var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 10;
  var busy = false;

  function stale(message) {
    var note = box.querySelector(".dashboard-live-stale");
    if (!note) {
      note = document.createElement("p");
      note.className = "dashboard-live-stale small text-danger mb-2";
      box.insertBefore(note, box.firstChild);
    }
    note.textContent = message;
  }

  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
      })
      .catch(function () {
        stale("Could not refresh; these figures may be out of date.");
      })
      .finally(function () {
        busy = false;
      });
  }

  window.setInterval(refresh, seconds * 1000);
})();
