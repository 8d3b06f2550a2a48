/* Pay a quote: the wallet sends purchase(quote, signature) to the LicenseMarket contract. */
(function () {
  "use strict";
  document.addEventListener("click", async function (event) {
    var button = event.target.closest("#pay");
    if (!button) return;
    var root = button.closest("#purchase");
    var status = root.querySelector("#purchase-status");
    var W = window.PortalWallet;
    button.disabled = true;
    try {
      var prepared = await W.getJson(root.dataset.txUrl);
      if (!prepared.ok) { W.show(status, prepared.data.error || "Could not prepare the payment.", "error"); if (prepared.status === 410 || prepared.status === 409) window.location.reload(); return; }
      var tx = prepared.data.tx;
      await W.requireAccount(tx.from, tx.chainId);
      W.show(status, "Confirm the payment in your wallet.", "info");
      var txHash = await W.sendTransaction(tx);
      W.show(status, "Payment sent; following it on chain…", "info");
      var reported = await W.postJson(root.dataset.submittedUrl, { txHash: txHash });
      if (!reported.ok) { W.show(status, reported.data.error || "The payment was sent but could not be recorded; reload the page.", "error"); return; }
      window.location.reload();
    } catch (err) {
      W.show(status, W.errorText(err), "error");
    } finally {
      button.disabled = false;
    }
  });
})();
