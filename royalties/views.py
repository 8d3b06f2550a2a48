import contextlib
from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.chain.client import get_web3
from core.chain.market import labels_of
from core.chain.stablecoin import currency, format_units, units_text
from core.errors import CHAIN_ERRORS, ERR_NO_WALLET, PortalError
from core.http import json_fields, wallet_json
from core.money import wei_to_eth
from core.selectors import wallet_address_for_request, wallet_address_for_user
from core.spreadsheets import csv_response
from core.templatetags.portal_tags import bps_percent, money_html
from royalties import selectors, services
from royalties.forms import EarningsFilterForm, SplitPartyFormSet, parties_from
from royalties.models import SplitSheet
from royalties.roles import role_words
from works.models import is_moderator, work_url
from works.shortcuts import get_visible_work_or_404

ERR_NOTHING_TO_WITHDRAW = "There is nothing to withdraw yet."


def _address_or_404(request):
    address = wallet_address_for_request(request)
    if not address:
        raise Http404(ERR_NO_WALLET)
    return address


def _filters(request, account_ids):
    form = EarningsFilterForm(request.GET or None, works=selectors.earning_works(account_ids=account_ids))
    data = form.cleaned_data if form.is_valid() else {}
    return form, data.get("start"), data.get("end"), data.get("work")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor_text(line) -> str:
    """(occurred_at, id) of the last line shown, as URL-safe integers."""
    return f"{(line.occurred_at - EPOCH) // timedelta(microseconds=1)}_{line.pk}"


def _cursor(request):
    try:
        micros, pk = request.GET.get("before", "").split("_")
        return EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def _available(address):
    """What the payee can withdraw now, or None when the chain cannot be asked."""
    try:
        return services.available_to_withdraw(address=address)
    except CHAIN_ERRORS:
        return None


@login_required
def earnings(request):
    address = _address_or_404(request)
    accounts = selectors.earning_accounts(address=address)
    account_ids = accounts.get("ETH", [])
    form, start, end, work_id = _filters(request, account_ids)
    lines = selectors.earnings_lines(
        account_ids=account_ids, start=start, end=end, work_id=work_id, before=_cursor(request)
    )
    query = request.GET.copy()
    query.pop("before", None)
    next_cursor = ""
    if len(lines) == selectors.PAGE_SIZE:
        next_cursor = _cursor_text(lines[-1])
    totals, days = selectors.earnings_overview(account_ids=account_ids, start=start, end=end)
    confirmed, pending = selectors.withdrawals_for(address=address)
    ai_fetches = selectors.token_earnings(account_ids=accounts.get(currency(), []), currency=currency())
    if work_id:
        totals.in_period = selectors.earnings_lines_sum(
            account_ids=account_ids, start=start, end=end, work_id=work_id
        )
    return render(
        request,
        "royalties/earnings.html",
        {
            "ai_fetches": ai_fetches,
            "ai_rows": _token_rows(ai_fetches.lines),
            # nothing was ever credited in the token (the ledger has no account): nothing to ask
            "token_available": _token_available(address) if currency() in accounts else 0,
            "address": address,
            "form": form,
            "totals": totals,
            "available": _available(address),
            "lines": lines,
            "rows": _rows(lines),
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "chart": {
                "labels": [d.isoformat() for d, _ in days],
                # Amounts cross to the chart as exact decimal strings; Chart.js plots them.
                "values": [wei_to_eth(v) for _, v in days],
            },
            "withdrawals": confirmed,
            "pending_withdrawals": pending,
        },
    )


def _token_available(address):
    try:
        return services.token_available(address=address)
    except CHAIN_ERRORS:
        return None


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if address else ""


def _token_rows(lines) -> list[dict]:
    """Stablecoin lines (AI fetches) as the table shows them: exact amounts in the token."""
    return [
        {
            "date": line.occurred_at.strftime("%-d %b %Y, %H:%M"),
            "sold_work": line.sold_work.title if line.sold_work_id else "",
            "sold_work_url": work_url(line.sold_work_id) if line.sold_work_id else "",
            "counterparty": line.counterparty,
            "counterparty_short": f"{line.counterparty[:6]}…{line.counterparty[-4:]}"
            if line.counterparty
            else "",
            "gross": "" if line.gross is None else format_units(line.gross),
            "uses": ", ".join(labels_of(line.uses or 0)),
            "role": role_words(line.role, line.party_role),
            "share": format_units(line.amount),
            "negative": line.amount < 0,
            "tx": line.entry.tx_hash,
            "tx_short": line.entry.tx_hash[:12] + "…" if line.entry.tx_hash else "",
        }
        for line in lines
    ]


def _rows(lines) -> list[dict]:
    """Each line as the table shows it, formatted once here: a page of 50 rows renders in a
    fraction of the time the template would take resolving every attribute and filter."""

    rows = []
    for line in lines:
        role = role_words(line.role, line.party_role)
        if line.bps:
            role += f" · {bps_percent(line.bps)}"
        rows.append(
            {
                "date": line.occurred_at.strftime("%-d %b %Y, %H:%M"),  # one line: .nowrap
                "sold_work": line.sold_work.title if line.sold_work_id else "",
                "sold_work_url": work_url(line.sold_work_id) if line.sold_work_id else "",
                "via": line.work.title if line.work_id and line.work_id != line.sold_work_id else "",
                "counterparty": line.counterparty,
                "counterparty_short": f"{line.counterparty[:6]}…{line.counterparty[-4:]}"
                if line.counterparty
                else "",
                "uses": ", ".join(labels_of(line.uses or 0)),
                "gross": "" if line.gross is None else money_html(line.gross, zero="0 ETH"),
                "role": role,
                "share": money_html(line.amount, zero="0 ETH"),
                "negative": line.amount < 0,
                "tx": line.entry.tx_hash,
                "tx_short": line.entry.tx_hash[:12] + "…" if line.entry.tx_hash else "",
                "reversal": line.entry.kind == "reversal",
            }
        )
    return rows


@login_required
def statement(request):
    """The CSV statement of a period: every line, with a total row equal to the page's total."""
    address = _address_or_404(request)
    cur = currency() if request.GET.get("currency") == currency() else "ETH"  # one currency a statement
    account_ids = selectors.earning_account_ids(address=address, currency=cur)
    _, start, end, work_id = _filters(request, account_ids)
    unit = "wei" if cur == "ETH" else f"{cur} units"
    text = wei_to_eth if cur == "ETH" else units_text

    header = [
        "date (UTC)",
        "transaction",
        "work sold",
        "share from work",
        "licensee",
        "uses",
        f"gross ({unit})",
        f"gross ({cur})",
        "role",
        "basis points",
        f"your share ({unit})",
        f"your share ({cur})",
        "entry",
    ]

    def rows():
        total = 0
        yield [
            f"Earnings statement for {address}",
            f"from {start or 'the start'}",
            f"to {end or 'today'}",
            f"in {cur}",
        ]
        yield header
        for line in selectors.earnings_lines_all(
            account_ids=account_ids, start=start, end=end, work_id=work_id
        ):
            total += line.amount
            yield [
                line.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                line.entry.tx_hash,
                line.sold_work.title if line.sold_work else "",
                line.work.title if line.work else "",
                line.counterparty,
                "; ".join(labels_of(line.uses or 0)),
                "" if line.gross is None else str(line.gross),
                "" if line.gross is None else text(line.gross),
                role_words(line.role, line.party_role),
                "" if line.bps is None else line.bps,
                str(line.amount),
                text(line.amount),
                line.entry.kind,
            ]
        yield ["TOTAL", "", "", "", "", "", "", "", "", "", str(total), text(total), ""]

    name = f"earnings-{address[:10]}-{cur}-{start or 'start'}-{end or 'today'}.csv"
    return csv_response(rows(), filename=name)


@login_required
@wallet_json
def withdraw_tx(request):
    address = _address_or_404(request)
    prepared = services.withdrawal_transaction(address=address, w3=get_web3())
    if prepared is None:
        raise PortalError(ERR_NOTHING_TO_WITHDRAW, status=409, code="nothing_to_withdraw")
    tx, amount, claims = prepared
    return JsonResponse({"tx": tx, "amount": str(amount), "claims": claims})


@login_required
@wallet_json
def withdraw_token_tx(request):
    """The stablecoin balance's withdrawal, for the wallet to send."""
    address = _address_or_404(request)
    prepared = services.token_withdrawal_transaction(address=address, w3=get_web3())
    if prepared is None:
        raise PortalError(ERR_NOTHING_TO_WITHDRAW, status=409, code="nothing_to_withdraw")
    tx, amount = prepared
    return JsonResponse({"tx": tx, "amount": str(amount), "currency": currency()})


@login_required
@require_POST
@wallet_json
def withdraw_submitted(request):
    address = _address_or_404(request)
    (tx_hash,) = json_fields(request, "txHash")
    services.withdrawal_report(user=request.user, address=address, tx_hash=tx_hash)
    return JsonResponse({"status": "submitted"})


@login_required
def withdraw_status(request):
    address = _address_or_404(request)
    with contextlib.suppress(*CHAIN_ERRORS):  # the page still shows what the ledger knows
        services.withdrawals_check(address=address)
    confirmed, pending = selectors.withdrawals_for(address=address)
    return render(
        request,
        "royalties/partials/withdrawals.html",
        {"withdrawals": confirmed, "pending_withdrawals": pending, "available": _available(address)},
    )


# ------------------------------------------------------------------ split sheets


def _work_for_party(request, pk):
    work = get_visible_work_or_404(request, pk)
    address = wallet_address_for_user(user=request.user) if request.user.is_authenticated else None
    is_owner = request.user.is_authenticated and work.owner_id == request.user.pk
    if not (
        is_owner or is_moderator(request.user) or (address and address in selectors.work_parties(work=work))
    ):
        raise Http404("No such work.")
    return work, address, is_owner


@login_required
def splits(request, pk):
    work, address, is_owner = _work_for_party(request, pk)
    formset = SplitPartyFormSet(request.POST if request.method == "POST" else None, prefix="party")
    if request.method == "POST":
        if not is_owner:
            raise Http404("No such work.")
        if formset.is_valid():
            try:
                sheet = services.split_sheet_propose(
                    work=work, user=request.user, parties=parties_from(formset)
                )
            except PortalError as exc:
                messages.error(request, exc.message)
            else:
                if sheet.status == SplitSheet.Status.ACCEPTED:
                    messages.success(
                        request, f"Version {sheet.version} is in force: you take the whole creator share."
                    )
                else:
                    messages.success(
                        request,
                        f"Version {sheet.version} proposed: it applies once every co-creator accepts.",
                    )
                return redirect("royalties:splits", pk=work.pk)
    sheets = selectors.sheets_for_work(work=work)
    return render(
        request,
        "royalties/splits.html",
        {
            "work": work,
            "sheets": sheets,
            "address": address,
            "is_owner": is_owner,
            "formset": formset,
            "earnings": selectors.work_earnings(work=work),
        },
        status=400 if request.method == "POST" else 200,
    )


def _sheet(request, pk, version):
    work, address, is_owner = _work_for_party(request, pk)
    sheet = get_object_or_404(SplitSheet.objects.select_related("work"), work=work, version=version)
    return sheet, address, is_owner


@login_required
@wallet_json
def split_typed_data(request, pk, version):
    sheet, address, _ = _sheet(request, pk, version)
    party = sheet.parties.filter(address=address).first()
    if party is None:
        raise PortalError(services.ERR_NOT_A_PARTY.format(address=address), status=403, code="not_a_party")
    return JsonResponse(
        {"address": address, "typedData": services.split_acceptance_typed_data(sheet=sheet, party=party)}
    )


@login_required
@require_POST
@wallet_json
def split_accept(request, pk, version):
    sheet, address, _ = _sheet(request, pk, version)
    (signature,) = json_fields(request, "signature")
    sheet = services.split_sheet_accept(sheet=sheet, address=address, signature=signature)
    return JsonResponse({"status": sheet.status, "label": sheet.get_status_display()})


@login_required
@require_POST
def split_decline(request, pk, version):
    sheet, address, _ = _sheet(request, pk, version)
    try:
        services.split_sheet_decline(sheet=sheet, address=address)
        messages.success(request, "You declined the split sheet; the creator has been told by its status.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect("royalties:splits", pk=pk)


@login_required
@require_POST
def split_withdraw(request, pk, version):
    sheet, _, _ = _sheet(request, pk, version)
    try:
        services.split_sheet_withdraw(sheet=sheet, user=request.user)
        messages.success(request, f"Version {sheet.version} withdrawn.")
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect("royalties:splits", pk=pk)
