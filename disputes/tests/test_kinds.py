"""Each kind of dispute from filing to each decision (the improper-registration flow with escrow
and revocation on anvil is in test_registration_disputes.py), the held registration's automatic
dispute, and the limits against abuse."""

import pytest

from core.models import Notification
from disputes import services
from disputes.flows import decision as decisions
from disputes.flows import filing
from disputes.models import Dispute, DisputeEvent, Evidence
from licensing.models import Licence
from royalties.tests.factories import licence_row, work_row
from tests.fixtures.images import make_image, upload_file
from works.models import Registration

pytestmark = pytest.mark.usefixtures("reply_window_over")

Kind = Dispute.Kind
STATEMENT = "This is a statement long enough to explain what went wrong here."


@pytest.fixture
def work(creator):
    return work_row(creator.user, creator.address, title="Lighthouse")


def _file(persona, work, kind, **extra):
    return filing.dispute_file(user=persona.user, work=work, kind=kind, statement=STATEMENT, **extra)


# ------------------------------------------------------------------ held registrations


def test_a_held_registration_becomes_a_dispute_and_its_decision_releases_or_rejects_it(
    chain, creator, rival, moderator
):
    from tests.fixtures.chain import register_work

    earlier = register_work(creator, seed=77, w3=chain, title="First")
    assert earlier.registration.status == Registration.Status.PENDING
    held = register_work(rival, seed=77, w3=chain, title="Copy")
    assert held.registration.status == Registration.Status.HELD
    dispute = Dispute.objects.get(work=held)
    assert dispute.source == Dispute.Source.HOLD and dispute.kind == Kind.REGISTRATION
    assert dispute.claimant_id == creator.user.pk and dispute.respondent_id == rival.user.pk
    assert dispute.rightful_work_id == earlier.pk
    match = dispute.evidence.get(kind=Evidence.Kind.MATCH)
    assert match.same_file and match.pdq_distance == 0 and match.own_work_id == earlier.pk
    assert dispute.events.get().action == DisputeEvent.Action.HELD
    assert Notification.objects.filter(kind="dispute", user__in=[creator.user, rival.user]).count() == 2

    decisions.dispute_decide(dispute=dispute, moderator=moderator, decision="uphold", reason="A copy.")
    held.registration.refresh_from_db()
    assert held.registration.status == Registration.Status.REJECTED

    other = register_work(rival, seed=77, w3=chain, title="Copy again")
    second = Dispute.objects.get(work=other)
    decisions.dispute_decide(dispute=second, moderator=moderator, decision="reject", reason="Licensed copy.")
    other.registration.refresh_from_db()
    assert other.registration.status == Registration.Status.PENDING


def test_the_held_registrations_admin_action_decides_its_dispute_too(
    chain, creator, rival, moderator, client
):
    from tests.fixtures.chain import register_work

    register_work(creator, seed=78, w3=chain)
    held = register_work(rival, seed=78, w3=chain)
    client.force_login(moderator)
    client.post(
        "/admin/works/registration/",
        {"action": "release", "_selected_action": [held.registration.pk]},
        follow=True,
    )
    dispute = Dispute.objects.get(work=held)
    assert dispute.status == Dispute.Status.REJECTED and dispute.decided_by == moderator
    assert "list of held registrations" in dispute.decision_reason


# ------------------------------------------------------------------ improper use, payment, content


def test_improper_use_filed_by_the_owner_against_a_licensee_voids_their_licence_when_upheld(
    work, creator, buyer, outsider, moderator
):
    licence = licence_row(work, buyer.user, buyer.address)
    with pytest.raises(services.DisputeError, match="Name the licensee"):
        _file(creator, work, Kind.USE)
    dispute = _file(creator, work, Kind.USE, respondent=buyer.user)
    assert dispute.claimant == creator.user and dispute.respondent == buyer.user
    services.dispute_reply(dispute=dispute, user=buyer.user, text="I only printed it once, as licensed.")
    with pytest.raises(services.DisputeError, match="Only the two parties"):
        services.dispute_reply(dispute=dispute, user=outsider.user, text="me too")
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision="uphold", reason="Printed 10,000 posters."
    )
    licence.refresh_from_db()
    assert licence.status == Licence.Status.VOID and f"dispute #{dispute.pk}" in licence.void_reason
    assert Notification.objects.filter(user=buyer.user, kind="dispute").count() >= 2


def test_improper_use_rejected_leaves_the_licence_valid(work, creator, buyer, moderator):
    licence = licence_row(work, buyer.user, buyer.address)
    dispute = _file(creator, work, Kind.USE, respondent=buyer.user)
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision="reject", reason="Within the licence."
    )
    licence.refresh_from_db()
    assert licence.status == Licence.Status.VALID
    with pytest.raises(services.DisputeError, match="was decided"):
        services.dispute_reply(dispute=dispute, user=buyer.user, text="thanks")


@pytest.mark.parametrize("decision", ["uphold", "reject"])
def test_improper_payment_is_decided_and_logged_without_touching_the_work(
    work, creator, buyer, moderator, decision
):
    licence_row(work, buyer.user, buyer.address)
    dispute = _file(buyer, work, Kind.PAYMENT)
    assert dispute.respondent == creator.user
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision=decision, reason="Checked the ledger."
    )
    dispute.refresh_from_db()
    assert dispute.status == ("upheld" if decision == "uphold" else "rejected")
    work.registration.refresh_from_db()
    assert work.registration.status == Registration.Status.CONFIRMED
    event = dispute.events.order_by("pk").last()
    assert event.actor == moderator and event.text == "Checked the ledger."


def test_content_standards_upheld_with_revocation_delists_the_work(chain, creator, outsider, moderator):
    from tests.fixtures.chain import register_work

    work = register_work(creator, seed=79, w3=chain)
    dispute = _file(outsider, work, Kind.CONTENT)
    assert not Dispute.objects.filter(pk=dispute.pk, kind=Kind.REGISTRATION).exists()
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision="uphold", reason="Hate imagery.", revoke=True
    )
    work.registration.refresh_from_db()
    assert work.registration.status == Registration.Status.REVOKED
    assert work.revocation.reason == "Hate imagery."


def test_content_standards_rejected_changes_nothing(work, outsider, moderator):
    dispute = _file(outsider, work, Kind.CONTENT)
    decisions.dispute_decide(
        dispute=dispute, moderator=moderator, decision="reject", reason="Fine art.", revoke=True
    )
    dispute.refresh_from_db()
    work.registration.refresh_from_db()
    assert not dispute.revoked and work.registration.status == Registration.Status.CONFIRMED


# ------------------------------------------------------------------ refusals and limits


def test_refusals_say_what_is_wrong(work, creator, outsider, draft):
    with pytest.raises(services.DisputeError, match="your own registration"):
        _file(creator, work, Kind.REGISTRATION)
    with pytest.raises(services.DisputeError, match="Only registered works"):
        _file(outsider, draft(seed=3), Kind.REGISTRATION)
    with pytest.raises(services.DisputeError, match="20 to 5,000"):
        filing.dispute_file(user=outsider.user, work=work, kind=Kind.REGISTRATION, statement="mine")
    with pytest.raises(services.DisputeError, match="what kind"):
        _file(outsider, work, "theft")
    with pytest.raises(services.DisputeError, match="not a web address"):
        _file(outsider, work, Kind.REGISTRATION, urls=[("javascript:alert(1)", None, "")])
    with pytest.raises(services.DisputeError, match="not a JPEG, PNG or WebP image, a PDF"):
        _file(outsider, work, Kind.REGISTRATION, files=[upload_file(b"\x00\x01\x02\xff" * 10, name="a.bin")])
    assert not Dispute.objects.exists()  # nothing half-made


def test_abuse_limits_open_disputes_per_user_and_one_per_work_and_kind(creator, outsider, settings):
    settings.DISPUTES_OPEN_MAX = 2
    works = [work_row(creator.user, creator.address, title=f"W{i}") for i in range(3)]
    first = _file(outsider, works[0], Kind.REGISTRATION)
    with pytest.raises(services.DisputeError) as duplicate:
        _file(outsider, works[0], Kind.REGISTRATION)
    assert duplicate.value.status == 409 and f"#{first.pk}" in duplicate.value.message
    _file(outsider, works[1], Kind.CONTENT)
    with pytest.raises(services.DisputeError) as limit:
        _file(outsider, works[2], Kind.REGISTRATION)
    assert limit.value.status == 429 and "2 open disputes" in limit.value.message


def test_evidence_size_and_count_limits(work, outsider, settings):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 50_000
    settings.DISPUTE_EVIDENCE_MAX_FILES = 2
    big = upload_file(make_image(seed=1, size=(1600, 1200), quality=100), name="big.jpg")
    assert big.size > 50_000
    with pytest.raises(services.DisputeError) as too_large:
        _file(outsider, work, Kind.REGISTRATION, files=[big])
    assert too_large.value.status == 413 and "big.jpg" in too_large.value.message
    small = [upload_file(make_image(seed=i, size=(64, 64)), name=f"s{i}.jpg") for i in range(3)]
    dispute = _file(outsider, work, Kind.REGISTRATION, files=small[:2])
    with pytest.raises(services.DisputeError) as too_many:
        services.evidence_add(dispute=dispute, user=outsider.user, files=small[2:])
    assert too_many.value.status == 413 and "at most 2 evidence files" in too_many.value.message
    assert dispute.evidence.count() == 2


def test_documents_are_kept_with_their_hash_and_images_get_a_pdq_distance(work, outsider):
    pdf = b"%PDF-1.4\n% a contract\n"
    dispute = _file(
        outsider,
        work,
        Kind.REGISTRATION,
        files=[
            upload_file(pdf, name="contract.pdf"),
            upload_file(b"Sketch dated 2019-03-02", name="note.txt"),
        ],
    )
    kinds = {e.original_name: (e.kind, e.mime) for e in dispute.evidence.all()}
    assert kinds == {
        "contract.pdf": ("document", "application/pdf"),
        "note.txt": ("document", "text/plain"),
    }
    image = services.evidence_add(
        dispute=dispute, user=outsider.user, files=[upload_file(make_image(seed=9), name="other.jpg")]
    )[0]
    assert image.kind == "file" and image.pdq and image.pdq_distance is not None and not image.same_file
