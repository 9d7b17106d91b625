// The deals board: drag an open deal's card to another stage's column to move it. A drop fills in the
// card's own stage form (the one the keyboard and no-script path uses) and submits it, so the move
// goes through the same POST, CSRF token and deal service; a drop on Lost first asks for the reason
// in the card. The reason box shows only while Lost is chosen.
(function () {
  "use strict";

  var board = document.querySelector("[data-deal-board]");
  if (!board) return;
  var dragged = null;

  function reasonFor(form) {
    var box = form.querySelector("[data-lost-reason]");
    box.hidden = form.elements.stage.value !== "lost";
    return box;
  }

  board.querySelectorAll(".deal-move").forEach(function (form) {
    reasonFor(form);
    form.elements.stage.addEventListener("change", function () { reasonFor(form); });
  });

  board.querySelectorAll(".deal-card[draggable]").forEach(function (card) {
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.deal);
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", function () {
      card.classList.remove("dragging");
      board.querySelectorAll(".drop-target").forEach(function (column) { column.classList.remove("drop-target"); });
      dragged = null;
    });
  });

  board.querySelectorAll(".deal-column").forEach(function (column) {
    function accepts() { return dragged && dragged.dataset.stage !== column.dataset.stage; }
    column.addEventListener("dragover", function (event) {
      if (!accepts()) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", function (event) {
      if (!column.contains(event.relatedTarget)) column.classList.remove("drop-target");
    });
    column.addEventListener("drop", function (event) {
      if (!accepts()) return;
      event.preventDefault();
      column.classList.remove("drop-target");
      var form = dragged.querySelector(".deal-move");
      form.elements.stage.value = column.dataset.stage;
      var reason = reasonFor(form);
      if (column.dataset.stage === "lost" && !form.elements.lost_reason.value.trim()) {
        reason.querySelector("input").focus();
        return;
      }
      form.requestSubmit();
    });
  });
})();
