"""Dispute pages and the moderation admin: who may see and do what on every dispute URL, the
filing form's errors, evidence files served to parties only, and the decision form."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, get_resolver

from disputes.flows import decision as decisions
from disputes.flows import filing
from disputes.models import Dispute, Evidence
from royalties.tests.factories import work_row
from tests.fixtures.images import make_image, upload_file

STATEMENT = "I made this picture in 2019 and never licensed it to this account."


@pytest.fixture
def work(creator):
    return work_row(creator.user, creator.address, title="Lighthouse")


@pytest.fixture
def dispute(work, outsider):
    return filing.dispute_file(
        user=outsider.user,
        work=work,
        kind=Dispute.Kind.REGISTRATION,
        statement=STATEMENT,
        files=[upload_file(make_image(seed=5), name="mine.jpg")],
    )


@pytest.fixture
def staff(db, django_user_model):
    """Staff without the moderation permission (can view works in admin, not disputes)."""
    user = django_user_model.objects.create_user(
        "staff", "staff@example.org", "x-long-password-1", is_staff=True
    )
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return django_user_model.objects.get(pk=user.pk)


def _dispute_urls(dispute, evidence):
    return {
        "detail": (f"/disputes/{dispute.pk}/", "get"),
        "evidence_add": (f"/disputes/{dispute.pk}/evidence", "post"),
        "reply": (f"/disputes/{dispute.pk}/reply", "post"),
        "evidence_file": (f"/disputes/{dispute.pk}/evidence/{evidence.pk}", "get"),
    }


def test_every_dispute_url_is_covered():
    from disputes import urls

    names = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == {"index", "file", "detail", "evidence_add", "reply", "evidence_file"}
    assert get_resolver()  # the project mounts them


def test_outsiders_and_plain_staff_get_404_parties_and_moderators_get_the_page(
    client, dispute, creator, outsider, buyer, staff, moderator
):
    evidence = dispute.evidence.get()
    urls = _dispute_urls(dispute, evidence)
    for path, method in urls.values():
        assert getattr(client, method)(path).status_code == 302  # anonymous: sign in first
    for who in (buyer.user, staff):
        client.force_login(who)
        for name, (path, method) in urls.items():
            body = {"text": "hello"} if name == "reply" else {"note": "x"}
            response = getattr(client, method)(path, body) if method == "post" else client.get(path)
            assert response.status_code == 404, (who, name)
    assert dispute.events.count() == 1  # nothing was added by them
    for who in (creator.user, outsider.user, moderator):
        client.force_login(who)
        assert client.get(urls["detail"][0]).status_code == 200
        image = client.get(urls["evidence_file"][0])
        assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
        assert image["Content-Security-Policy"].startswith("sandbox")
    client.force_login(moderator)  # moderators read, they do not take part
    assert client.post(urls["reply"][0], {"text": "hi"}).status_code == 403


def test_parties_reply_and_add_evidence_and_the_other_is_told(client, dispute, creator, outsider):
    from core.models import Notification

    client.force_login(creator.user)
    response = client.post(f"/disputes/{dispute.pk}/reply", {"text": "I bought it from the artist."})
    assert response.status_code == 302
    assert Notification.objects.filter(user=outsider.user, text__contains="replied").exists()
    response = client.post(
        f"/disputes/{dispute.pk}/evidence",
        {"url": "https://example.org/receipt", "url_date": "2020-01-02", "note": "Receipt"},
    )
    assert response.status_code == 302
    assert dispute.evidence.filter(kind=Evidence.Kind.URL, party=creator.user).exists()
    page = client.get(dispute.get_absolute_url()).content.decode()
    assert "I bought it from the artist." in page and "https://example.org/receipt" in page
    assert Notification.objects.filter(user=outsider.user, text__contains="added evidence").exists()
    response = client.post(
        f"/disputes/{dispute.pk}/evidence", {"url_date": "2999-01-01", "url": "https://e.org"}
    )
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()


def test_the_filing_form_files_with_a_file_and_shows_errors_in_words(
    client, work, outsider, creator, settings
):
    client.force_login(outsider.user)
    page = client.get(f"/works/{work.pk}/dispute")
    assert page.status_code == 200 and b"improper registration" in page.content
    bad = client.post(f"/works/{work.pk}/dispute", {"kind": "registration", "statement": "short"})
    assert bad.status_code == 400 and "at least 20 characters" in bad.content.decode()
    response = client.post(
        f"/works/{work.pk}/dispute",
        {
            "kind": "registration",
            "statement": STATEMENT,
            "files": [upload_file(make_image(seed=8), name="proof.jpg")],
            "url": "https://artist.example.org/lighthouse",
            "url_date": "2019-05-01",
        },
    )
    assert response.status_code == 302
    dispute = Dispute.objects.get(work=work)
    assert response["Location"] == dispute.get_absolute_url()
    assert dispute.evidence.count() == 2
    settings.DISPUTE_EVIDENCE_TOTAL_BYTES = 1000
    too_big = client.post(
        f"/works/{work.pk}/dispute",
        {"kind": "content", "statement": STATEMENT, "files": [upload_file(b"x" * 3_000_000, name="big.txt")]},
    )
    assert too_big.status_code == 413 and "may total at most" in too_big.content.decode()
    client.force_login(creator.user)  # the owner reports use or payment, against a licensee
    own = client.get(f"/works/{work.pk}/dispute").content.decode()
    assert "improper use" in own and "improper registration" not in own and 'name="against"' in own


def test_a_draft_or_missing_work_cannot_be_disputed(client, outsider, draft):
    client.force_login(outsider.user)
    assert client.get(f"/works/{draft(seed=2).pk}/dispute").status_code == 404
    assert client.get("/works/999999/dispute").status_code == 404


def test_the_index_lists_a_users_disputes_only(client, dispute, outsider, buyer):
    client.force_login(outsider.user)
    assert f"#{dispute.pk}" in client.get("/disputes/").content.decode()
    client.force_login(buyer.user)
    assert f"#{dispute.pk}" not in client.get("/disputes/").content.decode()


# ------------------------------------------------------------------ admin


def test_admin_queue_is_for_moderators_only_and_ordered_open_oldest_first(
    client, creator, outsider, buyer, staff, moderator
):
    works = [work_row(creator.user, creator.address, title=f"W{i}") for i in range(3)]
    first = filing.dispute_file(user=outsider.user, work=works[0], kind="content", statement=STATEMENT)
    second = filing.dispute_file(user=buyer.user, work=works[1], kind="registration", statement=STATEMENT)
    decided = filing.dispute_file(user=buyer.user, work=works[2], kind="registration", statement=STATEMENT)
    decisions.dispute_decide(dispute=decided, moderator=moderator, decision="reject", reason="No.")
    for path in (
        "/admin/disputes/dispute/",
        f"/admin/disputes/dispute/{first.pk}/change/",
        f"/admin/disputes/dispute/{first.pk}/decide/",
    ):
        client.force_login(staff)
        assert client.get(path).status_code == 403, path
        client.force_login(outsider.user)
        assert client.get(path).status_code == 302, path  # to the admin login
    client.force_login(staff)
    assert (
        client.post(
            f"/admin/disputes/dispute/{first.pk}/decide/", {"decision": "uphold", "reason": "x"}
        ).status_code
        == 403
    )
    first.refresh_from_db()
    assert first.is_open
    client.force_login(moderator)
    listing = client.get("/admin/disputes/dispute/")
    assert listing.status_code == 200
    order = [row.pk for row in listing.context["cl"].result_list]
    assert order == [first.pk, second.pk, decided.pk]


def test_moderator_sees_evidence_side_by_side_and_decides_with_a_reason(client, dispute, work, moderator):
    client.force_login(moderator)
    page = client.get(f"/admin/disputes/dispute/{dispute.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="side-disputed"' in html and 'data-testid="side-evidence"' in html
    assert work.sha256 in html and "PDQ distance to the disputed work" in html
    assert "The parties&#x27; history" in html or "The parties' history" in html
    missing = client.post(
        f"/admin/disputes/dispute/{dispute.pk}/decide/", {"decision": "reject", "reason": ""}
    )
    assert missing.status_code == 400
    dispute.refresh_from_db()
    assert dispute.is_open
    done = client.post(
        f"/admin/disputes/dispute/{dispute.pk}/decide/",
        {"decision": "reject", "reason": "Different picture."},
    )
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "rejected" and dispute.decided_by == moderator
    again = client.post(
        f"/admin/disputes/dispute/{dispute.pk}/decide/", {"decision": "uphold", "reason": "x"}
    )
    assert again.status_code == 409 and "already decided" in again.content.decode()


def test_derivatives_of_a_disputed_work_are_flagged(client, work, creator, upstream_creator, outsider):
    from royalties.tests.factories import licence_row
    from works.models import DerivationLink

    child = work_row(upstream_creator.user, upstream_creator.address, title="Remix")
    licence = licence_row(work, upstream_creator.user, upstream_creator.address, share_bps=1000)
    DerivationLink.objects.create(child=child, parent=work, licence=licence, share_bps=1000)
    assert 'data-testid="derivative-flag"' not in client.get(child.get_absolute_url()).content.decode()
    filing.dispute_file(user=outsider.user, work=work, kind="registration", statement=STATEMENT)
    page = client.get(child.get_absolute_url()).content.decode()
    assert 'data-testid="derivative-flag"' in page and "in dispute" in page


def test_list_pages_take_a_fixed_number_of_queries(client, creator, outsider, moderator):
    """The disputes index and the admin queue: the same queries for 1 or 5 disputes."""

    def file(n):
        for i in range(n):
            work = work_row(creator.user, creator.address, title=f"Q{i}")
            filing.dispute_file(user=outsider.user, work=work, kind="content", statement=STATEMENT)

    counts = {}
    for n in (1, 4):
        file(n)
        for who, path in ((outsider.user, "/disputes/"), (moderator, "/admin/disputes/dispute/")):
            client.force_login(who)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(path).status_code == 200
            counts.setdefault(path, []).append(len(ctx))
    assert all(len(set(c)) == 1 for c in counts.values()), counts


def test_a_held_registrations_dispute_page_reads_for_both_parties_and_moderators(
    client, work, creator, outsider, moderator, reply_window_over
):
    """The match evidence has no party (the portal's check made it): its page must still render."""
    from works.models import Registration

    copy = work_row(outsider.user, outsider.address, title="Copy", status=Registration.Status.HELD)
    registration = copy.registration
    registration.hold_reason = "Matches an earlier registration by another creator."
    registration.hold_evidence = [
        {"work_id": work.pk, "distance": 4, "exact": False, "creator_address": creator.address}
    ]
    registration.save()
    dispute = filing.dispute_from_hold(registration=registration)
    assert dispute.evidence.get().party is None
    for who, role_words in (
        (creator.user, "opened this dispute for you"),
        (outsider.user, "Your registration was held"),
        (moderator, "You are a moderator"),
    ):
        client.force_login(who)
        response = client.get(dispute.get_absolute_url())
        assert response.status_code == 200, who
        html = response.content.decode()
        assert "the portal's near-duplicate check" in html and role_words in html
    decisions.dispute_decide(dispute=dispute, moderator=moderator, decision="uphold", reason="A copy.")
    client.force_login(outsider.user)
    assert "Decided against you (upheld)" in client.get(dispute.get_absolute_url()).content.decode()
    client.force_login(creator.user)
    assert "Decided in your favour (upheld)" in client.get("/disputes/").content.decode()
