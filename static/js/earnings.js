/* Earnings: the income chart (Chart.js, served by the portal); Withdraw is actions.js's. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("earnings-chart-data");
    var canvas = document.getElementById("earnings-chart");
    if (data && canvas && window.Chart) {
      var chart = JSON.parse(data.textContent);
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: chart.labels, datasets: [{ label: "ETH", data: chart.values.map(Number), backgroundColor: "#4b3fd1", maxBarThickness: 40 }] },
        options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) { return chart.values[ctx.dataIndex] + " ETH"; } } } },
                   scales: { y: { beginAtZero: true } } }
      });
    }
  });
})();
