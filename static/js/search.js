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
    // From 768 to 991 px the top bar has no room for the box (the menu under the person's name links
    // to the search page instead): go to the search page, whose own box takes the typing.
    if (box.offsetParent === null && window.matchMedia("(min-width: 768px)").matches) {
      window.location.assign(box.form.action);
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
