/* Earnings: the income chart (Chart.js, served by the portal) and the Withdraw button. */
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

  document.addEventListener("click", async function (event) {
    var button = event.target.closest("#withdraw-button");
    if (!button) return;
    var root = button.closest("#withdraw");
    var status = root.querySelector("#withdraw-status");
    var W = window.PortalWallet;
    button.disabled = true;
    try {
      var prepared = await W.getJson(root.dataset.txUrl);
      if (!prepared.ok) { W.show(status, prepared.data.error || "Could not prepare the withdrawal.", "error"); button.disabled = false; return; }
      var tx = prepared.data.tx;
      await W.requireAccount(tx.from, tx.chainId);
      W.show(status, "Confirm the withdrawal in your wallet.", "info");
      var txHash = await W.sendTransaction(tx);
      var reported = await W.postJson(root.dataset.submittedUrl, { txHash: txHash });
      if (!reported.ok) { W.show(status, reported.data.error || "Sent, but the portal could not record it; reload the page.", "error"); return; }
      window.location.reload();
    } catch (err) {
      W.show(status, W.errorText(err), "error");
      button.disabled = false;
    }
  });
})();
