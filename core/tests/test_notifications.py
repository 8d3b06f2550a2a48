"""Notifications in the portal: the bell's unread count, the page, reading them, and who is told
what (a sale, a co-creator request, a derivative request)."""

import pytest
from django.core import mail

from core.models import Notification
from core.notifications import notify, notify_address
from royalties.tests.factories import work_row

pytestmark = pytest.mark.django_db


def test_the_bell_counts_unread_notifications_and_the_page_reads_them(client, creator, outsider):
    first = notify(user=creator.user, kind="dispute", text="Dispute #1: filed.", url="/disputes/")
    notify(user=creator.user, kind="sale", text="“Lighthouse” sold.", url="/licences/")
    notify(user=outsider.user, kind="sale", text="Someone else's sale.", url="/licences/")
    client.force_login(creator.user)
    page = client.get("/dashboard/").content.decode()
    assert 'data-testid="bell-count">2<' in page
    listing = client.get("/notifications/").content.decode()
    assert "“Lighthouse” sold." in listing and "Someone else" not in listing
    assert "Sale" in listing and "Dispute" in listing  # each says what kind it is
    opened = client.get(f"/notifications/{first.pk}/open")
    assert opened.status_code == 302 and opened["Location"] == "/disputes/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert 'data-testid="bell-count">1<' in client.get("/dashboard/").content.decode()
    client.post("/notifications/")
    assert not Notification.objects.filter(user=creator.user, read_at__isnull=True).exists()
    assert 'data-testid="bell-count"' not in client.get("/dashboard/").content.decode()


def test_a_notification_never_leads_off_site_and_is_only_its_owners(client, creator, outsider):
    odd = notify(user=creator.user, kind="dispute", text="x", url="https://evil.example/phish")
    protocol_relative = notify(user=creator.user, kind="dispute", text="y", url="//evil.example/")
    client.force_login(creator.user)
    assert client.get(f"/notifications/{odd.pk}/open")["Location"] == "/notifications/"
    assert client.get(f"/notifications/{protocol_relative.pk}/open")["Location"] == "/notifications/"
    unread = notify(user=creator.user, kind="sale", text="z", url="/licences/")
    client.force_login(outsider.user)
    assert client.get(f"/notifications/{unread.pk}/open").status_code == 404
    client.post(f"/notifications/{unread.pk}/read")  # marking is scoped to the owner
    unread.refresh_from_db()
    assert unread.read_at is None


def test_mark_read_answers_htmx_with_the_row(client, creator):
    n = notify(user=creator.user, kind="sale", text="sold", url="/licences/")
    client.force_login(creator.user)
    row = client.post(f"/notifications/{n.pk}/read", HTTP_HX_REQUEST="true").content.decode()
    assert f'id="notification-{n.pk}"' in row and "unread" not in row


def test_email_goes_once_the_transaction_commits(creator, django_capture_on_commit_callbacks):
    creator.user.email = "artist@example.org"
    creator.user.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user=creator.user, kind="sale", text="sold", url="/licences/")
    assert len(mail.outbox) == 0 and len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1 and "/licences/" in mail.outbox[0].body


def test_a_wallet_nobody_signed_in_with_is_told_nothing_yet(creator):
    assert notify_address(address="0x" + "12" * 20, kind="split_request", text="x") is None
    told = notify_address(address=creator.address, kind="split_request", text="y")
    assert told.user == creator.user


def test_co_creators_and_parent_creators_hear_of_requests(creator, co_creator, upstream_creator):
    from royalties import services

    work = work_row(creator.user, creator.address, title="Dunes")
    services.split_sheet_propose(
        work=work, user=creator.user, parties=[(co_creator.address, "colourist", 2500)]
    )
    request = Notification.objects.get(user=co_creator.user, kind="split_request")
    assert "colourist, 25 % of the creator share" in request.text and "Dunes" in request.text
    assert request.url == f"/works/{work.pk}/splits/"
