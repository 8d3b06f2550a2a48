"""Writes for royalties: split sheets and their acceptance, withdrawals reported by a wallet.
The ledger itself is written by royalties/ledger.py, fed by royalties/handlers.py."""

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from eth_account.messages import encode_typed_data
from web3 import Web3

from core.chain import market as market_gateway
from core.chain import wallet
from core.chain.client import get_web3
from core.chain.contracts import MARKET, contract
from core.chain.models import WalletTransaction
from core.chain.signatures import signature_check
from core.chain.stablecoin import currency as stablecoin_currency
from core.chain.stablecoin import stablecoin_address
from core.errors import PortalError
from core.notifications import notify_address
from core.people import user_label
from royalties import eip712
from royalties.models import BPS, SplitParty, SplitSheet

ERR_NOT_OWNER = "Only the work's creator can change its split sheet."
ERR_ADDRESS = "“{address}” is not a wallet address (0x and 40 hexadecimal digits)."
ERR_DUPLICATE = "{address} is listed twice."
ERR_OWNER_LISTED = "You take the remainder as the work's creator; do not list your own address."
ERR_BPS = "Each share must be more than 0 % and the shares together at most 100 %."
ERR_TOO_MANY = "A split sheet lists at most {n} co-creators."
ERR_ROLE = "Give each co-creator a role (e.g. illustrator, colourist)."
ERR_NOT_PROPOSED = "This split sheet is no longer waiting for acceptance ({status})."
ERR_NOT_A_PARTY = "Your wallet {address} is not listed on this split sheet."
ERR_ALREADY_ACCEPTED = "You have already accepted this split sheet."
ERR_BAD_SIGNATURE = "The signature is not a valid EIP-712 signature of this split by {address}."
ERR_WORK_STATE = "Sign the work's registration first: split sheets are for registered, public works."
MAX_PARTIES = 20


class RoyaltiesError(PortalError):
    code = "royalties_refused"


def _sheet_parties(sheet: SplitSheet) -> list[tuple[str, str, int]]:
    return [(p.address, p.role, p.bps) for p in sheet.parties.all()]


def split_sheet_propose(*, work, user, parties: list[tuple[str, str, int]]) -> SplitSheet:
    """A new version of the work's split: waits for every listed party to accept, replacing any
    earlier proposal that was still waiting. No co-creators: in force at once."""
    if work.owner_id != user.pk:
        raise RoyaltiesError(ERR_NOT_OWNER, status=403)
    if not work.is_public:
        raise RoyaltiesError(ERR_WORK_STATE)
    if len(parties) > MAX_PARTIES:
        raise RoyaltiesError(ERR_TOO_MANY.format(n=MAX_PARTIES))
    clean, seen = [], set()
    for address, role, bps in parties:
        if not Web3.is_address(address or ""):
            raise RoyaltiesError(ERR_ADDRESS.format(address=address))
        address = Web3.to_checksum_address(address)
        if address in seen:
            raise RoyaltiesError(ERR_DUPLICATE.format(address=address))
        if address == work.creator_address:
            raise RoyaltiesError(ERR_OWNER_LISTED)
        if not (role or "").strip():
            raise RoyaltiesError(ERR_ROLE)
        if int(bps) <= 0:
            raise RoyaltiesError(ERR_BPS)
        seen.add(address)
        clean.append((address, role.strip()[:60], int(bps)))
    if sum(bps for _, _, bps in clean) > BPS:
        raise RoyaltiesError(ERR_BPS)
    with transaction.atomic():
        SplitSheet.objects.filter(work=work, status=SplitSheet.Status.PROPOSED).update(
            status=SplitSheet.Status.WITHDRAWN
        )
        version = (SplitSheet.objects.filter(work=work).aggregate(v=Max("version"))["v"] or 0) + 1
        sheet = SplitSheet.objects.create(
            work=work,
            version=version,
            owner_address=work.creator_address,
            sheet_hash=eip712.sheet_hash(
                work_id=work.pk, version=version, owner=work.creator_address, parties=clean
            ),
            proposed_by=user,
        )
        SplitParty.objects.bulk_create(
            [SplitParty(sheet=sheet, address=a, role=r, bps=b) for a, r, b in clean]
        )
        if not clean:
            _put_in_force(sheet)
        for address, role, bps in clean:
            notify_address(
                address=address,
                kind="split_request",
                text=f"{user_label(user, short=True)} lists you as a co-creator ({role}, {bps / 100:g} % "
                f"of the creator share) of “{work.title}”: accept or decline it with your wallet.",
                url=reverse("royalties:splits", args=[work.pk]),
            )
    sheet.refresh_from_db()
    return sheet


def _put_in_force(sheet: SplitSheet) -> None:
    SplitSheet.objects.filter(work_id=sheet.work_id, status=SplitSheet.Status.ACCEPTED).exclude(
        pk=sheet.pk
    ).update(status=SplitSheet.Status.SUPERSEDED)
    SplitSheet.objects.filter(pk=sheet.pk).update(
        status=SplitSheet.Status.ACCEPTED, accepted_at=timezone.now()
    )


def split_acceptance_typed_data(*, sheet: SplitSheet, party: SplitParty) -> dict:
    if party.typed_data:
        return party.typed_data
    work = sheet.work
    return eip712.acceptance_typed_data(
        chain_id=settings.CHAIN_ID,
        work_id=work.pk,
        content_hash=work.sha256,
        version=sheet.version,
        sheet_hash=sheet.sheet_hash,
        owner=sheet.owner_address,
        party=party.address,
        role=party.role,
        bps=party.bps,
    )


def _party_for(sheet: SplitSheet, address: str | None) -> SplitParty:
    party = sheet.parties.filter(address=address).first() if address else None
    if party is None:
        raise RoyaltiesError(ERR_NOT_A_PARTY.format(address=address or "(none)"), status=403)
    return party


def split_sheet_accept(*, sheet: SplitSheet, address: str | None, signature: str) -> SplitSheet:
    """Store a party's signed acceptance; the last one puts the sheet in force."""
    party = _party_for(sheet, address)
    if sheet.status != SplitSheet.Status.PROPOSED:
        raise RoyaltiesError(ERR_NOT_PROPOSED.format(status=sheet.get_status_display()), status=409)
    if party.accepted_at:
        raise RoyaltiesError(ERR_ALREADY_ACCEPTED, status=409)
    typed = split_acceptance_typed_data(sheet=sheet, party=party)
    message = encode_typed_data(full_message=typed)
    if not signature_check(signer=party.address, message=message, signature=signature).valid:
        raise RoyaltiesError(ERR_BAD_SIGNATURE.format(address=party.address))
    with transaction.atomic():
        locked = SplitSheet.objects.select_for_update().get(pk=sheet.pk)
        if locked.status != SplitSheet.Status.PROPOSED:
            raise RoyaltiesError(ERR_NOT_PROPOSED.format(status=locked.get_status_display()), status=409)
        SplitParty.objects.filter(pk=party.pk, accepted_at__isnull=True).update(
            typed_data=typed, signature=signature, accepted_at=timezone.now()
        )
        if not locked.parties.filter(accepted_at__isnull=True).exists():
            _put_in_force(locked)
    sheet.refresh_from_db()
    return sheet


def split_sheet_decline(*, sheet: SplitSheet, address: str | None) -> SplitSheet:
    party = _party_for(sheet, address)
    if sheet.status != SplitSheet.Status.PROPOSED:
        raise RoyaltiesError(ERR_NOT_PROPOSED.format(status=sheet.get_status_display()), status=409)
    with transaction.atomic():
        SplitParty.objects.filter(pk=party.pk).update(declined_at=timezone.now())
        SplitSheet.objects.filter(pk=sheet.pk, status=SplitSheet.Status.PROPOSED).update(
            status=SplitSheet.Status.DECLINED
        )
    sheet.refresh_from_db()
    return sheet


def split_sheet_withdraw(*, sheet: SplitSheet, user) -> SplitSheet:
    if sheet.work.owner_id != user.pk:
        raise RoyaltiesError(ERR_NOT_OWNER, status=403)
    if (
        SplitSheet.objects.filter(pk=sheet.pk, status=SplitSheet.Status.PROPOSED).update(
            status=SplitSheet.Status.WITHDRAWN
        )
        != 1
    ):
        sheet.refresh_from_db()
        raise RoyaltiesError(ERR_NOT_PROPOSED.format(status=sheet.get_status_display()), status=409)
    sheet.refresh_from_db()
    return sheet


def split_sheet_mark_used(*, work) -> None:
    """A quote was priced with the work's accepted sheet: from now on it is on record as used."""
    SplitSheet.objects.filter(
        work=work, status=SplitSheet.Status.ACCEPTED, first_used_at__isnull=True
    ).update(first_used_at=timezone.now())


def withdrawal_report(*, user, address: str, tx_hash: str) -> WalletTransaction:
    """Follow a withdrawal the payee's wallet sent (core/chain/wallet.py); the Withdrawn event
    confirms it."""
    return wallet.wallet_tx_report(
        kind=WalletTransaction.Kind.WITHDRAWAL, subject=address, tx_hash=tx_hash, user=user
    )


MAX_CLAIMS_PER_WITHDRAWAL = 40  # each claim costs ~30k gas with its proof; the rest wait for the next one


def withdrawal_transaction(*, address: str, w3=None) -> tuple[dict, int, int] | None:
    """The Withdraw button's transaction: claim the payee's paid settlement allocations (those
    not claimed on chain yet, at most MAX_CLAIMS_PER_WITHDRAWAL) and withdraw the whole balance
    in one call; a plain withdraw when nothing is allocated. With money in a version 1 market
    too (a portal that upgraded), the newest market with something comes first and the next
    Withdraw empties the other. (tx, wei it pays out, claims), or None when there is nothing."""
    from royalties.settlement import claims_for

    w3 = w3 or get_web3()
    allocations = claims_for(address=address)
    for market in market_gateway.markets(w3=w3):
        balance = market_gateway.balance_of(contract=market, payee=address)
        claims = _claims_in(market, allocations)
        amount = balance + sum(args[2] for args in claims)
        if not amount:
            continue
        to, data = market_gateway.withdraw_call(w3=w3, address=market.address, claims=claims)
        chain_id = hex(w3.eth.chain_id)
        tx = {"from": address, "to": to, "data": data, "value": "0x0", "chainId": chain_id}
        return tx, amount, len(claims)
    return None


def _claims_in(market, allocations) -> list[tuple]:
    """Claim arguments of the allocations paid through `market` and not claimed on chain yet, at
    most MAX_CLAIMS_PER_WITHDRAWAL (one Withdraw's worth)."""
    from royalties.settlement import claim_args

    claims = []
    for allocation in allocations:
        if allocation.settlement.market_address != market.address:
            continue
        args = claim_args(allocation)
        if market_gateway.is_claimed(contract=market, settlement_id=args[0], index=args[1]):
            continue  # claimed in a transaction the indexer has not confirmed yet
        claims.append(args)
        if len(claims) == MAX_CLAIMS_PER_WITHDRAWAL:
            break
    return claims


def token_available(*, address: str, w3=None) -> int:
    """What the payee can withdraw now in the stablecoin (AI fetches paid with x402, and
    settlements paid in it): the balance read live plus paid allocations not yet claimed."""
    from royalties.settlement import claims_for

    w3 = w3 or get_web3()
    market = contract(w3=w3, name=MARKET)
    balance = market.functions.tokenBalanceOf(stablecoin_address(w3=w3), address).call()
    return balance + sum(int(a.amount) for a in claims_for(address=address, currency=stablecoin_currency()))


def token_withdrawal_transaction(*, address: str, w3=None) -> tuple[dict, int] | None:
    """The stablecoin's Withdraw button, sent from the payee's wallet: claim its paid
    allocations in the stablecoin and withdraw the whole balance in one call
    (claimAndWithdrawToken), or a plain withdrawToken. (tx, units it pays out), or None when
    there is nothing."""
    from royalties.settlement import claims_for

    w3 = w3 or get_web3()
    market = contract(w3=w3, name=MARKET)
    token = stablecoin_address(w3=w3)
    claims = _claims_in(market, claims_for(address=address, currency=stablecoin_currency()))
    amount = market.functions.tokenBalanceOf(token, address).call() + sum(args[2] for args in claims)
    if not amount:
        return None
    if claims:
        data = market.encode_abi("claimAndWithdrawToken", args=[claims, token])
    else:
        data = market.encode_abi("withdrawToken", args=[token])
    tx = {
        "from": address,
        "to": market.address,
        "data": data,
        "value": "0x0",
        "chainId": hex(w3.eth.chain_id),
    }
    return tx, amount


def available_to_withdraw(*, address: str, w3=None) -> int:
    """What the payee can withdraw now, across every market: balances read live plus the paid
    settlement allocations not yet claimed (Withdraw claims them in the same transaction)."""
    from royalties.settlement import claims_for

    w3 = w3 or get_web3()
    balances = sum(
        market_gateway.balance_of(contract=market, payee=address) for market in market_gateway.markets(w3=w3)
    )
    return balances + sum(int(a.amount) for a in claims_for(address=address))


def withdrawals_check(*, address: str, w3=None) -> None:
    """Reverted withdrawals say why; confirmed ones come from the Withdrawn event."""
    wallet.wallet_txs_check(kind=WalletTransaction.Kind.WITHDRAWAL, subject=address, w3=w3)
