"""Two parallel verifications with one nonce give exactly one session (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from tests.fixtures.services import require_service
from tests.fixtures.siwe import personal_sign, siwe_message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reuse_of_one_nonce_gives_exactly_one_session(wallet):
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    client = Client()
    nonce = client.get("/auth/siwe/nonce").json()["nonce"]
    cookie = client.cookies["sessionid"].value
    message = siwe_message(address=wallet.address, nonce=nonce)
    signature = personal_sign(wallet, message)

    results = []
    barrier = threading.Barrier(6)

    def attempt(index):
        from django.db import connections

        racer = Client()
        racer.cookies["sessionid"] = cookie
        barrier.wait()
        try:
            response = racer.post(
                "/auth/siwe/verify",
                data={"message": message, "signature": signature},
                content_type="application/json",
                REMOTE_ADDR="10.0.0.7",  # one client racing itself: the lockout counter races too
            )
            results.append(response.status_code)
        except Exception as exc:  # a 500 re-raised by the test client
            results.append(f"{index}: {exc!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 6 and results.count(200) == 1, results
    assert all(status in (400, 409) for status in results if status != 200), results
