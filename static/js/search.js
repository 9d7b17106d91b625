// The top bar's search: "/" anywhere but in a field jumps to the search box, as on GitHub or Gmail.
(function () {
  "use strict";

  var box = document.getElementById("site-search");
  if (!box) {
    return;
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
      return;
    }
    event.preventDefault();
    // On a tablet the top bar has a link to the search page instead of the box: follow it.
    var link = document.querySelector(".nav-search-link");
    if (link && link.offsetParent !== null) {
      window.location.assign(link.href);
      return;
    }
    // On a phone the box sits in the collapsed menu: open it first so the box can take the focus.
    var menu = document.getElementById("nav");
    if (menu && !menu.classList.contains("show") && box.offsetParent === null && window.bootstrap) {
      window.bootstrap.Collapse.getOrCreateInstance(menu).show();
    }
    box.focus();
    box.select();
  });
})();
