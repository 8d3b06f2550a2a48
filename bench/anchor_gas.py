"""Gas per work when anchoring Merkle batches, beside one transaction per work.

    .venv/bin/python bench/anchor_gas.py            # in-process chain (eth-tester + py-evm)
    .venv/bin/python bench/anchor_gas.py --rpc URL  # e.g. a running anvil

Prints JSON. The floor for storing one 32-byte root per batch is 43,676 gas per batch.
"""

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from eth_account import Account  # noqa: E402
from web3 import EthereumTesterProvider, Web3  # noqa: E402

from core.chain.anvil import DEV_MNEMONIC  # noqa: E402,F401
from core.chain.contracts import REGISTRY, artifact  # noqa: E402
from core.chain.merkle import LEAF_ENCODING, LEAF_REGISTRATION, StandardMerkleTree  # noqa: E402

FLOOR_PER_BATCH = 43_676
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def chain(rpc):
    if rpc:
        return Web3(Web3.HTTPProvider(rpc)), Account.from_key(ANVIL_KEY), "rpc:" + rpc
    w3 = Web3(EthereumTesterProvider())
    key = w3.provider.ethereum_tester.backend.account_keys[0]
    return w3, Account.from_key(key.to_bytes()), "eth-tester (py-evm, in-process)"


def send(w3, account, tx):
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address))
    tx.setdefault("chainId", w3.eth.chain_id)
    tx["gas"] = w3.eth.estimate_gas({k: v for k, v in tx.items() if k != "gas"}) * 2
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt.status == 1
    return receipt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rpc", default=None)
    parser.add_argument("--sizes", default="1,16,256,4096")
    args = parser.parse_args()
    w3, account, where = chain(args.rpc)

    art = artifact(REGISTRY)
    # version 2: the bench account is the cold owner, the anchorer and the guardian
    deploy = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor(
        account.address, 0, account.address, account.address
    )
    receipt = send(w3, account, deploy.build_transaction({"from": account.address}))
    registry = w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])

    def leaves(n):
        return [
            [
                LEAF_REGISTRATION,
                secrets.token_bytes(32),
                Account.create().address,
                secrets.token_bytes(32),
                1_764_000_000 + i,
            ]
            for i in range(n)
        ]

    # One transaction per work: each work's own leaf anchored alone (what a per-work registry pays).
    per_work = []
    for value in leaves(8):
        tree = StandardMerkleTree.of([value], LEAF_ENCODING)
        per_work.append(
            send(
                w3, account, registry.functions.anchor(tree.root).build_transaction({"from": account.address})
            ).gasUsed
        )
    per_work_gas = sum(per_work) / len(per_work)

    batches = []
    for size in (int(s) for s in args.sizes.split(",")):
        tree = StandardMerkleTree.of(leaves(size), LEAF_ENCODING)
        gas = send(
            w3, account, registry.functions.anchor(tree.root).build_transaction({"from": account.address})
        ).gasUsed
        proof = tree.proof(size // 2)
        fields = tree.values[size // 2]["value"]
        verify_gas = registry.functions.verify(tree.root, proof, *fields).estimate_gas()
        assert registry.functions.verify(tree.root, proof, *fields).call()
        batches.append(
            {
                "batch_size": size,
                "gas_per_batch": gas,
                "gas_per_work": round(gas / size, 2),
                "floor_gas_per_work": round(FLOOR_PER_BATCH / size, 2),
                "over_floor_pct": round(100 * (gas - FLOOR_PER_BATCH) / FLOOR_PER_BATCH, 2),
                "saving_vs_per_work_tx": round(per_work_gas / (gas / size), 1),
                "proof_length": len(proof),
                "verify_call_gas": verify_gas,
            }
        )

    print(
        json.dumps(
            {
                "benchmark": "anchor_gas",
                "chain": where,
                "contract": "ProvenanceRegistry.anchor(bytes32)",
                "per_work_transaction_gas": round(per_work_gas),
                "floor_gas_per_batch": FLOOR_PER_BATCH,
                "reference_gas_per_work": {
                    "story_protocol_ip_asset_register": 179_000,
                    "eas_attestation": 200_000,
                },
                "batches": batches,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
