/* Sign a work's EIP-712 Registration with the injected wallet (eth_signTypedData_v4). */
(function () {
  "use strict";
  document.addEventListener("click", async function (event) {
    var button = event.target.closest("#sign-registration");
    if (!button) return;
    var root = button.closest("#register");
    var status = root.querySelector("#register-status");
    var W = window.PortalWallet;
    button.disabled = true;
    try {
      var prepared = await W.getJson(root.dataset.typedDataUrl);
      if (!prepared.ok) { W.show(status, prepared.data.error || "Could not prepare the registration.", "error"); return; }
      var address = await W.requireAccount(prepared.data.address);
      W.show(status, "Check your wallet: sign the registration.", "info");
      var signature = await W.signTypedData(address, prepared.data.typedData);
      var result = await W.postJson(root.dataset.signUrl, { signature: signature });
      if (!result.ok) { W.show(status, result.data.error || "The signature was not accepted.", "error"); return; }
      window.location.reload();
    } catch (err) {
      W.show(status, W.errorText(err), "error");
    } finally {
      button.disabled = false;
    }
  });
})();
