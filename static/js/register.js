/* Sign a work's EIP-712 Registration with the injected wallet (eth_signTypedData_v4). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("register");
    if (!root) return;
    var button = root.querySelector("#sign-registration");
    var status = root.querySelector("#register-status");
    function show(text, kind) { status.textContent = text; status.className = "status" + (kind ? " status-" + kind : ""); }

    button.addEventListener("click", async function () {
      if (!window.ethereum) { show("No wallet found in this browser. Install a wallet extension, then reload.", "error"); return; }
      button.disabled = true;
      try {
        var prepared = await fetch(root.dataset.typedDataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        var data = await prepared.json();
        if (!prepared.ok) { show(data.error || "Could not prepare the registration.", "error"); return; }
        var accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
        if (!accounts.length || accounts[0].toLowerCase() !== data.address.toLowerCase()) {
          show("Switch your wallet to " + data.address + ", the address you signed in with.", "error"); return;
        }
        show("Check your wallet: sign the registration.", "info");
        var signature;
        try {
          signature = await window.ethereum.request({ method: "eth_signTypedData_v4", params: [accounts[0], JSON.stringify(data.typedData)] });
        } catch (err) {
          show(err && err.code === 4001 ? "You rejected the signature; the work stays unregistered until you sign." : "Your wallet reported an error: " + (err && err.message), "error");
          return;
        }
        var response = await fetch(root.dataset.signUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": window.PortalWallet.csrfToken() },
          body: JSON.stringify({ signature: signature })
        });
        var result = await response.json();
        if (!response.ok) { show(result.error || "The signature was not accepted.", "error"); return; }
        window.location.reload();
      } catch (err) {
        show("Something went wrong: " + (err && err.message ? err.message : err), "error");
      } finally {
        button.disabled = false;
      }
    });
  });
})();
