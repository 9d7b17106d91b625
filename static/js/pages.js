// Small page behaviours, kept out of the templates because the Content-Security-Policy allows no
// inline script and no style="…" attribute: an element with data-width="<0–100>" (a progress bar)
// gets that width in per cent; a bulk button with data-needs-ticks="<checkbox selector>" is disabled
// while none of those boxes in its form is ticked (the server still refuses an empty bulk with a
// message, for a browser without script). (The lead list's tick-all lives in lead_list.js.)
(function () {
  "use strict";

  document.querySelectorAll("[data-width]").forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.width) || 0));
    bar.style.width = percent + "%";
  });

  document.querySelectorAll("button[data-needs-ticks]").forEach(function (button) {
    var form = button.form;
    var selector = button.dataset.needsTicks;
    function update() {
      button.disabled = !form.querySelector(selector + ":checked");
    }
    // "change" bubbles from every box, including those ticked all at once by a "tick every" box.
    form.addEventListener("change", update);
    update();
  });
})();
