"""Deploy the portal's contracts to the chain in CHAIN_RPC_URL, or check the ones deployed.

Used by `manage.py chain_deploy` (any chain) and `make run` (the local anvil). On a chain that is
not a development chain, nothing is deployed or sent while a public development key is set."""

from dataclasses import dataclass

from django.conf import settings
from web3 import Web3

from portal.chain.client import chain_check
from portal.chain.contracts import (
    ADDRESS_SETTINGS,
    MARKET,
    REGISTRY,
    artifact,
    contract_deploy,
)
from portal.chain.keys import development_keys_in_use, platform_signer, sender_account
from portal.chain.models import ContractDeployment
from portal.errors import PortalError

ERR_DEV_KEYS = (
    "Chain {chain_id} is not a development chain, and {names} is one of the public development keys "
    "printed by every anvil: anyone could use it. Set keys of your own (README: Deploying)."
)
ERR_NO_FUNDS = "The sender {address} has no ether on chain {chain_id} to pay for the deployment."
ERR_NO_CODE = "{setting}={address} has no contract code on chain {chain_id}."
ERR_ROLE = "{name} at {address}: {role}() is {actual}, but this portal's key is {expected}."


class DeployError(PortalError):
    code = "deploy_refused"


@dataclass
class Deployed:
    name: str
    address: str
    block: int
    new: bool


def _expected_roles(name: str) -> dict[str, str]:
    """What each contract must trust: the keys this portal signs and sends with."""
    if name == REGISTRY:
        return {"anchorer": sender_account().address}
    return {"quoteSigner": platform_signer().address, "operator": sender_account().address}


def _constructor_args(name: str) -> list:
    if name == REGISTRY:
        return [sender_account().address]
    return [platform_signer().address, sender_account().address]


def contract_check(*, w3: Web3, name: str, address: str) -> None:
    """The contract at `address` has code and trusts this portal's keys."""
    address = Web3.to_checksum_address(address)
    if not w3.eth.get_code(address):
        raise DeployError(
            ERR_NO_CODE.format(setting=ADDRESS_SETTINGS[name], address=address, chain_id=w3.eth.chain_id)
        )
    deployed = w3.eth.contract(address=address, abi=artifact(name)["abi"])
    for role, expected in _expected_roles(name).items():
        actual = getattr(deployed.functions, role)().call()
        if Web3.to_checksum_address(actual) != Web3.to_checksum_address(expected):
            raise DeployError(
                ERR_ROLE.format(name=name, address=address, role=role, actual=actual, expected=expected)
            )


def chain_deploy(*, w3: Web3, verify_only: bool = False, from_block: int | None = None) -> list[Deployed]:
    """1. The node is on CHAIN_ID. 2. No public development key on a real chain. 3. Each
    contract: an address in settings is checked (code, roles) and recorded; none set, it is
    deployed (unless `verify_only`) and recorded. Returns what is in place."""
    chain_id = chain_check(w3)
    names = development_keys_in_use(chain_id)
    if names:
        raise DeployError(ERR_DEV_KEYS.format(chain_id=chain_id, names=" and ".join(names)))
    done = []
    for name in (REGISTRY, MARKET):
        configured = getattr(settings, ADDRESS_SETTINGS[name], "")
        recorded = ContractDeployment.objects.filter(chain_id=chain_id, name=name).first()
        address = configured or (recorded.address if recorded and w3.eth.get_code(recorded.address) else "")
        if address:
            contract_check(w3=w3, name=name, address=address)
            block = from_block if from_block is not None else (recorded.block_number if recorded else 0)
            ContractDeployment.objects.update_or_create(
                chain_id=chain_id,
                name=name,
                defaults={"address": Web3.to_checksum_address(address), "block_number": block},
            )
            done.append(Deployed(name, Web3.to_checksum_address(address), block, new=False))
            continue
        if verify_only:
            raise DeployError(f"{name} is not deployed on chain {chain_id} and --verify-only was given.")
        account = sender_account()
        if w3.eth.get_balance(account.address) == 0:
            raise DeployError(ERR_NO_FUNDS.format(address=account.address, chain_id=chain_id))
        deployment = contract_deploy(w3=w3, name=name, args=_constructor_args(name), account=account)
        contract_check(w3=w3, name=name, address=deployment.address)
        done.append(Deployed(name, deployment.address, deployment.block_number, new=True))
    return done
