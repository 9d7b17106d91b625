// Small page behaviours, kept out of the templates because the Content-Security-Policy allows no
// inline script and no style="…" attribute: an element with data-width="<0–100>" (a progress bar)
// gets that width in per cent; a bulk button with data-needs-ticks="<checkbox selector>" is disabled
// while none of those boxes in its form is ticked (the server still refuses an empty bulk with a
// message, for a browser without script). (The lead list's tick-all lives in lead_list.js.)
// Wide tables: every `.table-responsive` that holds more than it shows gets a scroll cue, a shade at
// the edge with more columns and a line saying so, kept up to date as the box scrolls or resizes.
(function () {
  "use strict";

  document.querySelectorAll("[data-width]").forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.width) || 0));
    bar.style.width = percent + "%";
  });

  function cue(box) {
    var frame = document.createElement("div");
    frame.className = "table-scroll";
    box.parentNode.insertBefore(frame, box);
    frame.appendChild(box);
    var line = document.createElement("p");
    line.className = "scroll-cue small text-body-secondary";
    line.setAttribute("aria-hidden", "true");
    line.textContent = "More columns: scroll sideways →";
    frame.appendChild(line);

    function update() {
      var scrollable = box.scrollWidth > box.clientWidth + 1;
      frame.classList.toggle("is-scrollable", scrollable);
      frame.classList.toggle("at-end", box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
    }
    box.addEventListener("scroll", update, { passive: true });
    if (window.ResizeObserver) new ResizeObserver(update).observe(box);
    window.addEventListener("resize", update);
    // A table inside a closed <details> measures 0 until it is opened.
    var section = box.closest("details");
    if (section) section.addEventListener("toggle", update);
    update();
  }

  document.querySelectorAll(".table-responsive").forEach(cue);

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
