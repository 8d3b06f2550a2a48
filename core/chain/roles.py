"""Who holds which power over the contracts (version 2), and how the cold owner changes it.

The server holds three hot keys, each with one role: the platform signing key (the market's
SIGNER_ROLE: quotes, settlements, certificates), the sending key (the market's OPERATOR_ROLE and
the registry's ANCHORER_ROLE) and the moderation key (the market's MODERATOR_ROLE: where an
escrowed share goes when a dispute names another party). The guardian (GUARDIAN_ROLE on both)
pauses. The owner (DEFAULT_ADMIN_ROLE, a cold key: hardware wallet or multisig) grants and
revokes every role and unpauses; its key never sits in settings.

Rotating a hot key: 1. set the new key in settings (every process); 2. the owner grants the new
address its role (both keys now work); 3. the owner revokes the old address (its signatures
stop working on chain at once). `manage.py chain_keys rotate` prints the owner's transactions,
or sends them when the owner's key is handed to it for that one command.
"""

from dataclasses import dataclass

from django.conf import settings
from eth_account.signers.local import LocalAccount
from web3 import Web3

from core.chain.contracts import MARKET, REGISTRY, contract, is_deployed
from core.chain.eip712 import typed_data_sign, typed_data_signer
from core.chain.keys import guardian_address, moderation_signer, platform_signer, sender_account
from core.chain.models import ChainEvent
from core.errors import PortalError

# What the command calls a key -> the (contract, role) pairs it holds.
KEY_ROLES = {
    "signer": [(MARKET, "SIGNER_ROLE")],
    "sender": [(MARKET, "OPERATOR_ROLE"), (REGISTRY, "ANCHORER_ROLE")],
    "moderator": [(MARKET, "MODERATOR_ROLE")],
    "guardian": [(MARKET, "GUARDIAN_ROLE"), (REGISTRY, "GUARDIAN_ROLE")],
}
KEY_SETTINGS = {
    "signer": "PLATFORM_SIGNING_KEY",
    "sender": "CHAIN_SENDER_PRIVATE_KEY",
    "moderator": "MODERATION_SIGNING_KEY",
    "guardian": "CHAIN_GUARDIAN_ADDRESS",
}
ERR_UNKNOWN_KEY = "Unknown key {key!r}: one of {known}."
ERR_SAME = "{address} already is the {key}: nothing to rotate."
ERR_NOT_OWNER = "{address} is not the owner of {name} ({owner} is): only the owner's key can do this."
ERR_NOT_GUARDIAN = "{address} does not hold GUARDIAN_ROLE on {name}."
ERR_REVERTED = "{what} reverted on chain (transaction {tx_hash})."


class RoleError(PortalError):
    code = "role_refused"


@dataclass
class Call:
    """One transaction for the owner's (or guardian's) wallet."""

    contract: str
    address: str
    function: str
    args: list
    data: str

    def describe(self) -> str:
        shown = ", ".join(a if isinstance(a, str) else Web3.to_hex(a) for a in self.args)
        return f"{self.contract}.{self.function}({shown})"


def configured_address(key: str) -> str:
    """The address this portal's settings give the key."""
    return {
        "signer": lambda: platform_signer().address,
        "sender": lambda: sender_account().address,
        "moderator": lambda: moderation_signer().address,
        "guardian": guardian_address,
    }[key]()


def _check_key(key: str) -> None:
    if key not in KEY_ROLES:
        raise RoleError(ERR_UNKNOWN_KEY.format(key=key, known=", ".join(KEY_ROLES)))


def _call(target, name: str, function: str, args: list) -> Call:
    return Call(name, target.address, function, args, target.encode_abi(function, args=args))


def rotation_calls(*, w3: Web3, key: str, new: str, old: str) -> list[Call]:
    """The owner's transactions moving `key`'s roles from `old` to `new`: every grant first (both
    work meanwhile), then every revoke (the old key stops)."""
    _check_key(key)
    new, old = Web3.to_checksum_address(new), Web3.to_checksum_address(old)
    if new == old:
        raise RoleError(ERR_SAME.format(address=new, key=key))
    grants, revokes = [], []
    for name, role in KEY_ROLES[key]:
        target = contract(w3=w3, name=name)
        role_id = getattr(target.functions, role)().call()
        if not target.functions.hasRole(role_id, new).call():
            grants.append(_call(target, name, "grantRole", [role_id, new]))
        if target.functions.hasRole(role_id, old).call():
            revokes.append(_call(target, name, "revokeRole", [role_id, old]))
    return grants + revokes


def pause_calls(*, w3: Web3, paused: bool) -> list[Call]:
    """Pause (the guardian) or unpause (the owner) the market and the registry."""
    calls = []
    for name in (MARKET, REGISTRY):
        target = contract(w3=w3, name=name)
        if target.functions.paused().call() != paused:
            calls.append(_call(target, name, "pause" if paused else "unpause", []))
    return calls


def calls_send(*, w3: Web3, calls: list[Call], account: LocalAccount, as_role: str = "owner") -> list[str]:
    """Send each call from `account` (the owner's or guardian's key, handed to this command only)
    after checking it may; returns the transaction hashes, each mined successfully."""
    for call in calls:
        target = contract(w3=w3, name=call.contract)
        if as_role == "owner":
            owner = target.functions.owner().call()
            if Web3.to_checksum_address(owner) != account.address:
                raise RoleError(
                    ERR_NOT_OWNER.format(address=account.address, name=call.contract, owner=owner)
                )
        else:
            role_id = target.functions.GUARDIAN_ROLE().call()
            if not target.functions.hasRole(role_id, account.address).call():
                raise RoleError(ERR_NOT_GUARDIAN.format(address=account.address, name=call.contract))
    hashes = []
    for call in calls:
        tx = {
            "to": call.address,
            "data": call.data,
            "value": 0,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        }
        tx["gas"] = int(w3.eth.estimate_gas({**tx, "from": account.address}) * 1.3)
        base = w3.eth.get_block("latest").get("baseFeePerGas", 10**9)
        tx.update(maxFeePerGas=2 * base + 10**9, maxPriorityFeePerGas=10**9)
        tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise RoleError(ERR_REVERTED.format(what=call.describe(), tx_hash=Web3.to_hex(tx_hash)))
        hashes.append(Web3.to_hex(tx_hash))
    return hashes


@dataclass
class RoleState:
    contract: str
    role: str
    key: str
    expected: str
    holds: bool


def roles_status(*, w3: Web3) -> tuple[list[RoleState], dict]:
    """For each deployed version-2 contract: whether each key in settings holds its role, who
    owns it, and whether it is paused."""
    rows, contracts = [], {}
    for key, pairs in KEY_ROLES.items():
        expected = configured_address(key)
        for name, role in pairs:
            if not is_deployed(w3=w3, name=name):
                continue
            target = contract(w3=w3, name=name)
            role_id = getattr(target.functions, role)().call()
            rows.append(
                RoleState(name, role, key, expected, target.functions.hasRole(role_id, expected).call())
            )
            contracts.setdefault(
                name,
                {
                    "address": target.address,
                    "owner": target.functions.owner().call(),
                    "paused": target.functions.paused().call(),
                },
            )
    return rows, contracts


def signers_known() -> set[str]:
    """Every address that has signed for this portal: the platform signing key in settings, and
    each address ever granted SIGNER_ROLE on a market here (read from the indexed RoleGranted
    events). A certificate or revocation signed before a rotation stays verifiable."""
    known = {platform_signer().address}
    granted = ChainEvent.objects.filter(name="RoleGranted", orphaned=False).values_list("args", flat=True)
    role = Web3.to_hex(Web3.keccak(text="SIGNER_ROLE"))
    known.update(Web3.to_checksum_address(args["account"]) for args in granted if args.get("role") == role)
    known.update(Web3.to_checksum_address(a) for a in settings.PLATFORM_PREVIOUS_SIGNERS)
    return known


def platform_signature_current(typed_data: dict, signature: str) -> str | None:
    """A fresh signature by the platform signing key in settings when `signature` was made by a
    signing key of ours rotated out since (the contract no longer accepts it), else None. Same
    payload, same id and expiry: what a buyer was quoted stays what they pay. A payload signed by
    anyone else is never signed again: the contract refuses it as it is."""
    signer = typed_data_signer(typed_data, signature)
    if signer == platform_signer().address or signer not in signers_known():
        return None
    return typed_data_sign(typed_data, platform_signer())
