// The time zone picker: typing in the search box above the list shows only the zones whose name
// contains every word typed ("new york", "berlin", "asia kol"), and picks the first of them when the
// chosen one is filtered out. Without JavaScript the grouped list works on its own.
(function () {
  "use strict";

  document.querySelectorAll("input[data-filters]").forEach(function (search) {
    var select = document.getElementById(search.getAttribute("data-filters"));
    if (!select) return;

    search.addEventListener("input", function () {
      var words = search.value.toLowerCase().split(/[\s/_]+/).filter(Boolean);
      var firstShown = null;
      select.querySelectorAll("optgroup").forEach(function (group) {
        var shownInGroup = 0;
        group.querySelectorAll("option").forEach(function (option) {
          var text = (group.label + " " + option.textContent).toLowerCase();
          var shown = words.every(function (word) { return text.indexOf(word) !== -1; });
          option.hidden = !shown;
          if (shown) {
            shownInGroup += 1;
            if (!firstShown) firstShown = option;
          }
        });
        group.hidden = shownInGroup === 0;
      });
      var chosen = select.options[select.selectedIndex];
      if (firstShown && (!chosen || chosen.hidden)) firstShown.selected = true;
    });
  });
})();
