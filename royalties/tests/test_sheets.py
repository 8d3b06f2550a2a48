"""Split sheets: proposed by the owner, accepted by each co-creator's wallet signature, in force
only once everyone has signed, versioned and never edited."""

import pytest

from core.chain.eip712 import typed_data_sign, typed_data_signer
from royalties import services
from royalties.models import SplitSheet
from royalties.selectors import accepted_sheet_parties
from royalties.tests.factories import work_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(django_user_model, creator):
    return work_row(creator.user, creator.address, title="Duet")


def _accept(sheet, persona):
    party = sheet.parties.get(address=persona.address)
    typed = services.split_acceptance_typed_data(sheet=sheet, party=party)
    return services.split_sheet_accept(
        sheet=sheet, address=persona.address, signature=typed_data_sign(typed, persona.account)
    )


def test_a_sheet_applies_only_once_every_party_has_signed(work, creator, co_creator, buyer):
    first = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "illustrator", 3000)]
    )
    assert first.status == SplitSheet.Status.PROPOSED and accepted_sheet_parties(work=work) == []
    assert _accept(first, co_creator).status == SplitSheet.Status.ACCEPTED
    assert accepted_sheet_parties(work=work) == [(co_creator.address, 3000, "illustrator")]

    second = services.split_sheet_propose(
        work=work,
        user=creator.user,
        parties=[(co_creator.address, "illustrator", 2000), (buyer.address.lower(), "colourist", 1000)],
    )
    _accept(second, co_creator)
    # One party of two has signed: the previous sheet still applies.
    assert accepted_sheet_parties(work=work) == [(co_creator.address, 3000, "illustrator")]
    assert _accept(second, buyer).status == SplitSheet.Status.ACCEPTED
    first.refresh_from_db()
    assert first.status == SplitSheet.Status.SUPERSEDED
    assert sorted(accepted_sheet_parties(work=work)) == sorted(
        [(co_creator.address, 2000, "illustrator"), (buyer.address, 1000, "colourist")]
    )


def test_each_acceptance_is_a_verifiable_signature_of_the_sheet(work, creator, co_creator):
    sheet = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "inker", 1500)]
    )
    _accept(sheet, co_creator)
    party = sheet.parties.get()
    assert typed_data_signer(party.typed_data, party.signature) == co_creator.address
    message = party.typed_data["message"]
    assert (
        message["sheetHash"] == sheet.sheet_hash
        and message["bps"] == 1500
        and message["contentHash"] == "0x" + work.sha256
    )


def test_a_forged_or_foreign_acceptance_is_refused(work, creator, co_creator, outsider):
    sheet = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "inker", 1500)]
    )
    party = sheet.parties.get()
    typed = services.split_acceptance_typed_data(sheet=sheet, party=party)
    with pytest.raises(services.RoyaltiesError) as exc:
        services.split_sheet_accept(
            sheet=sheet, address=co_creator.address, signature=typed_data_sign(typed, outsider.account)
        )
    assert exc.value.message == services.ERR_BAD_SIGNATURE.format(address=co_creator.address)
    with pytest.raises(services.RoyaltiesError) as exc:
        services.split_sheet_accept(sheet=sheet, address=outsider.address, signature="0x")
    assert exc.value.status == 403
    sheet.refresh_from_db()
    assert sheet.status == SplitSheet.Status.PROPOSED


@pytest.mark.parametrize(
    "parties,message",
    [
        ([("0x123", "inker", 100)], services.ERR_ADDRESS.format(address="0x123")),
        ([("0x" + "ab" * 20, "inker", 6000), ("0x" + "cd" * 20, "inker", 5000)], services.ERR_BPS),
        ([("0x" + "ab" * 20, "", 100)], services.ERR_ROLE),
        ([("0x" + "ab" * 20, "inker", 0)], services.ERR_BPS),
    ],
)
def test_bad_sheets_are_explained(work, creator, parties, message):
    with pytest.raises(services.RoyaltiesError) as exc:
        services.split_sheet_propose(work=work, user=creator.user, parties=parties)
    assert exc.value.message == message
    assert SplitSheet.objects.count() == 0


def test_only_the_owner_proposes_and_not_on_a_draft(work, creator, outsider, django_user_model):
    with pytest.raises(services.RoyaltiesError, match="Only the work's creator"):
        services.split_sheet_propose(work=work, user=outsider.user, parties=[])
    draft = work_row(creator.user, creator.address, status="awaiting_signature")
    with pytest.raises(services.RoyaltiesError) as exc:
        services.split_sheet_propose(work=draft, user=creator.user, parties=[])
    assert exc.value.message == services.ERR_WORK_STATE
    with pytest.raises(services.RoyaltiesError):
        services.split_sheet_propose(work=work, user=creator.user, parties=[(creator.address, "me", 100)])


def test_a_declined_sheet_never_applies_and_the_owner_can_withdraw_a_proposal(work, creator, co_creator):
    sheet = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "inker", 100)]
    )
    assert (
        services.split_sheet_decline(sheet=sheet, address=co_creator.address).status
        == SplitSheet.Status.DECLINED
    )
    with pytest.raises(services.RoyaltiesError):
        _accept(sheet, co_creator)
    again = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "inker", 100)]
    )
    assert services.split_sheet_withdraw(sheet=again, user=creator.user).status == SplitSheet.Status.WITHDRAWN
    assert [s.version for s in SplitSheet.objects.filter(work=work).order_by("version")] == [
        1,
        2,
    ]  # history kept


def test_an_empty_sheet_is_in_force_at_once(work, creator):
    sheet = services.split_sheet_propose(work=work, user=creator.user, parties=[])
    assert sheet.status == SplitSheet.Status.ACCEPTED and sheet.owner_bps == 10_000


def test_the_typed_data_names_this_chain_and_this_sheet(work, creator, co_creator, settings):
    sheet = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "inker", 100)]
    )
    typed = services.split_acceptance_typed_data(sheet=sheet, party=sheet.parties.get())
    assert typed["domain"]["chainId"] == settings.CHAIN_ID and typed["primaryType"] == "SplitAcceptance"
    message = typed["message"]
    assert message["sheetHash"] == sheet.sheet_hash and message["version"] == sheet.version
    assert (message["workId"], message["party"], message["bps"]) == (work.pk, co_creator.address, 100)
    # another sheet (another share) is another message: a signature for one never fits the other
    other = services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "inker", 200)]
    )
    other_typed = services.split_acceptance_typed_data(sheet=other, party=other.parties.get())
    assert other_typed["message"]["sheetHash"] != message["sheetHash"]
