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


def test_a_moderator_rejects_and_cannot_reject_twice(register, client, chain, creator, outsider, moderator):
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
