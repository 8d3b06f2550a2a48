import pytest
from eth_account import Account

from portal.siwe.views import ERR_LOCKED_OUT
from tests.fixtures.siwe import personal_sign, siwe_message

pytestmark = pytest.mark.django_db


def test_repeated_failures_lock_the_client_out(client, siwe, settings, wallet):
    settings.AXES_FAILURE_LIMIT = 3
    intruder = Account.create()
    statuses = []
    for _ in range(4):
        message = siwe_message(address=wallet.address, nonce=siwe.nonce(client))
        statuses.append(siwe.verify(client, message, personal_sign(intruder, message)).status_code)

    assert statuses[:2] == [401, 401]
    assert statuses[2:] == [429, 429]
    # Even a correct signature is refused while locked out.
    message = siwe_message(address=wallet.address, nonce=siwe.nonce(client))
    response = siwe.verify(client, message, personal_sign(wallet, message))
    assert response.status_code == 429
    assert response.json()["error"] == ERR_LOCKED_OUT


def test_verify_is_rate_limited(client, siwe, settings, wallet):
    settings.SIWE_VERIFY_RATE = "2/m"
    message = siwe_message(address=wallet.address, nonce=siwe.nonce(client))
    statuses = [siwe.verify(client, message, "0x").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
