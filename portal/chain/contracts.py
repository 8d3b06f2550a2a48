"""Contract artifacts (compiled by contracts/compile.js, committed) and their deployments."""

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from web3 import Web3

from portal.chain.models import ContractDeployment
from portal.errors import ContractNotDeployed

__all__ = ["MARKET", "REGISTRY", "ContractNotDeployed", "artifact", "contract", "contract_address"]
BUILD_DIR = Path(settings.BASE_DIR) / "contracts" / "build"
REGISTRY = "ProvenanceRegistry"
MARKET = "LicenseMarket"
ERR_NOT_DEPLOYED = "{name} is not deployed on chain {chain_id}: run `make run` or set {setting}."
# The setting that names each contract's address on a chain the portal does not deploy to.
ADDRESS_SETTINGS = {REGISTRY: "PROVENANCE_REGISTRY_ADDRESS", MARKET: "LICENSE_MARKET_ADDRESS"}


@lru_cache(maxsize=8)
def artifact(name: str) -> dict:
    return json.loads((BUILD_DIR / f"{name}.json").read_text())


def bytecode_hash(name: str) -> str:
    return Web3.to_hex(Web3.keccak(hexstr=artifact(name)["bytecode"]))


def contract_deploy(*, w3: Web3, name: str, args: list, account) -> ContractDeployment:
    """Deploy `name` from the committed artifact, signed by `account`, and record it."""
    factory = w3.eth.contract(abi=artifact(name)["abi"], bytecode=artifact(name)["bytecode"])
    tx = factory.constructor(*args).build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    )
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    deployment, _ = ContractDeployment.objects.update_or_create(
        chain_id=w3.eth.chain_id,
        name=name,
        defaults={
            "address": receipt["contractAddress"],
            "tx_hash": Web3.to_hex(tx_hash),
            "block_number": receipt["blockNumber"],
            "bytecode_hash": bytecode_hash(name),
        },
    )
    return deployment


def contract_address(*, w3: Web3, name: str) -> str:
    setting = ADDRESS_SETTINGS.get(name, "")
    configured = getattr(settings, setting, "") if setting else ""
    if configured:
        return Web3.to_checksum_address(configured)
    deployment = ContractDeployment.objects.filter(chain_id=w3.eth.chain_id, name=name).first()
    if deployment is None:
        raise ContractNotDeployed(
            ERR_NOT_DEPLOYED.format(name=name, chain_id=w3.eth.chain_id, setting=setting or "its address")
        )
    return deployment.address


def deployment_block(*, w3: Web3, name: str) -> int:
    deployment = ContractDeployment.objects.filter(chain_id=w3.eth.chain_id, name=name).first()
    return deployment.block_number if deployment else 0


def contract(*, w3: Web3, name: str):
    return w3.eth.contract(address=contract_address(w3=w3, name=name), abi=artifact(name)["abi"])


def contracts_ensure_deployed(*, w3: Web3 | None = None, account=None) -> dict[str, str]:
    """Deploy each contract whose recorded address has no code (fresh chain) or old bytecode."""
    from portal.chain.client import get_web3
    from portal.chain.keys import platform_signer, sender_account

    w3 = w3 or get_web3()
    account = account or sender_account()
    addresses = {}
    platform = platform_signer()
    for name, args in ((REGISTRY, [account.address]), (MARKET, [platform.address, account.address])):
        current = ContractDeployment.objects.filter(chain_id=w3.eth.chain_id, name=name).first()
        if current and current.bytecode_hash == bytecode_hash(name) and w3.eth.get_code(current.address):
            addresses[name] = current.address
            continue
        addresses[name] = contract_deploy(w3=w3, name=name, args=args, account=account).address
    return addresses
