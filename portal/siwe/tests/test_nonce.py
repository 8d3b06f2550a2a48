import re

import pytest

from portal.siwe.models import SiweNonce

pytestmark = pytest.mark.django_db


def test_it_returns_a_fresh_alphanumeric_nonce_bound_to_the_session(client):
    first = client.get("/auth/siwe/nonce")
    second = client.get("/auth/siwe/nonce")

    assert first.status_code == 200
    nonce = first.json()["nonce"]
    assert re.fullmatch(r"[A-Za-z0-9]{8,}", nonce)
    assert nonce != second.json()["nonce"]
    assert SiweNonce.objects.get(nonce=nonce).session_key == client.session.session_key
    assert "no-store" in first["Cache-Control"] or "no-cache" in first["Cache-Control"]


def test_nonce_is_short_lived(client, settings):
    nonce = client.get("/auth/siwe/nonce").json()["nonce"]
    row = SiweNonce.objects.get(nonce=nonce)
    assert (row.expires_at - row.created_at).total_seconds() == settings.SIWE_NONCE_TTL_SECONDS


def test_it_is_rate_limited_per_client(client, settings):
    settings.SIWE_NONCE_RATE = "3/m"
    statuses = [client.get("/auth/siwe/nonce").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = client.get("/auth/siwe/nonce")
    assert "Too many sign-in attempts" in response.json()["error"]


def test_rate_limits_are_per_client(client, settings):
    from django.test import Client

    settings.SIWE_NONCE_RATE = "2/m"
    for _ in range(3):
        client.get("/auth/siwe/nonce")
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.get("/auth/siwe/nonce").status_code == 200
