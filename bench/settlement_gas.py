"""Gas of paying for N works in one transaction (LicenseMarket.settle over a Merkle root of
the (payee, amount) credits) for N = 1, 100, 1,000, 10,000, gas per claim, and the same works
bought one `purchase` per work.

    .venv/bin/python bench/settlement_gas.py            # in-process chain (eth-tester + py-evm)
    .venv/bin/python bench/settlement_gas.py --rpc URL  # e.g. a running anvil

Each work has two payees (its creator and the platform fee), 300 creators in all as in the
end-to-end test, so a 10,000-work tree has ~300 leaves, and a tree with one leaf per line
(`claim_gas_deepest`: 10,000 distinct payees) shows the worst claim. Prints JSON with at least
    {"one_tx_gas": {"1": N, "100": N, "1000": N, "10000": N},
     "claim_gas": N, "one_purchase_per_work_gas": N}
for the market the portal deploys (version 2), and the same keys under "v1" for version 1 (the
market before bounded settlements and roles), with "v2_over_v1" ratios of settle and claim.
Anchors: one `purchase` per work is today's browser path; Camp's bulk purchase loops per token,
so its gas grows like `one_purchase_per_work_gas` × N.
"""

import argparse
import json
import os
import secrets
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from eth_account import Account  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from core.chain import market as eip712  # noqa: E402
from core.chain.contracts import MARKET, MARKET_V1, artifact  # noqa: E402
from core.chain.eip712 import typed_data_sign  # noqa: E402
from core.chain.keys import platform_signer  # noqa: E402
from core.chain.merkle import (  # noqa: E402
    PAYEE_LEAF,
    SETTLEMENT_LEAF_ENCODING,
    SETTLEMENT_V1_LEAF_ENCODING,
    ZERO_ADDRESS,
    StandardMerkleTree,
)

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
PRICE = 5 * 10**15
FEE_BPS = 500
CREATORS = 300


def chain(rpc):
    if rpc:
        return Web3(Web3.HTTPProvider(rpc)), Account.from_key(ANVIL_KEY), "rpc:" + rpc
    w3 = Web3(EthereumTesterProvider())
    key = w3.provider.ethereum_tester.backend.account_keys[0]
    return w3, Account.from_key(key.to_bytes()), "eth-tester (py-evm, in-process)"


def send(w3, account, tx):
    tx.setdefault("from", account.address)
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address))
    tx.setdefault("chainId", w3.eth.chain_id)
    if "gasPrice" not in tx:
        base = w3.eth.get_block("latest").get("baseFeePerGas", 10**9)
        tx.setdefault("maxFeePerGas", 2 * base + 10**9)
        tx.setdefault("maxPriorityFeePerGas", 10**9)
    tx["gas"] = int(w3.eth.estimate_gas({k: v for k, v in tx.items() if k != "gas"}) * 1.5)
    tx.pop("from")
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt.status == 1
    return receipt


def now(w3):
    return w3.eth.get_block("latest")["timestamp"]


def settle(w3, market, buyer, allocations, version):
    if version == 2:
        values = [
            [PAYEE_LEAF, i, payee, amount, ZERO_ADDRESS] for i, (payee, amount) in enumerate(allocations)
        ]
        tree = StandardMerkleTree.of(values, SETTLEMENT_LEAF_ENCODING)
    else:
        values = [[i, payee, amount] for i, (payee, amount) in enumerate(allocations)]
        tree = StandardMerkleTree.of(values, SETTLEMENT_V1_LEAF_ENCODING)
    settlement_id = "0x" + secrets.token_hex(32)
    price = sum(a for _, a in allocations)
    expiry = now(w3) + 3600
    epoch = market.functions.disputeEpoch().call() if version == 2 else 0
    typed = eip712.settlement_typed_data(
        chain_id=w3.eth.chain_id,
        market=market.address,
        settlement_id=settlement_id,
        root=Web3.to_hex(tree.root),
        buyer=buyer.address,
        price=price,
        expiry=expiry,
        dispute_epoch=epoch,
    )
    if version == 1:  # version 1 signed no epoch, under its own domain version
        typed = eip712.settlement_v1_typed_data(typed)
    args = (bytes.fromhex(settlement_id[2:]), tree.root, buyer.address, price, expiry)
    if version == 2:
        args = (*args, epoch)
    data = market.encode_abi("settle", args=[args, typed_data_sign(typed, platform_signer())])
    receipt = send(w3, buyer, {"to": market.address, "data": data, "value": price})
    return receipt.gasUsed, tree, args[0]


def claim_gas(w3, market, tree, settlement_id, index, payee_account, funder):
    send(w3, funder, {"to": payee_account.address, "value": 10**17})
    value = tree.values[index]["value"]
    payee, amount = value[-3:-1] if len(value) == 5 else value[1:]
    assert payee == payee_account.address
    data = market.encode_abi("claim", args=[[(settlement_id, index, amount, tree.proof(index))]])
    return send(w3, payee_account, {"to": market.address, "data": data}).gasUsed, len(tree.proof(index))


def allocations_for(works: int, creators: list[str], fee_address: str):
    """Totals per payee of `works` works, each split creator / platform fee."""
    totals: dict[str, int] = {}
    fee = PRICE * FEE_BPS // 10_000
    for i in range(works):
        creator = creators[i % len(creators)]
        totals[creator] = totals.get(creator, 0) + PRICE - fee
        totals[fee_address] = totals.get(fee_address, 0) + fee
    return list(totals.items())


def deploy(w3, account, version):
    name = MARKET if version == 2 else MARKET_V1
    art = artifact(name)
    platform = platform_signer()
    if version == 2:  # the bench account is owner, operator, guardian and moderator
        args = (account.address, 0, platform.address, account.address, account.address, account.address)
    else:
        args = (platform.address, account.address)
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    receipt = send(w3, account, factory.constructor(*args).build_transaction({"from": account.address}))
    return w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])


def measure(w3, account, version, sizes, purchases):
    market = deploy(w3, account, version)
    platform = platform_signer()
    fee_address = Account.create().address
    creator_accounts = [Account.create() for _ in range(CREATORS)]
    creators = [a.address for a in creator_accounts]

    # The market's very first settlement also pays for its totals going from zero (SSTORE
    # 0 -> non-zero); measured apart so the sizes below compare like with like.
    first_gas, _, _ = settle(w3, market, account, allocations_for(1, creators, fee_address), version)
    one_tx, trees = {}, {}
    for size in sizes:
        gas, tree, settlement_id = settle(
            w3, market, account, allocations_for(size, creators, fee_address), version
        )
        one_tx[str(size)] = gas
        trees[size] = (tree, settlement_id)

    # A claim from the largest settlement (its creator's proof), and the worst case: 10,000 leaves.
    largest = max(trees)
    tree, settlement_id = trees[largest]
    index = next(i for i, v in enumerate(tree.values) if creators[0] in v["value"])
    claim, proof_len = claim_gas(w3, market, tree, settlement_id, index, creator_accounts[0], account)
    many = [Account.create() for _ in range(10_000)]
    deep_tree_gas, deep_tree, deep_id = settle(
        w3, market, account, [(a.address, 10**12) for a in many], version
    )
    deep_claim, deep_len = claim_gas(w3, market, deep_tree, deep_id, 5_000, many[5_000], account)

    # One purchase per work: a signed quote crediting the creator and the platform.
    purchase = []
    fee = PRICE * FEE_BPS // 10_000
    for i in range(purchases):
        quote_id, terms, offer = (secrets.token_hex(32) for _ in range(3))
        expiry = now(w3) + 3600
        payees, amounts = [creators[i], fee_address], [PRICE - fee, fee]
        typed = eip712.quote_typed_data(
            chain_id=w3.eth.chain_id,
            market=market.address,
            quote_id="0x" + quote_id,
            work_id=1000 + i,
            terms_hash="0x" + terms,
            offer_id="0x" + offer,
            uses=1,
            buyer=account.address,
            price=PRICE,
            payees=payees,
            amounts=amounts,
            expiry=expiry,
        )
        if version == 1:
            typed = eip712.quote_v1_typed_data(typed)
        quote = (
            bytes.fromhex(quote_id),
            1000 + i,
            bytes.fromhex(terms),
            bytes.fromhex(offer),
            1,
            account.address,
            PRICE,
            payees,
            amounts,
            expiry,
        )
        data = market.encode_abi("purchase", args=[quote, typed_data_sign(typed, platform)])
        purchase.append(send(w3, account, {"to": market.address, "data": data, "value": PRICE}).gasUsed)
    per_work = round(statistics.mean(purchase))
    return {
        "one_tx_gas": one_tx,
        "first_settlement_gas": first_gas,
        "one_tx_growth_1_to_max": round(one_tx[str(sizes[-1])] / one_tx[str(sizes[0])], 3),
        "claim_gas": claim,
        "claim_proof_length": proof_len,
        "claim_gas_deepest": deep_claim,
        "claim_proof_length_deepest": deep_len,
        "settle_gas_10000_leaves": deep_tree_gas,
        "one_purchase_per_work_gas": per_work,
        "per_work_purchases_gas": {str(n): per_work * n for n in sizes},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rpc", default=None)
    parser.add_argument("--sizes", default="1,100,1000,10000")
    parser.add_argument("--purchases", type=int, default=5, help="single purchases to average")
    args = parser.parse_args()
    w3, account, where = chain(args.rpc)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    after = measure(w3, account, 2, sizes, args.purchases)
    before = measure(w3, account, 1, sizes, args.purchases)
    ratio = {
        "settle": round(after["one_tx_gas"][str(sizes[-1])] / before["one_tx_gas"][str(sizes[-1])], 3),
        "first_settlement": round(after["first_settlement_gas"] / before["first_settlement_gas"], 3),
        "claim": round(after["claim_gas"] / before["claim_gas"], 3),
        "claim_deepest": round(after["claim_gas_deepest"] / before["claim_gas_deepest"], 3),
        "purchase": round(after["one_purchase_per_work_gas"] / before["one_purchase_per_work_gas"], 3),
    }
    print(
        json.dumps(
            {
                "benchmark": "settlement_gas",
                "chain": where,
                "market": "LicenseMarket version 2",
                **after,
                "creators": CREATORS,
                "v1": before,
                "v2_over_v1": ratio,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
