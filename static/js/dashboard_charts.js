// Charts of the SLA dashboard, drawn with Chart.js (installed by npm, served from node_modules) from
// the data table each chart sits above: <canvas data-chart-table="<table id>" data-chart='{"type":
// "bar"|"line", "columns": [column indexes], "stacked": bool, "percent": bool}'>. Labels come from
// the first column, values from the cells' data-value, so the chart and its table always agree.
(function () {
  "use strict";

  if (!window.Chart) return;
  var COLOURS = ["#dc3545", "#fd7e14", "#0d6efd", "#198754", "#6f42c1", "#20c997", "#6c757d"];

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-chart-table"));
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (error) {
      return;
    }
    if (!table || !spec) return;
    var headers = table.querySelectorAll("thead th");
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var labels = rows.map(function (row) {
      return row.cells[0].textContent.trim();
    });
    var datasets = spec.columns.map(function (column, index) {
      return {
        label: headers[column] ? headers[column].textContent.trim() : "",
        data: rows.map(function (row) {
          var value = row.cells[column] && row.cells[column].getAttribute("data-value");
          return value === null || value === "" ? null : parseFloat(value);
        }),
        backgroundColor: COLOURS[index % COLOURS.length],
        borderColor: COLOURS[index % COLOURS.length],
        spanGaps: true,
      };
    });
    var scaleY = { beginAtZero: true, stacked: !!spec.stacked, ticks: { precision: 0 } };
    if (spec.percent) scaleY.max = 100;
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: labels, datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: !!spec.stacked }, y: scaleY },
        plugins: { title: { display: !!spec.title, text: spec.title } },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart-table]").forEach(draw);
})();
