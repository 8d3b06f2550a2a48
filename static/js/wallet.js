/* Wallet glue: Sign-In with Ethereum (EIP-4361) through an EIP-1193 provider, found with EIP-6963
   multi-wallet discovery (window.ethereum only as the fallback). */
(function () {
  "use strict";

  var MESSAGES = {
    noWallet: "No wallet found in this browser. Install a wallet extension such as MetaMask or Rabby, then reload this page.",
    connectRejected: "You declined the connection request in your wallet. Press “Connect wallet” to try again.",
    signRejected: "You rejected the signature request, so you are not signed in. Press “Connect wallet” to try again; signing costs nothing.",
    noAccount: "Your wallet did not share an account. Unlock it and try again.",
    network: "The portal could not be reached. Check your connection and try again.",
    pending: "Your wallet already has a request open: finish or cancel it there first.",
    txRejected: "You rejected the transaction in your wallet; nothing was sent or charged.",
    typedRejected: "You rejected the signature request; nothing was signed.",
    switchRejected: "Your wallet is on another network. Switch it to {name} (chain {id}) to continue; nothing was signed or sent.",
    switchFailed: "Your wallet could not switch to {name} (chain {id}): {error}. Switch it by hand, then try again.",
    noChoice: "You closed the wallet list without choosing one; nothing was signed. Press the button again to choose."
  };

  /* Wallets installed in this browser announce themselves (EIP-6963) with a name and an icon.
     With several, the person picks one; the choice holds until the tab is closed (sessionStorage,
     by the wallet's reverse-DNS name). A wallet that does not announce is reached through
     window.ethereum, as before. */
  var CHOICE_KEY = "portal.wallet.rdns";
  var announced = [];
  var active = null;

  window.addEventListener("eip6963:announceProvider", function (event) {
    var detail = event.detail;
    if (!detail || !detail.info || !detail.provider || typeof detail.provider.request !== "function") return;
    for (var i = 0; i < announced.length; i++) {
      if (announced[i].info.uuid === detail.info.uuid) return;
    }
    announced.push({ info: detail.info, provider: detail.provider });
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));

  function rememberedChoice() {
    var rdns = null;
    try { rdns = window.sessionStorage.getItem(CHOICE_KEY); } catch (err) { rdns = null; }
    for (var i = 0; rdns && i < announced.length; i++) {
      if (announced[i].info.rdns === rdns) return announced[i];
    }
    return null;
  }

  function remember(choice) {
    try { window.sessionStorage.setItem(CHOICE_KEY, choice.info.rdns || ""); } catch (err) { /* private mode */ }
  }

  /* A modal list of the announced wallets; resolves with the one picked, or null. */
  function pickWallet(wallets) {
    return new Promise(function (resolve) {
      var dialog = document.createElement("dialog");
      dialog.className = "wallet-picker";
      dialog.setAttribute("aria-labelledby", "wallet-picker-title");
      dialog.setAttribute("data-testid", "wallet-picker");
      var title = document.createElement("h2");
      title.id = "wallet-picker-title";
      title.textContent = "Choose a wallet";
      var hint = document.createElement("p");
      hint.className = "muted small";
      hint.textContent = "Several wallets are installed in this browser. The portal uses the one you choose until you close this tab.";
      var list = document.createElement("ul");
      list.className = "wallet-choices";
      var settled = false;
      function done(choice) {
        if (settled) return;
        settled = true;
        dialog.close();
        dialog.remove();
        resolve(choice);
      }
      wallets.forEach(function (wallet) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "wallet-choice";
        button.dataset.rdns = wallet.info.rdns || "";
        if (/^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/.test(wallet.info.icon || "")) {
          var icon = document.createElement("img");  // EIP-6963 icons are data URIs: nothing is fetched
          icon.src = wallet.info.icon;
          icon.alt = "";
          icon.width = 32;
          icon.height = 32;
          button.appendChild(icon);
        }
        var name = document.createElement("span");
        name.textContent = wallet.info.name || wallet.info.rdns || "Unnamed wallet";
        button.appendChild(name);
        button.addEventListener("click", function () { done(wallet); });
        item.appendChild(button);
        list.appendChild(item);
      });
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "btn";
      cancel.textContent = "Cancel";
      cancel.addEventListener("click", function () { done(null); });
      dialog.addEventListener("cancel", function () { done(null); });
      dialog.append(title, hint, list, cancel);
      document.body.appendChild(dialog);
      dialog.showModal();
    });
  }

  /* The provider to talk to. `choose`: ask which one even when one was picked earlier in this
     tab (signing in is when a person says which wallet they are). */
  async function provider(choose) {
    if (active && !choose) return active;
    window.dispatchEvent(new Event("eip6963:requestProvider"));
    var choice = null;
    if (announced.length === 1) choice = announced[0];
    else if (announced.length > 1) {
      choice = (!choose && rememberedChoice()) || await pickWallet(announced);
      if (!choice) throw { portal: MESSAGES.noChoice };
    }
    if (choice) {
      remember(choice);
      active = choice.provider;
    } else if (window.ethereum) {
      active = window.ethereum;
    } else {
      throw { portal: MESSAGES.noWallet };
    }
    return active;
  }

  function hasWallet() {
    return announced.length > 0 || !!window.ethereum;
  }

  /* The portal's chain, as the page states it (EIP-3085 parameters). */
  function portalChain() {
    var node = document.getElementById("portal-chain");
    return node ? JSON.parse(node.textContent) : null;
  }

  function chainWords(text, chain, error) {
    return text.replace("{name}", chain.chainName).replace("{id}", parseInt(chain.chainId, 16))
      .replace("{error}", error || "");
  }

  function isUnknownChain(err) {
    var code = err && (err.code || (err.data && err.data.originalError && err.data.originalError.code));
    return code === 4902 || (code === -32603 && /Unrecognized chain/i.test(err.message || ""));
  }

  /* Before anything is signed or sent: the wallet must be on the portal's chain. Ask it to switch,
     and to add the chain first when it does not know it (EIP-3326, EIP-3085). */
  async function ensureChain(wantedHex) {
    var chain = portalChain() || { chainId: wantedHex, chainName: "the portal's network" };
    if (wantedHex && parseInt(wantedHex, 16) !== parseInt(chain.chainId, 16)) {
      chain = { chainId: wantedHex, chainName: "chain " + parseInt(wantedHex, 16) };
    }
    var wallet = await provider();
    var current = await wallet.request({ method: "eth_chainId" });
    if (parseInt(current, 16) === parseInt(chain.chainId, 16)) return chain;
    try {
      await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: chain.chainId }] });
    } catch (err) {
      if (err && err.code === 4001) throw { portal: chainWords(MESSAGES.switchRejected, chain) };
      if (!isUnknownChain(err) || !chain.rpcUrls) throw { portal: chainWords(MESSAGES.switchFailed, chain, err && err.message) };
      try {
        await wallet.request({ method: "wallet_addEthereumChain", params: [chain] });
      } catch (addErr) {
        if (addErr && addErr.code === 4001) throw { portal: chainWords(MESSAGES.switchRejected, chain) };
        throw { portal: chainWords(MESSAGES.switchFailed, chain, addErr && addErr.message) };
      }
    }
    current = await wallet.request({ method: "eth_chainId" });
    if (parseInt(current, 16) !== parseInt(chain.chainId, 16)) {
      throw { portal: chainWords(MESSAGES.switchRejected, chain) };
    }
    return chain;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function toHex(text) {
    var bytes = new TextEncoder().encode(text);
    var out = "0x";
    for (var i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, "0");
    return out;
  }

  function buildMessage(opts) {
    var issued = new Date();
    var expires = new Date(issued.getTime() + 5 * 60 * 1000);
    return [
      window.location.host + " wants you to sign in with your Ethereum account:",
      opts.address,
      "",
      "Sign in to the Creator IP Portal.",
      "",
      "URI: " + window.location.origin,
      "Version: 1",
      "Chain ID: " + opts.chainId,
      "Nonce: " + opts.nonce,
      "Issued At: " + issued.toISOString(),
      "Expiration Time: " + expires.toISOString()
    ].join("\n");
  }

  function walletErrorText(err, fallback) {
    if (err && err.code === 4001) return fallback;
    if (err && err.code === -32002) return MESSAGES.pending;
    return (err && err.message) ? "Your wallet reported an error: " + err.message : fallback;
  }

  function init(root) {
    var button = root.querySelector("#connect-wallet");
    var status = root.querySelector("#siwe-status");

    function show(text, kind) {
      status.textContent = text;
      status.className = "status" + (kind ? " status-" + kind : "");
    }

    if (!hasWallet()) {
      show(MESSAGES.noWallet, "error");
    }

    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        var wallet;
        try { wallet = await provider(true); } catch (err) { show(errorText(err), "error"); return; }
        show("Waiting for your wallet to share an account…", "info");
        var accounts;
        try {
          accounts = await wallet.request({ method: "eth_requestAccounts" });
        } catch (err) { show(walletErrorText(err, MESSAGES.connectRejected), "error"); return; }
        if (!accounts || !accounts.length) { show(MESSAGES.noAccount, "error"); return; }
        var address = accounts[0];

        var chainId = parseInt(root.dataset.chainId, 10);
        try {
          show("Checking your wallet's network…", "info");
          await ensureChain("0x" + chainId.toString(16));
        } catch (err) { show(err && err.portal ? err.portal : walletErrorText(err, MESSAGES.network), "error"); return; }

        var nonceResponse;
        try {
          nonceResponse = await fetch(root.dataset.nonceUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        } catch (err) { show(MESSAGES.network, "error"); return; }
        var nonceData = await nonceResponse.json();
        if (!nonceResponse.ok) { show(nonceData.error || MESSAGES.network, "error"); return; }

        var message = buildMessage({ address: address, chainId: chainId, nonce: nonceData.nonce });
        show("Check your wallet: sign the message to prove this address is yours.", "info");
        var signature;
        try {
          signature = await wallet.request({ method: "personal_sign", params: [toHex(message), address] });
        } catch (err) { show(walletErrorText(err, MESSAGES.signRejected), "error"); return; }

        show("Checking the signature…", "info");
        var verifyResponse;
        try {
          verifyResponse = await fetch(root.dataset.verifyUrl, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify({ message: message, signature: signature })
          });
        } catch (err) { show(MESSAGES.network, "error"); return; }
        var result = await verifyResponse.json();
        if (!verifyResponse.ok) { show(result.error || "Sign-in failed.", "error"); return; }
        show("Signed in as " + result.address + ".", "ok");
        var next = root.dataset.next;
        window.location.assign(next && next.charAt(0) === "/" && next.charAt(1) !== "/" ? next : root.dataset.dashboardUrl);
      } finally {
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("siwe");
    if (root) init(root);
  });

  /* [data-copy="#id"]: a button that copies that element's text (an API key shown once). */
  document.addEventListener("click", async function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    if (!source) return;
    var label = button.textContent;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    } catch (err) {
      var range = document.createRange();  // no clipboard access: select it for Ctrl+C
      range.selectNodeContents(source);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(function () { button.textContent = label; }, 2500);
  });

  /* One menu group open at a time; a click elsewhere closes it. */
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.nav-group[open]").forEach(function (group) {
      if (!group.contains(event.target)) group.removeAttribute("open");
    });
  });

  /* Amounts show six decimals at most; copying one takes the exact amount (data-exact). */
  document.addEventListener("copy", function (event) {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !event.clipboardData) return;
    var node = selection.anchorNode;
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    var money = element && element.closest(".money");
    if (!money || !money.contains(selection.focusNode)) return;
    event.clipboardData.setData("text/plain", money.dataset.exact + " ETH");
    event.preventDefault();
  });

  /* Shared by every page that talks to the wallet: one wording for its errors. */
  function show(status, text, kind) {
    status.textContent = text;
    status.className = "status" + (kind ? " status-" + kind : "");
  }

  async function postJson(url, body) {
    var response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    });
    var data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    return { ok: response.ok, status: response.status, data: data };
  }

  async function getJson(url) {
    var response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    var data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    return { ok: response.ok, status: response.status, data: data };
  }

  /* Ask for the account, check it is `expected`, and bring the wallet to the portal's chain (or
     the one given) before the caller signs or sends anything. */
  async function requireAccount(expected, chainIdHex) {
    var wallet = await provider();
    var accounts;
    try { accounts = await wallet.request({ method: "eth_requestAccounts" }); }
    catch (err) { throw { portal: walletErrorText(err, MESSAGES.connectRejected) }; }
    if (!accounts || !accounts.length) throw { portal: MESSAGES.noAccount };
    if (expected && accounts[0].toLowerCase() !== expected.toLowerCase()) {
      throw { portal: "Switch your wallet to " + expected + ", the address you signed in with." };
    }
    await ensureChain(chainIdHex);
    return accounts[0];
  }

  async function sendTransaction(tx) {
    var wallet = await provider();
    try {
      return await wallet.request({ method: "eth_sendTransaction", params: [{ from: tx.from, to: tx.to, data: tx.data, value: tx.value }] });
    } catch (err) { throw { portal: walletErrorText(err, MESSAGES.txRejected) }; }
  }

  async function signTypedData(address, typedData) {
    var wallet = await provider();
    try {
      return await wallet.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(typedData)] });
    } catch (err) { throw { portal: walletErrorText(err, MESSAGES.typedRejected) }; }
  }

  function errorText(err) {
    if (err && err.portal) return err.portal;
    return "Something went wrong: " + (err && err.message ? err.message : err);
  }

  window.PortalWallet = {
    buildMessage: buildMessage, toHex: toHex, csrfToken: csrfToken, show: show, postJson: postJson,
    getJson: getJson, requireAccount: requireAccount, ensureChain: ensureChain, sendTransaction: sendTransaction,
    signTypedData: signTypedData, errorText: errorText, messages: MESSAGES, provider: provider
  };
})();
