"""The ProvenanceRegistry gateway: every read of the registry and every call made to it goes
through here (works' anchoring and verification, disputes' revocations), whichever version
(contracts/src/ProvenanceRegistry.sol, v1 in contracts/src/v1) sits at the address."""

from web3 import Web3

from core.chain.contracts import REGISTRY, REGISTRY_V1, artifact, contract_address


def registry_address(*, w3: Web3) -> str:
    """The current registry on this chain (the EIP-712 verifying contract of what it anchors)."""
    return contract_address(w3=w3, name=REGISTRY)


def _registry(w3: Web3, address: str, *, version: int = 2):
    return w3.eth.contract(address=address, abi=artifact(REGISTRY if version == 2 else REGISTRY_V1)["abi"])


def anchored_at(*, w3: Web3, address: str, root: str | bytes) -> int:
    """When a root was anchored at the registry at `address` (unix seconds), 0 when it was not.
    Both versions answer `anchoredAt` alike."""
    return int(_registry(w3, address).functions.anchoredAt(root).call())


def anchor_call(*, w3: Web3, address: str, root: str | bytes) -> tuple[str, str]:
    """(to, data) of the transaction that anchors `root` at the registry at `address`."""
    registry = _registry(w3, address)
    return registry.address, registry.encode_abi("anchor", args=[root])


def leaf_verified(*, w3: Web3, address: str, root: bytes, proof: list[bytes], leaf_values: list) -> bool:
    """Version 2: the registry hashes the tagged leaf's fields itself and checks the proof."""
    return bool(_registry(w3, address).functions.verify(root, proof, *leaf_values).call())


def leaf_hash_verified(*, w3: Web3, address: str, root: bytes, proof: list[bytes], leaf: bytes) -> bool:
    """Version 1: the registry took the leaf hash as given."""
    return bool(_registry(w3, address, version=1).functions.verify(root, proof, leaf).call())
