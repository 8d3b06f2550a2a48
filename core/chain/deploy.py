"""Deploy the portal's contracts to the chain in CHAIN_RPC_URL, or check the ones deployed.

Used by `manage.py chain_deploy` (any chain) and `make run` (the local anvil). On a chain that is
not a development chain, nothing is deployed or sent while a public development key is set.

Upgrading from version 1: set LICENSE_MARKET_V1_ADDRESS and PROVENANCE_REGISTRY_V1_ADDRESS to
the old contracts, clear LICENSE_MARKET_ADDRESS and PROVENANCE_REGISTRY_ADDRESS, run it: version
2 is deployed beside version 1, which stays indexed and withdrawable."""

from dataclasses import dataclass

from django.conf import settings
from web3 import Web3

from core.chain.client import chain_check
from core.chain.contracts import (
    ADDRESS_SETTINGS,
    MARKET,
    MARKET_V1,
    REGISTRY,
    REGISTRY_V1,
    artifact,
    constructor_args,
    contract_deploy,
)
from core.chain.keys import (
    development_keys_in_use,
    guardian_address,
    moderation_signer,
    owner_address,
    platform_signer,
    sender_account,
)
from core.chain.models import ContractDeployment
from core.errors import PortalError

ERR_DEV_KEYS = (
    "Chain {chain_id} is not a development chain, and {names} hold public development keys "
    "printed by every anvil (or their addresses): anyone could use them. Set keys of your own "
    "(README: Deploying)."
)
ERR_NO_FUNDS = "The sender {address} has no ether on chain {chain_id} to pay for the deployment."
ERR_NO_CODE = "{setting}={address} has no contract code on chain {chain_id}."
ERR_ROLE = "{name} at {address}: {role}() is {actual}, but this portal's key is {expected}."
ERR_ROLE_MISSING = "{name} at {address}: {expected} (this portal's key) does not hold {role}."
ERR_NO_OWNER = (
    "Set CHAIN_OWNER_ADDRESS: the cold owner that rotates the keys (its key stays off this server)."
)


class DeployError(PortalError):
    code = "deploy_refused"


@dataclass
class Deployed:
    name: str
    address: str
    block: int
    new: bool


def expected_roles(name: str) -> dict[str, str]:
    """Role -> the address that must hold it: this portal's keys, and the cold owner."""
    if name == REGISTRY:
        return {"ANCHORER_ROLE": sender_account().address, "GUARDIAN_ROLE": guardian_address()}
    return {
        "SIGNER_ROLE": platform_signer().address,
        "OPERATOR_ROLE": sender_account().address,
        "MODERATOR_ROLE": moderation_signer().address,
        "GUARDIAN_ROLE": guardian_address(),
    }


def contract_check(*, w3: Web3, name: str, address: str) -> None:
    """The contract at `address` has code, is owned by CHAIN_OWNER_ADDRESS and gives each of
    this portal's keys its role."""
    address = Web3.to_checksum_address(address)
    if not w3.eth.get_code(address):
        raise DeployError(
            ERR_NO_CODE.format(setting=ADDRESS_SETTINGS[name], address=address, chain_id=w3.eth.chain_id)
        )
    deployed = w3.eth.contract(address=address, abi=artifact(name)["abi"])
    owner = deployed.functions.owner().call()
    if Web3.to_checksum_address(owner) != owner_address():
        raise DeployError(
            ERR_ROLE.format(name=name, address=address, role="owner", actual=owner, expected=owner_address())
        )
    for role, expected in expected_roles(name).items():
        role_id = getattr(deployed.functions, role)().call()
        if not deployed.functions.hasRole(role_id, expected).call():
            raise DeployError(
                ERR_ROLE_MISSING.format(name=name, address=address, role=role, expected=expected)
            )


def chain_deploy(*, w3: Web3, verify_only: bool = False, from_block: int | None = None) -> list[Deployed]:
    """1. The node is on CHAIN_ID. 2. No public development key on a real chain. 3. Each
    contract: an address in settings is checked (code, roles) and recorded; none set, it is
    deployed (unless `verify_only`) and recorded. Returns what is in place."""
    chain_id = chain_check(w3)
    names = development_keys_in_use(chain_id)
    if names:
        raise DeployError(ERR_DEV_KEYS.format(chain_id=chain_id, names=", ".join(names)))
    if not settings.CHAIN_OWNER_ADDRESS:
        raise DeployError(ERR_NO_OWNER)
    done = []
    for name in (REGISTRY_V1, MARKET_V1):  # an upgraded portal: version 1 stays where it is
        configured = getattr(settings, ADDRESS_SETTINGS[name], "")
        if not configured:
            continue
        address = Web3.to_checksum_address(configured)
        if not w3.eth.get_code(address):
            raise DeployError(
                ERR_NO_CODE.format(setting=ADDRESS_SETTINGS[name], address=address, chain_id=chain_id)
            )
        recorded = ContractDeployment.objects.filter(chain_id=chain_id, name=name).first()
        block = from_block if from_block is not None else (recorded.block_number if recorded else 0)
        ContractDeployment.objects.update_or_create(
            chain_id=chain_id, name=name, defaults={"address": address, "block_number": block}
        )
        done.append(Deployed(name, address, block, new=False))
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
        deployment = contract_deploy(w3=w3, name=name, args=constructor_args(name), account=account)
        contract_check(w3=w3, name=name, address=deployment.address)
        done.append(Deployed(name, deployment.address, deployment.block_number, new=True))
    return done
