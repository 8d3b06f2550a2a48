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


@pytest.mark.django_db(transaction=True)
def test_payments_and_withdrawals_reported_before_become_wallet_transactions():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [
        ("licensing", "0009_manifest_covering_indexes"),
        ("royalties", "0008_reconciliation_surplus"),
        ("chain", "0004_wallet_transactions"),
    ]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="0x" + "2" * 40)
    work = _row(old, "works", "Work", owner=user, creator_address=user.username)
    terms = _row(old, "licensing", "LicenceTerms")
    offer = _row(old, "licensing", "Offer", work=work, terms=terms)
    quote = _row(old, "licensing", "Quote", quote_id="0x" + "1" * 64, offer=offer, buyer=user)
    old.get_model("licensing", "QuotePayment").objects.create(
        quote=quote, tx_hash=HASH, status="reverted", reason="The amount sent was not the quoted price."
    )
    old.get_model("royalties", "Withdrawal").objects.create(
        user=user, address="0x" + "2" * 40, tx_hash="0x" + "cd" * 32, status="confirmed", amount=10**25
    )

    MigrationExecutor(connection).migrate(leaves)

    purchase = WalletTransaction.objects.get(tx_hash=HASH)
    assert (purchase.kind, purchase.subject, purchase.status, purchase.user_id) == (
        "purchase",
        quote.quote_id,
        "reverted",
        user.pk,
    )
    assert purchase.reason == "The amount sent was not the quoted price."
    withdrawal = WalletTransaction.objects.get(kind="withdrawal")
    assert (withdrawal.subject, withdrawal.status, withdrawal.amount) == (
        "0x" + "2" * 40,
        "confirmed",
        10**25,
    )


def _row(apps, app, name, **given):
    """A row of a historical model with what it requires filled in (text, numbers, JSON)."""
    from django.db import models

    model = apps.get_model(app, name)
    values = dict(given)
    for field in model._meta.concrete_fields:
        if field.name in values or field.primary_key or field.null or field.has_default():
            continue
        if isinstance(field, models.ForeignKey) or getattr(field, "auto_now_add", False):
            continue
        if isinstance(field, models.JSONField):
            values[field.name] = {}
        elif isinstance(field, models.CharField | models.TextField | models.FileField):
            values[field.name] = "0x" + "3" * 64 if "hash" in field.name else "x"
        else:
            values[field.name] = 0
    return model.objects.create(**values)
