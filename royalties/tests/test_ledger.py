"""The ledger: balanced, idempotent, append-only (in the models and, on PostgreSQL, in the
database), exact at 78 digits, with day totals that always equal their lines."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from royalties.ledger import (
    EntrySpec,
    Leg,
    UnbalancedEntry,
    balance,
    earnings_days_rebuild,
    entries_unbalanced,
    ledger_post,
    ledger_post_many,
    ledger_reverse,
)
from royalties.models import EarningsDay, JournalEntry, JournalLine, LedgerAccount, LedgerImmutable

pytestmark = pytest.mark.django_db
Kind = LedgerAccount.Kind
A, B, C = ("0x" + c * 40 for c in "abc")
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _sale(key, amount, *, payee=A, at=NOW):
    return EntrySpec(
        key=key,
        kind="sale",
        occurred_at=at,
        legs=[
            Leg(Kind.BUYER_PAID, B, -amount),
            Leg(Kind.CREDITED, payee, amount, earning=True, meta={"role": "creator"}),
        ],
    )


def test_an_entry_must_balance():
    spec = _sale("k1", 10)
    spec.legs[0].amount = -9
    with pytest.raises(UnbalancedEntry, match="k1 does not balance"):
        ledger_post(spec)
    assert JournalEntry.objects.count() == 0


def test_posting_is_idempotent_on_the_key():
    first = ledger_post(_sale("chain:tx:1", 10))
    again = ledger_post(_sale("chain:tx:1", 10))
    assert first.pk == again.pk
    assert JournalLine.objects.count() == 2 and balance(kind=Kind.CREDITED, address=A) == 10
    assert ledger_post_many([_sale("chain:tx:1", 10), _sale("chain:tx:2", 5)]) == 1


def test_78_digit_amounts_are_exact():
    huge = 2**255 + 12345
    ledger_post(_sale("big", huge))
    ledger_post(_sale("small", 1))
    assert balance(kind=Kind.CREDITED, address=A) == huge + 1
    assert EarningsDay.objects.get().amount == huge + 1
    assert entries_unbalanced() == []


def test_rows_cannot_be_updated_or_deleted_through_the_models():
    entry = ledger_post(_sale("k", 10))
    line = entry.lines.get(account__kind=Kind.CREDITED)
    line.amount = 11
    with pytest.raises(LedgerImmutable):
        line.save()
    with pytest.raises(LedgerImmutable):
        line.delete()
    with pytest.raises(LedgerImmutable):
        JournalLine.objects.filter(pk=line.pk).update(amount=11)
    with pytest.raises(LedgerImmutable):
        JournalEntry.objects.all().delete()
    assert JournalLine.objects.get(pk=line.pk).amount == 10


@pytest.mark.postgres
def test_postgresql_refuses_updates_deletes_and_unbalanced_inserts(postgres):
    entry = ledger_post(_sale("k", 10))
    table = JournalLine._meta.db_table
    for sql in (f"UPDATE {table} SET amount = 11", f"DELETE FROM {table}"):  # noqa: S608
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    account = entry.lines.first().account_id
    with (
        pytest.raises(IntegrityError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"INSERT INTO {table} (entry_id, account_id, amount, currency, occurred_at, earning, "  # noqa: S608
            "role, party_role, counterparty, reference) "
            "VALUES (%s, %s, 5, 'ETH', now(), false, '', '', '', '')",
            [entry.pk, account],
        )
    assert balance(kind=Kind.CREDITED, address=A) == 10


def test_a_reversal_mirrors_the_entry_once_and_day_totals_follow():
    entry = ledger_post(_sale("k", 10))
    ledger_post(_sale("k2", 7, at=NOW + timedelta(days=1)))
    reversal = ledger_reverse(entry=entry, occurred_at=NOW)
    assert ledger_reverse(entry=entry, occurred_at=NOW).pk == reversal.pk
    assert reversal.reverses_id == entry.pk and reversal.kind == "reversal"
    assert balance(kind=Kind.CREDITED, address=A) == 7
    assert balance(kind=Kind.BUYER_PAID, address=B) == -7
    days = dict(EarningsDay.objects.values_list("day", "amount"))
    assert days == {NOW.date(): 0, (NOW + timedelta(days=1)).date(): 7}


def test_day_totals_equal_their_lines_after_many_posts():
    specs = [_sale(f"k{i}", i + 1, payee=[A, C][i % 2], at=NOW + timedelta(hours=7 * i)) for i in range(60)]
    ledger_post_many(specs[:30])
    for spec in specs[30:]:
        ledger_post(spec)
    kept = {(r.account_id, r.day): (r.amount, r.lines) for r in EarningsDay.objects.all()}
    earnings_days_rebuild()
    assert {(r.account_id, r.day): (r.amount, r.lines) for r in EarningsDay.objects.all()} == kept
    assert sum(amount for amount, _ in kept.values()) == sum(range(1, 61))


@pytest.mark.postgres
def test_postgresql_refuses_lines_naming_what_does_not_exist(postgres):
    entry = ledger_post(_sale("k", 10))
    table = JournalLine._meta.db_table
    account = entry.lines.first().account_id
    for entry_id, account_id, message in (
        (entry.pk + 999, account, "entry"),
        (entry.pk, account + 999, "account"),
    ):
        with (
            pytest.raises(IntegrityError, match=f"names an {message} that does not exist"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"INSERT INTO {table} (entry_id, account_id, amount, currency, occurred_at, earning, "  # noqa: S608
                "role, party_role, counterparty, reference) "
                "VALUES (%s, %s, 0, 'ETH', now(), false, '', '', '', '')",
                [entry_id, account_id],
            )
    with (
        pytest.raises(IntegrityError, match="has journal lines"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {LedgerAccount._meta.db_table} WHERE id = %s", [account])  # noqa: S608
