"""Works registered by smart-contract accounts: signed through ERC-1271 (deployed) or ERC-6492
(not yet deployed), anchored as any other, and verifiable by anyone afterwards."""

import pytest
from eth_account import Account

from core.chain.accounts import CONTRACT, COUNTERFACTUAL
from core.chain.eip712 import typed_data_sign
from core.chain.sender import sender_context
from licensing.tests.helpers import mine
from tests.fixtures.images import make_image, upload_file
from works import anchoring, services
from works.models import Registration
from works.selectors import provenance_document
from works.verification import ERR_CONTRACT_OFFLINE, provenance_check

pytestmark = pytest.mark.anvil


def _upload(persona, seed):
    return services.work_upload(
        user=persona.user,
        creator_address=persona.address,
        file=upload_file(make_image(seed=seed)),
        title=f"W{seed}",
    )


def _anchor(chain, work):
    ctx = sender_context(w3=chain)
    batch = anchoring.batch_send(batch=anchoring.batch_seal(w3=chain), ctx=ctx)
    mine(chain)
    anchoring.batch_refresh(batch=batch, ctx=ctx)
    work.refresh_from_db()
    return work


@pytest.mark.parametrize(("deployed", "kind"), [(True, CONTRACT), (False, COUNTERFACTUAL)])
def test_a_contract_account_registers_and_anyone_can_verify_it(chain, smart_persona, client, deployed, kind):
    artist = smart_persona("artist", deployed=deployed, salt=21)
    work = _upload(artist, seed=301)
    typed = services.registration_typed_data(registration=work.registration, w3=chain)
    registration = services.registration_sign(
        registration=work.registration, signature=artist.sign_typed(typed), w3=chain
    )
    assert registration.status == Registration.Status.PENDING
    assert registration.signer_kind == kind
    assert registration.signature_block is not None and registration.signature_block <= chain.eth.block_number

    work = _anchor(chain, work)
    document = client.get(f"/works/{work.pk}/provenance.json").json()
    assert document["signer_kind"] == kind and document["signature_block"] == registration.signature_block
    check = provenance_check(document, w3=chain)
    assert check.ok and check.signer == artist.address and check.signer_kind == kind

    # Offline, a contract account's signature cannot be checked, and the check says so.
    offline = provenance_check(document, w3=None)
    assert not offline.signature_ok and offline.onchain_error == ERR_CONTRACT_OFFLINE

    page = client.post("/verify", {"sha256": work.sha256}).content.decode()
    assert "Verified on-chain" in page
    assert f"confirmed by the chain at block {registration.signature_block}" in page


def test_a_document_whose_signature_is_swapped_does_not_verify(chain, smart_persona):
    artist = smart_persona("artist")
    work = _upload(artist, seed=302)
    typed = services.registration_typed_data(registration=work.registration, w3=chain)
    services.registration_sign(registration=work.registration, signature=artist.sign_typed(typed), w3=chain)
    work = _anchor(chain, work)
    document = provenance_document(work=work)
    document["signature"] = typed_data_sign(typed, Account.create())
    check = provenance_check(document, w3=chain)
    assert not check.signature_ok and not check.ok


@pytest.mark.parametrize("deployed", [True, False])
def test_a_signature_by_another_owner_is_refused(chain, smart_persona, deployed):
    artist = smart_persona("artist", deployed=deployed, salt=4)
    work = _upload(artist, seed=303)
    typed = services.registration_typed_data(registration=work.registration, w3=chain)
    stranger = Account.create()
    forged = artist.wallet.wrap(typed_data_sign(typed, stranger))
    with pytest.raises(services.RegistrationError) as refused:
        services.registration_sign(registration=work.registration, signature=forged, w3=chain)
    expected = (
        services.ERR_WRONG_SIGNER.format(signer=stranger.address, expected=artist.address)
        if deployed  # a plain 65-byte signature: whose key made it can be said
        else services.ERR_BAD_SIGNATURE
    )
    assert refused.value.message == expected
    work.registration.refresh_from_db()
    assert (
        work.registration.status == Registration.Status.AWAITING_SIGNATURE
        and work.registration.signature == ""
    )
