"""Contract artifacts (compiled by contracts/compile.js, committed) and their deployments.

Version 2 of both contracts (`LicenseMarket`, `ProvenanceRegistry`: roles under a cold owner,
bounded settlements, tagged leaves) is what the portal deploys and uses for everything new.
Version 1 (`LicenseMarketV1`, `ProvenanceRegistryV1`) stays usable where a portal deployed it
before: its unclaimed allocations are claimed and its balances withdrawn from the earnings page,
its events are indexed, and its anchored roots stay verifiable."""

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from web3 import Web3

from core.chain.keys import (
    DEVELOPMENT_ADDRESSES,
    DEVELOPMENT_CHAIN_IDS,
    guardian_address,
    moderation_signer,
    owner_address,
    platform_signer,
    sender_account,
)
from core.chain.models import ContractDeployment
from core.errors import ContractNotDeployed

__all__ = ["MARKET", "REGISTRY", "ContractNotDeployed", "artifact", "contract", "contract_address"]
BUILD_DIR = Path(settings.BASE_DIR) / "contracts" / "build"
REGISTRY = "ProvenanceRegistry"
MARKET = "LicenseMarket"
REGISTRY_V1 = "ProvenanceRegistryV1"
MARKET_V1 = "LicenseMarketV1"
MARKETS = (MARKET, MARKET_V1)  # newest first: what Withdraw empties first
# The dollar stablecoin offers may be priced in and AI fetches are paid with (x402): a real
# token's address on a real network (STABLECOIN_ADDRESS); on a development chain, this test token.
STABLECOIN = "TestStablecoin"
STABLECOIN_GRANT = 10_000 * 10**6  # what each of anvil's public accounts holds from the start
ERR_NOT_DEPLOYED = "{name} is not deployed on chain {chain_id}: run `make run` or set {setting}."
# The setting that names each contract's address on a chain the portal does not deploy to.
ADDRESS_SETTINGS = {
    REGISTRY: "PROVENANCE_REGISTRY_ADDRESS",
    MARKET: "LICENSE_MARKET_ADDRESS",
    REGISTRY_V1: "PROVENANCE_REGISTRY_V1_ADDRESS",
    MARKET_V1: "LICENSE_MARKET_V1_ADDRESS",
    STABLECOIN: "STABLECOIN_ADDRESS",
}


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


def is_deployed(*, w3: Web3, name: str) -> bool:
    try:
        contract_address(w3=w3, name=name)
    except ContractNotDeployed:
        return False
    return True


def deployed_markets(*, w3: Web3) -> list:
    """Every market this portal has money in: version 2, and version 1 where it was deployed."""
    return [contract(w3=w3, name=name) for name in MARKETS if is_deployed(w3=w3, name=name)]


def market_at(*, w3: Web3, address: str):
    """The market a quote or settlement was signed for, with its version's ABI."""
    address = Web3.to_checksum_address(address)
    for name in MARKETS:
        if is_deployed(w3=w3, name=name) and contract_address(w3=w3, name=name) == address:
            return w3.eth.contract(address=address, abi=artifact(name)["abi"])
    return w3.eth.contract(address=address, abi=artifact(MARKET)["abi"])


def constructor_args(name: str) -> list:
    """Who each contract trusts: the cold owner (CHAIN_OWNER_ADDRESS) holds the admin role and
    rotates the hot keys; the server's keys get one role each."""
    delay = settings.CHAIN_OWNER_TRANSFER_DELAY
    if name == REGISTRY:
        return [owner_address(), delay, sender_account().address, guardian_address()]
    if name == MARKET:
        return [
            owner_address(),
            delay,
            platform_signer().address,
            sender_account().address,
            guardian_address(),
            moderation_signer().address,
        ]
    if name == STABLECOIN:
        return [settings.STABLECOIN_NAME, settings.STABLECOIN_SYMBOL, sender_account().address]
    if name == REGISTRY_V1:
        return [sender_account().address]
    if name == MARKET_V1:
        return [platform_signer().address, sender_account().address]
    raise ValueError(name)


def contracts_ensure_deployed(*, w3: Web3 | None = None, account=None) -> dict[str, str]:
    """Deploy each contract whose recorded address has no code (fresh chain) or old bytecode."""
    from core.chain.client import get_web3

    w3 = w3 or get_web3()
    account = account or sender_account()
    addresses = {}
    for name in (REGISTRY, MARKET):
        current = ContractDeployment.objects.filter(chain_id=w3.eth.chain_id, name=name).first()
        if current and current.bytecode_hash == bytecode_hash(name) and w3.eth.get_code(current.address):
            addresses[name] = current.address
            continue
        addresses[name] = contract_deploy(
            w3=w3, name=name, args=constructor_args(name), account=account
        ).address
    if not settings.STABLECOIN_ADDRESS and w3.eth.chain_id in DEVELOPMENT_CHAIN_IDS:
        addresses[STABLECOIN] = _test_stablecoin(w3=w3, account=account)
    return addresses


def _test_stablecoin(*, w3: Web3, account) -> str:
    """The development chain's stablecoin, deployed once per chain, and some of it for each of
    anvil's public accounts (README: development accounts)."""
    current = ContractDeployment.objects.filter(chain_id=w3.eth.chain_id, name=STABLECOIN).first()
    if current and current.bytecode_hash == bytecode_hash(STABLECOIN) and w3.eth.get_code(current.address):
        return current.address
    deployment = contract_deploy(w3=w3, name=STABLECOIN, args=constructor_args(STABLECOIN), account=account)
    token = w3.eth.contract(address=deployment.address, abi=artifact(STABLECOIN)["abi"])
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    hashes = []
    for n, address in enumerate(sorted(DEVELOPMENT_ADDRESSES)):
        tx = token.functions.mint(address, STABLECOIN_GRANT).build_transaction(
            {"from": account.address, "nonce": nonce + n}
        )
        hashes.append(w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))
    for tx_hash in hashes:
        w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    return deployment.address
