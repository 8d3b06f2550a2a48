import pytest

from works import services
from works.models import Registration

pytestmark = pytest.mark.anvil


@pytest.fixture
def moderator(django_user_model, transactional_db):
    return django_user_model.objects.create_superuser("moderator", "mod@example.org", "x-long-password-1")


def test_a_moderator_releases_a_held_registration(register, client, chain, creator, outsider, moderator):
    register(creator, seed=200, w3=chain)
    held = register(outsider, seed=200, w3=chain, title="Copy").registration
    client.force_login(moderator)

    listing = client.get("/admin/works/registration/?status=held").content.decode()
    assert "identical file" in listing

    response = client.post(
        "/admin/works/registration/", {"action": "release", "_selected_action": [held.pk]}, follow=True
    )
    assert "Released 1 registration(s)." in response.content.decode()
    held.refresh_from_db()
    assert held.status == Registration.Status.PENDING


def test_a_moderator_rejects_and_cannot_reject_twice(
    register, client, chain, creator, outsider, moderator, settings
):
    settings.DISPUTES_REPLY_DAYS = 0  # the reply window is tested in disputes/tests/test_reply_window.py
    register(creator, seed=201, w3=chain)
    held = register(outsider, seed=201, w3=chain, title="Copy").registration
    client.force_login(moderator)
    client.post("/admin/works/registration/", {"action": "reject", "_selected_action": [held.pk]})
    response = client.post(
        "/admin/works/registration/", {"action": "reject", "_selected_action": [held.pk]}, follow=True
    )
    assert services.ERR_NOT_HELD in response.content.decode()
    held.refresh_from_db()
    assert held.status == Registration.Status.REJECTED


def test_moderators_never_see_another_persons_unsigned_draft_in_admin(client, draft, creator, moderator):
    """The visibility rule holds in admin too: list, search, change page and the registration."""
    from django.contrib.auth.models import Permission

    from royalties.tests.factories import work_row

    mine = draft(seed=31, title="Unsigned sketch")
    public = work_row(creator.user, creator.address, title="Public lighthouse")
    staff = type(moderator).objects.create_user("mod2", "m2@example.org", "x-long-password-1", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="moderate", content_type__app_label="works"),
        *Permission.objects.filter(codename__startswith="view_"),
    )
    for who in (moderator, staff):
        client.force_login(who)
        listing = client.get("/admin/works/work/").content.decode()
        assert "Public lighthouse" in listing and "Unsigned sketch" not in listing
        assert client.get(f"/admin/works/work/?q={mine.sha256}").context["cl"].result_count == 0
        assert client.get(f"/admin/works/work/{mine.pk}/change/").status_code == 302  # "doesn't exist"
        assert client.get(f"/admin/works/registration/{mine.registration.pk}/change/").status_code == 302
        assert "Unsigned sketch" not in client.get("/admin/works/registration/").content.decode()
        assert client.get(f"/admin/works/work/{public.pk}/change/").status_code == 200
    client.force_login(creator.user)  # not staff: admin is closed to them anyway
    assert client.get("/admin/works/work/").status_code == 302
