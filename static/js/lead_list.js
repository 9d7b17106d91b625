// Marketing's lead list: "tick every lead on this page" and the count of ticked leads in the
// hand-off bar above the table.
(function () {
  "use strict";

  var all = document.getElementById("tick-page");
  var count = document.querySelector("[data-selected-count]");
  var boxes = document.querySelectorAll(".lead-tick");

  function show() {
    var ticked = document.querySelectorAll(".lead-tick:checked").length;
    if (count) count.textContent = ticked + " selected";
    if (all) all.checked = ticked > 0 && ticked === boxes.length;
  }

  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      show();
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", show); });
  show();
})();
