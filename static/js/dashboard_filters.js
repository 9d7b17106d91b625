// The dashboard's filters: the first and last day are asked for only when the period is "Custom range".
// The server renders them hidden for any other period; this shows them when the period changes to
// custom, and hides and disables them otherwise (so the URL does not carry dates that mean nothing).
(function () {
  "use strict";

  var period = document.querySelector("#dashboard-filters select[name=period]");
  var dates = document.querySelector("#dashboard-filters [data-custom-dates]");
  if (!period || !dates) return;

  function update() {
    var custom = period.value === "custom";
    dates.hidden = !custom;
    dates.querySelectorAll("input").forEach(function (input) {
      input.disabled = !custom;
    });
  }

  period.addEventListener("change", function () {
    update();
    if (period.value === "custom") {
      var first = dates.querySelector("input");
      if (first) first.focus();
    }
  });
  update();
})();
