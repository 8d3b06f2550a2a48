/* Pay an invoice: the wallet sends LicenseMarket.settle for every work at once. */
(function () {
  "use strict";
  document.addEventListener("click", async function (event) {
    var button = event.target.closest("#pay-invoice-button");
    if (!button) return;
    var root = button.closest("#pay-invoice");
    var status = root.querySelector(".status");
    var W = window.PortalWallet;
    button.disabled = true;
    try {
      var prepared = await W.getJson(root.dataset.txUrl);
      if (!prepared.ok) { W.show(status, prepared.data.error || "Could not prepare the payment.", "error"); button.disabled = false; return; }
      var tx = prepared.data.tx;
      await W.requireAccount(tx.from, tx.chainId);
      W.show(status, "Confirm the payment in your wallet.", "info");
      var txHash = await W.sendTransaction(tx);
      await W.postJson(root.dataset.submittedUrl, { txHash: txHash });
      window.location.reload();
    } catch (err) {
      W.show(status, W.errorText(err), "error");
      button.disabled = false;
    }
  });
})();
