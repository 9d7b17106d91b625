// Small page behaviours, kept out of the templates because the Content-Security-Policy allows no
// inline script and no style="…" attribute: an element with data-width="<0–100>" (a progress bar)
// gets that width in per cent. (The lead list's tick-all lives in lead_list.js.)
(function () {
  "use strict";

  document.querySelectorAll("[data-width]").forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.width) || 0));
    bar.style.width = percent + "%";
  });
})();
