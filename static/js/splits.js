/* Accept a split sheet: the wallet signs the EIP-712 SplitAcceptance. */
(function () {
  "use strict";
  document.addEventListener("click", async function (event) {
    var button = event.target.closest(".accept-button");
    if (!button) return;
    var root = button.closest(".accept");
    var status = root.querySelector(".status");
    var W = window.PortalWallet;
    button.disabled = true;
    try {
      var prepared = await W.getJson(root.dataset.typedDataUrl);
      if (!prepared.ok) { W.show(status, prepared.data.error || "Could not prepare the acceptance.", "error"); return; }
      var address = await W.requireAccount(prepared.data.address);
      W.show(status, "Check your wallet: sign your acceptance.", "info");
      var signature = await W.signTypedData(address, prepared.data.typedData);
      var result = await W.postJson(root.dataset.acceptUrl, { signature: signature });
      if (!result.ok) { W.show(status, result.data.error || "The signature was not accepted.", "error"); return; }
      window.location.reload();
    } catch (err) {
      W.show(status, W.errorText(err), "error");
    } finally {
      button.disabled = false;
    }
  });
})();
