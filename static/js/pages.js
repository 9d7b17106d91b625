// Small page behaviours, kept out of the templates because the Content-Security-Policy allows no
// inline script and no style="…" attribute:
// - an element with data-width="<0–100>" (a progress bar) gets that width in per cent;
// - a checkbox with data-ticks="<CSS selector>" ticks and unticks every checkbox the selector finds.
(function () {
  "use strict";

  function setWidths() {
    document.querySelectorAll("[data-width]").forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.width) || 0));
      bar.style.width = percent + "%";
    });
  }

  function wireTickAll() {
    document.querySelectorAll("input[type=checkbox][data-ticks]").forEach(function (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll(all.dataset.ticks).forEach(function (box) {
          box.checked = all.checked;
        });
      });
    });
  }

  setWidths();
  wireTickAll();
})();
