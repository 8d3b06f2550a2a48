#!/usr/bin/env node
// A third-party x402 client for the interoperability test (licensing/tests/test_fetches.py):
// npm's @x402/fetch with @x402/evm's exact scheme and a viem account fetches URL, paying with
// the token it is allowed (at most MAX atomic units). Prints one JSON line: status, the
// settlement (PAYMENT-RESPONSE, decoded), the body's size and its sha256.
// Usage: node tests/node/x402_fetch.js URL PRIVATE_KEY TOKEN NETWORK MAX
"use strict";
const crypto = require("crypto");
const { wrapFetchWithPayment, x402Client, decodePaymentResponseHeader } = require("@x402/fetch");
const { registerExactEvmScheme } = require("@x402/evm/exact/client");
const { privateKeyToAccount } = require("viem/accounts");

async function main() {
  const [url, key, token, network, max] = process.argv.slice(2);
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: privateKeyToAccount(key) });
  client.setSpendControls({ allowedAssets: [{ network, asset: token, maxAmountPerPayment: max }] });
  const response = await wrapFetchWithPayment(fetch, client)(url);
  const body = Buffer.from(await response.arrayBuffer());
  const header = response.headers.get("PAYMENT-RESPONSE");
  process.stdout.write(
    JSON.stringify({
      status: response.status,
      settlement: header ? decodePaymentResponseHeader(header) : null,
      bytes: body.length,
      sha256: crypto.createHash("sha256").update(body).digest("hex"),
      error: response.status === 200 ? null : body.toString("utf8").slice(0, 500),
    }) + "\n",
  );
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ status: null, error: String(error && error.stack || error) }) + "\n");
  process.exit(1);
});
