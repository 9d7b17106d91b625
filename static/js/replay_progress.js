// A replay's progress bar: poll the small JSON endpoint at data-progress-url every two seconds and
// move the bar; when the worker is done, reload the page, which then shows the stored report.
(function () {
  "use strict";

  var box = document.getElementById("replay-progress");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (progress) {
        if (progress.finished) {
          window.location.reload();
          return;
        }
        bar.value = progress.percent;
        bar.textContent = progress.percent + " %";
        box.querySelector(".replay-status").textContent = progress.label;
        box.querySelector(".replay-done").textContent = progress.done;
        box.querySelector(".replay-total").textContent = progress.total;
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
