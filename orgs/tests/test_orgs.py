"""Organisations through their pages: members, paying wallets, API keys shown once and stored
hashed, revoked at once; nobody outside sees any of it."""

import pytest

from orgs import services
from orgs.models import ApiKey, Membership
from orgs.selectors import key_for_secret

pytestmark = pytest.mark.django_db


def test_a_signed_in_wallet_creates_an_organisation_and_is_its_admin(client, ai_company):
    client.force_login(ai_company.user)
    response = client.post("/orgs/", {"name": "Acme AI"}, follow=True)
    assert "Acme AI created" in response.content.decode()
    membership = Membership.objects.get(user=ai_company.user)
    assert membership.role == "admin" and membership.org.slug == "acme-ai"
    assert list(membership.org.wallets.values_list("address", flat=True)) == [ai_company.address]
    assert client.post("/orgs/", {"name": "Acme AI"}).status_code == 302
    assert Membership.objects.get(user=ai_company.user, org__slug="acme-ai-2")


def test_a_key_is_shown_once_stored_hashed_and_works_until_revoked(client, org, ai_company):
    client.force_login(ai_company.user)
    response = client.post(
        f"/orgs/{org.slug}/keys",
        {"name": "pipeline", "scopes": ["read", "report"], "rate_per_minute": 60},
        follow=True,
    )
    assert response.redirect_chain == [(f"/orgs/{org.slug}/", 302)]  # a reload never re-posts
    assert response["Cache-Control"] == "no-store"
    key = response.context["new_key"]
    assert key.startswith("cip_") and key in response.content.decode()
    row = ApiKey.objects.get()
    assert row.scopes == ["read", "report"] and key not in (row.digest, row.prefix) and len(row.digest) == 64
    assert key_for_secret(key) == row
    page = client.get(f"/orgs/{org.slug}/").content.decode()
    assert key not in page and f"cip_{row.prefix}_…" in page  # never shown again
    client.post(f"/orgs/{org.slug}/keys/{row.pk}/revoke")
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_only_admins_manage_and_only_members_see(client, org, ai_member, rival, outsider):
    client.force_login(ai_member.user)
    assert client.get(f"/orgs/{org.slug}/").status_code == 200
    assert (
        client.post(
            f"/orgs/{org.slug}/keys", {"name": "x", "scopes": ["read"], "rate_per_minute": 1}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/orgs/{org.slug}/members", {"address": outsider.address, "role": "admin"}).status_code
        == 404
    )
    for stranger in (rival, outsider):
        client.force_login(stranger.user)
        assert client.get(f"/orgs/{org.slug}/").status_code == 404
    assert ApiKey.objects.count() == 0


def test_members_are_wallets_that_signed_in_and_the_last_admin_stays(
    client, org, ai_company, ai_member, wallet
):
    client.force_login(ai_company.user)
    response = client.post(
        f"/orgs/{org.slug}/members", {"address": wallet.address, "role": "member"}, follow=True
    )
    assert "sign in once with their wallet" in response.content.decode()
    admin = Membership.objects.get(org=org, role="admin")
    with pytest.raises(services.OrgError, match="at least one admin"):
        services.member_remove(org=org, by=ai_company.user, membership=admin)
    member = Membership.objects.get(org=org, user=ai_member.user)
    services.member_remove(org=org, by=ai_company.user, membership=member)
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_a_key_needs_a_name_and_a_scope(org, ai_company):
    with pytest.raises(services.OrgError, match="Choose at least one scope"):
        services.api_key_create(org=org, by=ai_company.user, name="k", scopes=["admin"])
    with pytest.raises(services.OrgError, match="Name the key"):
        services.api_key_create(org=org, by=ai_company.user, name=" ", scopes=["read"])
