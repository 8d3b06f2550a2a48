"""The one follower of users' wallet transactions: hashes checked, each hash belongs to one
payment and one person, a subject takes a bounded number of attempts, and the confirmed event
(or a reorganisation) moves its state."""

import pytest
from django.utils import timezone

from core.chain import wallet
from core.chain.models import WalletTransaction

pytestmark = pytest.mark.django_db
HASH = "0x" + "ab" * 32


@pytest.mark.parametrize("bad", ["", "0x123", "ab" * 33, "0x" + "zz" * 32, None, 12])
def test_anything_but_a_transaction_hash_is_refused(bad, buyer):
    with pytest.raises(wallet.WalletTxError, match="64 hex digits"):
        wallet.wallet_tx_report(kind="purchase", subject="q1", tx_hash=bad, user=buyer.user)
    assert not WalletTransaction.objects.exists()


def test_a_hash_belongs_to_one_payment_and_one_person(buyer, outsider):
    first = wallet.wallet_tx_report(
        kind="purchase", subject="q1", tx_hash=HASH.upper().replace("0X", "0x"), user=buyer.user
    )
    assert first.tx_hash == HASH
    assert wallet.wallet_tx_report(kind="purchase", subject="q1", tx_hash=HASH, user=buyer.user) == first
    for kind, subject, user in (
        ("purchase", "q2", buyer.user),
        ("withdrawal", "q1", buyer.user),
        ("purchase", "q1", outsider.user),
    ):
        with pytest.raises(wallet.WalletTxError, match="something else"):
            wallet.wallet_tx_report(kind=kind, subject=subject, tx_hash=HASH, user=user)
    assert WalletTransaction.objects.count() == 1


def test_a_payment_takes_a_bounded_number_of_attempts(buyer):
    for n in range(wallet.MAX_PER_SUBJECT):
        wallet.wallet_tx_report(kind="purchase", subject="q1", tx_hash=f"0x{n:064x}", user=buyer.user)
    with pytest.raises(wallet.WalletTxError) as refused:
        wallet.wallet_tx_report(kind="purchase", subject="q1", tx_hash="0x" + "f" * 64, user=buyer.user)
    assert refused.value.status == 429


def test_the_confirmed_event_confirms_and_a_reorganisation_sends_it_back(buyer):
    wallet.wallet_tx_report(kind="withdrawal", subject=buyer.address, tx_hash=HASH, user=buyer.user)
    now = timezone.now()
    assert wallet.wallet_tx_confirmed(tx_hash=HASH.upper().replace("0X", "0x"), at=now, amount=10**30) == 1
    tx = WalletTransaction.objects.get()
    assert (tx.status, tx.amount, tx.confirmed_at) == ("confirmed", 10**30, now)
    assert wallet.wallet_tx_confirmed(tx_hash=HASH, at=now, amount=1) == 0  # once
    assert wallet.wallet_tx_unconfirmed(tx_hash=HASH) == 1
    assert WalletTransaction.objects.get().status == "submitted"
