/* What a wallet does on a page, declared in its markup (wallet.js talks to the wallet):

   Sign an EIP-712 message (a registration, a split acceptance):
     <div data-wallet-sign data-typed-data-url="…" data-send-url="…" data-ask="sign the registration">
       <button data-wallet-button>…</button> <p data-wallet-status></p></div>
   GET typed-data-url -> {address, typedData} (POST with data-prepare="post", when preparing
   changes something); the wallet signs; POST {signature} to send-url.

   Send a transaction (a licence purchase, a training settlement or invoice, a withdrawal):
     <div data-wallet-pay data-tx-url="…" data-submitted-url="…" [data-reload-on="409 410"]
          [data-confirm="Confirm the withdrawal in your wallet."]>…</div>
   GET tx-url -> {tx}; the wallet sends it; POST {txHash} to submitted-url (the portal follows it).
   A payment in the stablecoin answers {permit, permitUrl} instead: the wallet signs the EIP-2612
   permit, POST {signature} to permitUrl -> {tx}, then as above.

   Either way the page reloads to show what the portal now knows; a refusal is shown where the
   button is, in the words the portal or the wallet gave.

   A button marked data-wallet-wait is rendered disabled and enabled here, once this script
   listens for its click (also in markup htmx swaps in): a click before then would do nothing. */
(function () {
  "use strict";

  async function sign(root, status, W) {
    // data-prepare="post": preparing changes something (a portfolio is closed to new works)
    var prepared = root.dataset.prepare === "post"
      ? await W.postJson(root.dataset.typedDataUrl, {})
      : await W.getJson(root.dataset.typedDataUrl);
    if (!prepared.ok) { W.show(status, prepared.data.error || "Could not prepare what to sign.", "error"); return false; }
    var address = await W.requireAccount(prepared.data.address);
    W.show(status, "Check your wallet: " + (root.dataset.ask || "sign") + ".", "info");
    var signature = await W.signTypedData(address, prepared.data.typedData);
    var result = await W.postJson(root.dataset.sendUrl, { signature: signature });
    if (!result.ok) { W.show(status, result.data.error || "The signature was not accepted.", "error"); return false; }
    return true;
  }

  async function pay(root, status, W) {
    var prepared = await W.getJson(root.dataset.txUrl);
    if (!prepared.ok) {
      W.show(status, prepared.data.error || "Could not prepare the payment.", "error");
      var reloadOn = (root.dataset.reloadOn || "").split(" ");
      if (reloadOn.indexOf(String(prepared.status)) >= 0) window.location.reload();
      return false;
    }
    if (prepared.data.permit) {
      var permit = prepared.data.permit;
      var owner = await W.requireAccount(permit.message.owner, "0x" + Number(permit.domain.chainId).toString(16));
      W.show(status, "Check your wallet: sign the permit for this price (no transaction yet).", "info");
      var permitSignature = await W.signTypedData(owner, permit);
      prepared = await W.postJson(prepared.data.permitUrl, { signature: permitSignature });
      if (!prepared.ok) { W.show(status, prepared.data.error || "The permit was not accepted.", "error"); return false; }
    }
    var tx = prepared.data.tx;
    await W.requireAccount(tx.from, tx.chainId);
    W.show(status, root.dataset.confirm || "Confirm the payment in your wallet.", "info");
    var txHash = await W.sendTransaction(tx);
    W.show(status, "Sent; following it on chain…", "info");
    var reported = await W.postJson(root.dataset.submittedUrl, { txHash: txHash });
    if (!reported.ok) { W.show(status, reported.data.error || "The payment was sent but could not be recorded; reload the page.", "error"); return false; }
    return true;
  }

  function enable(scope) {
    (scope || document).querySelectorAll("[data-wallet-button][data-wallet-wait]").forEach(function (button) {
      button.removeAttribute("data-wallet-wait");
      button.disabled = false;
    });
  }

  document.addEventListener("click", async function (event) {
    var button = event.target.closest("[data-wallet-button]");
    if (!button) return;
    var root = button.closest("[data-wallet-sign], [data-wallet-pay]");
    if (!root) return;
    var status = root.querySelector("[data-wallet-status]");
    var W = window.PortalWallet;
    button.disabled = true;
    try {
      var done = root.hasAttribute("data-wallet-sign") ? await sign(root, status, W) : await pay(root, status, W);
      if (done) window.location.reload();
    } catch (err) {
      W.show(status, W.errorText(err), "error");
    } finally {
      button.disabled = false;
    }
  });

  enable(document);
  document.addEventListener("htmx:afterSettle", function () { enable(document); });
})();
