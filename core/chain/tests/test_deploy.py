"""`manage.py chain_deploy`: deploys to the chain in CHAIN_RPC_URL or checks what is set, prints
the settings to set, and refuses a real chain while a public development key is configured."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from eth_account import Account

from core.chain.client import get_web3
from core.chain.models import ContractDeployment

pytestmark = pytest.mark.anvil
SEPOLIA = 11155111


def _deploy(capsys, *args):
    call_command("chain_deploy", *args)
    return capsys.readouterr().out


def test_it_deploys_once_then_checks_and_prints_the_settings(
    anvil_factory, settings, transactional_db, capsys
):
    settings.CHAIN_RPC_URL = anvil_factory()
    settings.PROVENANCE_REGISTRY_ADDRESS = settings.LICENSE_MARKET_ADDRESS = ""
    out = _deploy(capsys)
    registry = ContractDeployment.objects.get(name="ProvenanceRegistry")
    market = ContractDeployment.objects.get(name="LicenseMarket")
    assert f"PROVENANCE_REGISTRY_ADDRESS={registry.address}" in out
    assert f"LICENSE_MARKET_ADDRESS={market.address}" in out and "deployed at" in out
    again = _deploy(capsys)
    assert "checked at" in again and "deployed at" not in again
    assert ContractDeployment.objects.get(name="LicenseMarket").address == market.address


def test_a_real_chain_with_development_keys_is_refused_and_its_own_keys_deploy(
    anvil_factory, settings, transactional_db, capsys
):
    settings.CHAIN_RPC_URL = anvil_factory(chain_id=SEPOLIA)
    settings.CHAIN_ID = SEPOLIA
    settings.PROVENANCE_REGISTRY_ADDRESS = settings.LICENSE_MARKET_ADDRESS = ""
    with pytest.raises(CommandError, match="public development keys"):
        _deploy(capsys)
    w3 = get_web3()
    assert ContractDeployment.objects.count() == 0
    assert w3.eth.get_transaction_count("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") == 0  # nothing sent

    sender, signer, moderator, owner = (Account.create() for _ in range(4))
    settings.CHAIN_SENDER_PRIVATE_KEY = sender.key.hex()
    settings.PLATFORM_SIGNING_KEY = signer.key.hex()
    settings.MODERATION_SIGNING_KEY = moderator.key.hex()
    with pytest.raises(CommandError, match="CHAIN_OWNER_ADDRESS"):  # the default owner is anvil's #9
        _deploy(capsys)
    settings.CHAIN_OWNER_ADDRESS = owner.address  # only its address: its key never comes here
    with pytest.raises(CommandError, match="has no ether"):
        _deploy(capsys)
    w3.provider.make_request("anvil_setBalance", [sender.address, hex(10**18)])
    out = _deploy(capsys)
    market = ContractDeployment.objects.get(name="LicenseMarket").address
    assert f"LICENSE_MARKET_ADDRESS={market}" in out

    settings.LICENSE_MARKET_ADDRESS = signer.address  # an address with no contract
    with pytest.raises(CommandError, match="has no contract code"):
        _deploy(capsys, "--verify-only")
    settings.LICENSE_MARKET_ADDRESS = market
    settings.PLATFORM_SIGNING_KEY = Account.create().key.hex()  # a market that trusts another key
    with pytest.raises(CommandError, match=r"does not hold SIGNER_ROLE"):
        _deploy(capsys, "--verify-only")
    settings.PLATFORM_SIGNING_KEY = signer.key.hex()
    settings.CHAIN_OWNER_ADDRESS = Account.create().address  # a market owned by someone else
    with pytest.raises(CommandError, match=r"owner\(\) is"):
        _deploy(capsys, "--verify-only")
