"""`manage.py chain_keys`: rotating a hot key without redeploying (the old key's signatures stop
at once, the new key's work, nothing signed before is lost), and the guardian's pause."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from eth_account import Account

from core.chain.contracts import MARKET, REGISTRY, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import DEVELOPMENT_KEYS, platform_signer
from core.chain.reverts import revert_error
from licensing import services
from licensing.certificates import certificate_check, certificate_document
from licensing.models import Licence
from licensing.tests.helpers import buy, fund, index, mine, offered_work, send_tx

pytestmark = pytest.mark.anvil


@pytest.fixture
def owner_key_file(tmp_path):
    """The cold owner's key (anvil's account 9 on this development chain), handed to one command."""
    owner = next(a for a in (Account.from_key(k) for k in DEVELOPMENT_KEYS) if a.address.endswith("79720"))
    path = tmp_path / "owner.key"
    path.write_text(owner.key.hex())
    return str(path)


def _keys(capsys, *args):
    call_command("chain_keys", *args)
    return capsys.readouterr().out


def test_rotating_the_signing_key_stops_the_old_one_and_loses_nothing(
    chain, settings, creator, buyer, owner_key_file, capsys
):
    fund(chain, buyer.address)
    _, offer = offered_work(creator, w3=chain, seed=900)
    old = platform_signer()
    earlier, _ = buy(chain, offer, buyer)  # a licence certified by the old key
    licence = Licence.objects.get(quote=earlier)
    _, second_offer = offered_work(creator, w3=chain, seed=901)
    waiting = services.quote_create(
        offer=second_offer, buyer=buyer.user, buyer_address=buyer.address, w3=chain
    )
    held_by_the_wallet = services.quote_transaction(quote=waiting, w3=chain)  # signed by the old key

    new = Account.create()
    settings.PLATFORM_SIGNING_KEY = new.key.hex()  # 1. the portal runs with the new key
    with pytest.raises(CommandError, match="does not hold its role"):
        _keys(capsys, "status")
    assert f"signer {new.address} does NOT hold it" in capsys.readouterr().out
    printed = _keys(capsys, "rotate", "signer", new.address, "--old", old.address)  # no key: printed only
    assert (
        "LicenseMarket.grantRole" in printed
        and "LicenseMarket.revokeRole" in printed
        and "data: 0x" in printed
    )
    market = contract(w3=chain, name=MARKET)
    role = market.functions.SIGNER_ROLE().call()
    assert market.functions.hasRole(role, old.address).call()  # nothing was sent

    out = _keys(
        capsys, "rotate", "signer", new.address, "--old", old.address, "--owner-key-file", owner_key_file
    )
    assert out.count("mined in") == 2
    assert (
        market.functions.hasRole(role, new.address).call()
        and not market.functions.hasRole(role, old.address).call()
    )
    assert "holds" in _keys(capsys, "status")

    # the old key's signature no longer pays...
    receipt = send_tx(chain, buyer.account, held_by_the_wallet)
    assert (
        receipt.status == 0
        and revert_error(chain, receipt.transactionHash, contract_name=MARKET) == "BadSignature"
    )
    # ...the same quote, signed again with the new key when the buyer asks for the transaction, does
    receipt = send_tx(chain, buyer.account, services.quote_transaction(quote=waiting, w3=chain))
    assert receipt.status == 1
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    paid = Licence.objects.get(quote=waiting)
    assert certificate_check(certificate_document(paid)).ok

    # the certificate the old key signed before still verifies; one it signs now is not on record
    assert certificate_check(certificate_document(licence)).ok
    forged = certificate_document(licence)
    forged["certificate"]["message"]["price"] = 0
    forged["signature"] = typed_data_sign(forged["certificate"], old)
    check = certificate_check(forged)
    assert not check.ok and "no record" in check.problems[0]
    stranger = certificate_document(licence)
    stranger["signature"] = typed_data_sign(stranger["certificate"], Account.create())
    assert not certificate_check(stranger).ok

    call_command("chain_deploy", "--verify-only")  # the deployment checks out with the new key


def test_rotating_the_sending_key_moves_both_of_its_roles(chain, settings, capsys):
    new = Account.create()
    out = _keys(capsys, "rotate", "sender", new.address)
    assert out.count("grantRole") == 2 and out.count("revokeRole") == 2
    assert "LicenseMarket.grantRole" in out and "ProvenanceRegistry.grantRole" in out
    with pytest.raises(CommandError, match="nothing to rotate"):
        _keys(capsys, "rotate", "sender", platform_signer().address, "--old", platform_signer().address)


def test_only_the_owner_key_can_rotate(chain, tmp_path, capsys):
    path = tmp_path / "not-the-owner.key"
    path.write_text(Account.create().key.hex())
    with pytest.raises(CommandError, match="is not the owner"):
        _keys(capsys, "rotate", "moderator", Account.create().address, "--owner-key-file", str(path))
    path.write_text("not a key")
    with pytest.raises(CommandError, match="Cannot read a private key"):
        _keys(capsys, "rotate", "moderator", Account.create().address, "--owner-key-file", str(path))


def test_the_guardian_pauses_the_market_and_the_registry_and_the_owner_resumes(
    chain, settings, creator, buyer, owner_key_file, capsys
):
    fund(chain, buyer.address)
    _, offer = offered_work(creator, w3=chain, seed=910)
    quote = services.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=chain)
    # the development guardian is the owner's account (CHAIN_GUARDIAN_ADDRESS unset)
    assert "mined in" in _keys(capsys, "pause", "--guardian-key-file", owner_key_file)
    assert contract(w3=chain, name=REGISTRY).functions.paused().call()
    receipt = send_tx(chain, buyer.account, services.quote_transaction(quote=quote, w3=chain))
    assert revert_error(chain, receipt.transactionHash, contract_name=MARKET) == "EnforcedPause"
    assert "PAUSED" in _keys(capsys, "status")
    assert "already" in _keys(capsys, "pause", "--guardian-key-file", owner_key_file)
    _keys(capsys, "unpause", "--owner-key-file", owner_key_file)
    assert send_tx(chain, buyer.account, services.quote_transaction(quote=quote, w3=chain)).status == 1
