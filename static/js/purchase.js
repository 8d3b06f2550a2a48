/* Pay a quote: the wallet sends purchase(quote, signature) to the LicenseMarket contract. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("purchase");
    if (!root) return;
    var button = root.querySelector("#pay");
    var status = root.querySelector("#purchase-status");
    function show(text, kind) { status.textContent = text; status.className = "status" + (kind ? " status-" + kind : ""); }
    button.addEventListener("click", async function () {
      if (!window.ethereum) { show("No wallet found in this browser. Install a wallet extension, then reload.", "error"); return; }
      button.disabled = true;
      try {
        var prepared = await fetch(root.dataset.txUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        var data = await prepared.json();
        if (!prepared.ok) { show(data.error || "Could not prepare the payment.", "error"); return; }
        var accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
        if (!accounts.length || accounts[0].toLowerCase() !== data.tx.from.toLowerCase()) {
          show("Switch your wallet to " + data.tx.from + ", the address this quote was made for.", "error"); return;
        }
        var chainId = await window.ethereum.request({ method: "eth_chainId" });
        if (parseInt(chainId, 16) !== parseInt(data.tx.chainId, 16)) {
          show("Switch your wallet to chain " + parseInt(data.tx.chainId, 16) + ".", "error"); return;
        }
        show("Confirm the payment in your wallet.", "info");
        var txHash;
        try {
          txHash = await window.ethereum.request({ method: "eth_sendTransaction", params: [{ from: data.tx.from, to: data.tx.to, data: data.tx.data, value: data.tx.value }] });
        } catch (err) {
          show(err && err.code === 4001 ? "You rejected the payment; nothing was charged." : "Your wallet reported an error: " + (err && err.message), "error");
          return;
        }
        await fetch(root.dataset.submittedUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": window.PortalWallet.csrfToken() },
          body: JSON.stringify({ txHash: txHash })
        });
        window.location.reload();
      } catch (err) {
        show("Something went wrong: " + (err && err.message ? err.message : err), "error");
      } finally {
        button.disabled = false;
      }
    });
  });
})();
