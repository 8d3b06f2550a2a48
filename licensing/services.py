"""Writes for licensing: offers, the catalogue row, quotes and their payments, licences from
chain events, and the on-chain revocation of withdrawn offers."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from web3 import Web3

from core.chain import market as market_messages
from core.chain import wallet
from core.chain.client import get_web3
from core.chain.clock import chain_now
from core.chain.contracts import MARKET, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import platform_signer
from core.chain.market import AI_FETCH
from core.chain.models import WalletTransaction
from core.chain.roles import platform_signature_current
from core.chain.sender import sender_context, transaction_send
from core.chain.stablecoin import (
    ERR_PERMIT_MALFORMED,
    PERMIT_SIGNATURE,
    money_text,
    permit_typed_data,
    stablecoin_address,
)
from core.errors import ERR_NO_WALLET, PortalError
from core.notifications import notify
from core.people import user_label
from licensing import eip712, uses
from licensing.models import (
    CatalogueEntry,
    Licence,
    LicenceTerms,
    Offer,
    Quote,
    WorkTermsChange,
)
from licensing.selectors import catalogue_ai_terms, catalogue_changed
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED, PRESETS, Terms
from royalties.services import split_sheet_mark_used
from royalties.splits import SplitLine, contract_payees, split_resolve
from works import hooks
from works.models import Registration, Work

logger = logging.getLogger(__name__)

ERR_NOT_REGISTERED = "Sign the work's registration before offering licences."
ERR_HELD = "This work is held for review; offers open once a moderator releases it."
ERR_DUPLICATE_OFFER = "This work already has an active offer with exactly these terms."
ERR_OFFER_INACTIVE = "The creator retired this offer; pick another."
ERR_OFFER_RETIRED = "This offer was retired; edit the offer that replaced it."
ERR_NOTHING_CHANGED = "Nothing changed: the offer already has these terms and this title."
ERR_OWN_WORK = "You created this work; there is nothing to license from yourself."
ERR_FROZEN = "This work cannot be licensed right now."
ERR_IN_DISPUTE = (
    "Sales of this work are paused: its registration is in dispute. "
    "It can be licensed again if a moderator rejects the dispute."
)
ERR_ALREADY_LICENSED = (
    "You already hold this licence (licence #{pk}, covering {uses}); there is nothing more to buy."
)
ERR_PERMIT_NEEDED = "This quote is in the stablecoin: sign the permit for its price first."
ERR_QUOTE_CLOSED = "This quote can no longer be paid ({status})."
ERR_QUOTE_EXPIRED = "This quote expired at {when}; get a fresh quote."
OFFERABLE = {
    Registration.Status.PENDING,
    Registration.Status.SENT,
    Registration.Status.MINED,
    Registration.Status.CONFIRMED,
}
AI_RANK = {AI_PROHIBITED: 0, AI_PAID: 1, AI_FREE: 2}
PURCHASE = WalletTransaction.Kind.PURCHASE


class LicensingError(PortalError):
    code = "licensing_refused"


def terms_get_or_create(*, terms: Terms, preset: str = "") -> LicenceTerms:
    row, _ = LicenceTerms.objects.get_or_create(
        terms_hash=terms.hash(),
        defaults={
            "canonical_json": terms.canonical(),
            "preset": preset,
            "commercial_use": terms.commercial_use,
            "derivatives_allowed": terms.derivatives_allowed,
            "ai_training": terms.ai_training,
            "genai_training": terms.genai_training,
            "fee_wei": terms.fee_wei,
        },
    )
    return row


def _purpose_terms(offers, choice_field: str, price_field: str):
    """(status, price, terms row, currency) for one AI purpose across a work's offers: free if
    any offer makes it free, else the cheapest paid offer in ETH, else the cheapest in the
    stablecoin (prices in different currencies are never compared), else prohibited."""
    best = None
    for offer in offers:
        terms = offer.terms.terms
        choice = getattr(terms, choice_field)
        if choice == AI_FREE:
            return AI_FREE, 0, offer.terms, "ETH"
        if choice == AI_PAID:
            price = getattr(terms, price_field)
            rank = (terms.currency != "ETH", price)
            if best is None or rank < best[0]:
                best = (rank, (AI_PAID, price, offer.terms, terms.currency))
    return best[1] if best else (AI_PROHIBITED, 0, None, "ETH")


_NOTHING_OFFERED = (AI_PROHIBITED, 0, "ETH", AI_PROHIBITED, 0, "ETH")


def _most_permissive(choices) -> str:
    choices = set(choices)
    return AI_FREE if AI_FREE in choices else AI_PAID if AI_PAID in choices else AI_PROHIBITED


def _record_terms_change(*, work: Work, before, after) -> None:
    """Append to the changes feed when what an AI company may do with the work changed."""
    if before == after:
        return
    (old_ai, _, _, old_gen, _, _), (new_ai, new_ai_price, new_ai_cur, new_gen, new_gen_price, new_gen_cur) = (
        before,
        after,
    )
    allowed = {AI_FREE, AI_PAID}
    if (old_ai in allowed and new_ai not in allowed) or (old_gen in allowed and new_gen not in allowed):
        kind = WorkTermsChange.Kind.CONSENT_WITHDRAWN
    else:
        kind = WorkTermsChange.Kind.TERMS
    WorkTermsChange.objects.create(
        work=work,
        kind=kind,
        training=new_ai,
        training_price_wei=new_ai_price,
        training_currency=new_ai_cur,
        generative_training=new_gen,
        generative_training_price_wei=new_gen_price,
        generative_training_currency=new_gen_cur,
    )


def catalogue_refresh(*, work: Work) -> CatalogueEntry | None:
    """Recompute the work's catalogue row from its active offers (or remove it). A work that is
    not public (never, or no longer) has no row, whatever its offers. A change of what AI
    companies may do with the work is appended to the changes feed."""
    transaction.on_commit(catalogue_changed)
    previous = catalogue_ai_terms(work=work) or _NOTHING_OFFERED
    offers = list(Offer.objects.active().filter(work=work).select_related("terms"))
    if not offers or not Work.objects.public().filter(pk=work.pk).exists():
        CatalogueEntry.objects.filter(work=work).delete()
        _record_terms_change(work=work, before=tuple(previous), after=_NOTHING_OFFERED)
        return None
    # the card's "from" price: in ETH when any offer is, else in the stablecoin (never mixed)
    priced = [o for o in offers if o.terms.terms.currency == "ETH"] or offers
    ai = _purpose_terms(offers, "ai_training", "ai_training_price_wei")
    genai = _purpose_terms(offers, "genai_training", "genai_training_price_wei")
    owner_name = work.creator_name
    entry, _ = CatalogueEntry.objects.update_or_create(
        work=work,
        defaults={
            "title": work.title,
            "creator_address": work.creator_address,
            "creator_name": owner_name,
            "search_text": " ".join([work.title, owner_name, work.creator_address, *work.tags]).lower(),
            "thumbnail": work.thumbnail.name,
            "min_fee_wei": min(o.terms.fee_wei for o in priced),
            "fee_currency": priced[0].terms.terms.currency,
            "ai_training": ai[0],
            "ai_price_wei": ai[1],
            "ai_terms": ai[2],
            "ai_currency": ai[3],
            "genai_training": genai[0],
            "genai_price_wei": genai[1],
            "genai_terms": genai[2],
            "genai_currency": genai[3],
            "ai_fetch": _most_permissive(o.terms.terms.ai_fetch for o in offers),
            "commercial": any(o.terms.commercial_use for o in offers),
            "derivatives": any(o.terms.derivatives_allowed for o in offers),
            "presets": " ".join(sorted({o.terms.preset for o in offers if o.terms.preset})),
            "offer_count": len(offers),
            "listed_at": min(o.created_at for o in offers),
        },
    )
    _record_terms_change(work=work, before=tuple(previous), after=(*ai[:2], ai[3], *genai[:2], genai[3]))
    return entry


def offer_create(
    *, work: Work, terms: Terms, title: str = "", preset: str = "", replaces: Offer | None = None
) -> Offer:
    status = work.registration.status
    if status == Registration.Status.HELD:
        raise LicensingError(ERR_HELD)
    if status not in OFFERABLE:
        raise LicensingError(ERR_NOT_REGISTERED)
    with transaction.atomic():
        row = terms_get_or_create(terms=terms, preset=preset)
        if (
            Offer.objects.active()
            .filter(work=work, terms=row)
            .exclude(pk=getattr(replaces, "pk", None))
            .exists()
        ):
            raise LicensingError(ERR_DUPLICATE_OFFER)
        if replaces is not None:
            offer_withdraw(offer=replaces, refresh=False)
        offer = Offer.objects.create(
            work=work, terms=row, title=title or offer_default_title(terms, preset), replaces=replaces
        )
        catalogue_refresh(work=work)
    return offer


def offers_for_portfolio(*, portfolio) -> int:
    """Offer the portfolio's preset for each of its works now registered (held ones wait for
    their review, as a single work does); returns how many offers were made. Terms stay
    editable per work afterwards."""
    if portfolio.preset not in PRESETS:
        return 0
    _, terms = PRESETS[portfolio.preset]
    made = 0
    for registration in portfolio.registrations.filter(status__in=OFFERABLE).select_related("work"):
        try:
            offer_create(work=registration.work, terms=terms, preset=portfolio.preset)
        except LicensingError:
            continue  # already offered on these terms
        made += 1
    return made


def offer_default_title(terms: Terms, preset: str = "") -> str:
    """The preset's name while the terms are the preset's; otherwise what the terms grant."""
    if preset in PRESETS and terms.same_grant(PRESETS[preset][1]):
        return PRESETS[preset][0]
    return terms.title()


def offer_revise(*, offer: Offer, terms: Terms, title: str = "") -> Offer:
    """Edit an offer: its terms never change, so a new version replaces it (the old one is
    retired here and revoked on chain by the licensing beat; licences sold keep their terms).
    A title the portal chose follows the new terms; a title the creator wrote stays."""
    if offer.status != Offer.Status.ACTIVE:
        raise LicensingError(ERR_OFFER_RETIRED, status=409, code="offer_retired")
    old = offer.terms.terms
    title = title.strip()
    if terms.hash() == offer.terms.terms_hash:
        if not title or title == offer.title:
            raise LicensingError(ERR_NOTHING_CHANGED)
        Offer.objects.filter(pk=offer.pk).update(title=title[:120])  # a name is not part of the terms
        offer.refresh_from_db()
        return offer
    auto = offer.title in (offer_default_title(old, offer.terms.preset), old.title())
    preset = offer.terms.preset if offer.terms.preset in PRESETS else ""
    if auto and title == offer.title:
        title = ""
    return offer_create(work=offer.work, terms=terms, title=title, preset=preset, replaces=offer)


def offer_withdraw(*, offer: Offer, refresh: bool = True) -> Offer:
    """Withdraw an offer. Licences already sold stay valid; its unpaid quotes close at once here
    and, through `offer_revocations_send`, on chain (LicenseMarket.revokeOffer), so a buyer who
    still holds the transaction cannot pay it."""
    with transaction.atomic():
        Offer.objects.filter(pk=offer.pk, status=Offer.Status.ACTIVE).update(
            status=Offer.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        Quote.objects.filter(offer=offer, status=Quote.Status.OPEN).update(status=Quote.Status.WITHDRAWN)
        if refresh:
            catalogue_refresh(work=offer.work)
    offer.refresh_from_db()
    return offer


def offers_withdraw_all(*, work: Work) -> int:
    """Withdraw every active offer of a work (a revoked registration), then refresh its
    catalogue row once. Revoked on chain by the licensing beat like any withdrawal."""
    offers = list(Offer.objects.active().filter(work=work))
    for offer in offers:
        offer_withdraw(offer=offer, refresh=False)
    catalogue_refresh(work=work)
    return len(offers)


def quotes_close_for_work(*, work: Work) -> int:
    """Close the open quotes of a work whose sales are paused (a registration dispute)."""
    return Quote.objects.filter(offer__work=work, status=Quote.Status.OPEN).update(
        status=Quote.Status.EXPIRED
    )


def licences_void(*, work: Work, licensee=None, reason: str) -> int:
    """Void the valid licences of a work held by a person, e.g. when a dispute of improper use is
    upheld (an organisation's training licences: training.services.training_licences_void).
    Returns how many."""
    if licensee is None:
        return 0
    return Licence.objects.filter(work=work, licensee=licensee, status=Licence.Status.VALID).update(
        status=Licence.Status.VOID, void_reason=reason[:300], voided_at=timezone.now()
    )


class RevocationAlreadySent(Exception):
    pass


def offer_revoke_on_chain(*, offer: Offer, ctx=None) -> Offer:
    """Send LicenseMarket.revokeOffer for a withdrawn offer once (linked before broadcast)."""
    import contextlib

    if offer.status != Offer.Status.WITHDRAWN or offer.revocation_id:
        return offer
    ctx = ctx or sender_context()
    to, data = market_messages.revoke_offer_call(w3=ctx.w3, offer_key=offer.chain_key)

    def link(tx):
        if Offer.objects.filter(pk=offer.pk, revocation__isnull=True).update(revocation=tx) != 1:
            raise RevocationAlreadySent(offer.pk)

    with contextlib.suppress(RevocationAlreadySent):
        transaction_send(
            purpose=f"revoke-offer:{offer.pk}",
            to=to,
            data=data,
            ctx=ctx,
            on_stored=link,
        )
    offer.refresh_from_db()
    return offer


def offer_revocations_send(*, ctx=None) -> int:
    """Revoke on chain every withdrawn offer that still has a quote someone could pay."""
    now = chain_now()
    due = Offer.objects.filter(
        status=Offer.Status.WITHDRAWN,
        revocation__isnull=True,
        # closed here (withdrawn, or closed when the work's registration was disputed) but still
        # payable on chain until their expiry
        quotes__status__in=[Quote.Status.WITHDRAWN, Quote.Status.EXPIRED],
        quotes__expiry__gte=now,
    ).distinct()
    sent = 0
    for offer in due:
        offer_revoke_on_chain(offer=offer, ctx=ctx)
        sent += 1
    return sent


def _held_licence(*, offer: Offer, buyer, mask: int) -> Licence | None:
    """A valid licence of this buyer for this offer that already covers every use asked for."""
    for licence in Licence.objects.valid().filter(quote__offer=offer, licensee=buyer):
        if licence.uses & mask == mask:
            return licence
    return None


def quote_create(
    *, offer: Offer, buyer, buyer_address: str | None, uses_mask: int = uses.LICENCE, w3: Web3 | None = None
) -> Quote:
    """Price the chosen uses of an offer for one buyer and sign it; the buyer's wallet pays it.

    1. Refuse what cannot be sold: no wallet, a withdrawn offer, one's own work, a work that
       is not public, a prohibited use, uses the buyer already holds.
    2. An open, unexpired quote for the same offer and uses is returned instead of a second
       one, so one purchase can never be paid twice.
    3. Price each use by the terms, split the total with the royalties resolver, sign.
    """

    if not buyer_address:
        raise LicensingError(ERR_NO_WALLET)
    if offer.status != Offer.Status.ACTIVE:
        raise LicensingError(ERR_OFFER_INACTIVE)
    work = offer.work
    if work.owner_id == buyer.pk:
        raise LicensingError(ERR_OWN_WORK)
    if work.registration.status not in OFFERABLE:
        raise LicensingError(ERR_FROZEN)
    if hooks.registration_dispute_for(work=work) is not None:
        raise LicensingError(ERR_IN_DISPUTE, status=409, code="in_dispute")
    terms = offer.terms.terms
    lines = uses.price_lines(terms, uses_mask)
    held = _held_licence(offer=offer, buyer=buyer, mask=uses_mask)
    if held is not None:
        raise LicensingError(
            ERR_ALREADY_LICENSED.format(pk=held.pk, uses=", ".join(uses.labels_of(held.uses)).lower()),
            code="already_licensed",
        )
    w3 = w3 or get_web3()
    now = chain_now(w3)  # the contract checks the expiry against block.timestamp
    existing = (
        Quote.objects.filter(
            offer=offer, buyer=buyer, buyer_address=buyer_address, uses=uses_mask, status=Quote.Status.OPEN
        )
        .filter(expiry__gt=now + 60)
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing

    market = contract(w3=w3, name=MARKET)
    chain_id = w3.eth.chain_id
    price = sum(line.price_wei for line in lines)
    split = split_resolve(work=work, gross=price)
    split_sheet_mark_used(work=work)
    payees, amounts = contract_payees(split)
    quote_id = "0x" + secrets.token_hex(32)
    expiry = now + settings.QUOTE_TTL_SECONDS
    message = {
        "chain_id": chain_id,
        "market": market.address,
        "quote_id": quote_id,
        "work_id": work.pk,
        "terms_hash": offer.terms.terms_hash,
        "offer_id": offer.chain_key,
        "uses": uses_mask,
        "buyer": buyer_address,
        "price": price,
        "payees": payees,
        "amounts": amounts,
        "expiry": expiry,
    }
    if terms.currency == "ETH":
        typed = market_messages.quote_typed_data(**message)
    else:  # priced in the stablecoin: a TokenQuote, paid with the buyer's permit
        typed = market_messages.token_quote_typed_data(token=stablecoin_address(w3=w3), **message)
    return Quote.objects.create(
        currency=terms.currency,
        quote_id=quote_id,
        offer=offer,
        buyer=buyer,
        buyer_address=buyer_address,
        uses=uses_mask,
        lines=[line.as_json() for line in lines],
        price_wei=price,
        split=[line.as_json() for line in split],
        expiry=expiry,
        typed_data=typed,
        signature=typed_data_sign(typed, platform_signer()),
        market_address=market.address,
        chain_id=chain_id,
    )


def quote_refresh_status(*, quote: Quote) -> Quote:
    """An open quote past its expiry (by the chain's clock) with no payment on its way becomes
    expired."""
    now = chain_now()
    if quote.status == Quote.Status.OPEN and quote.expiry < now:
        in_flight = (
            WalletTransaction.objects.filter(kind=PURCHASE, subject=quote.quote_id)
            .exclude(status=WalletTransaction.Status.REVERTED)
            .exists()
        )
        if not in_flight:
            Quote.objects.filter(pk=quote.pk, status=Quote.Status.OPEN).update(status=Quote.Status.EXPIRED)
            quote.refresh_from_db()
    return quote


def quotes_expire(*, now: int | None = None) -> int:
    """Mark every open quote past expiry without a payment in flight as expired."""
    now = now or chain_now()
    due = Quote.objects.filter(status=Quote.Status.OPEN, expiry__lt=now).exclude(
        wallet.in_flight(kind=PURCHASE, subject_ref="quote_id")
    )
    return Quote.objects.filter(
        pk__in=list(due.values_list("pk", flat=True)), status=Quote.Status.OPEN
    ).update(status=Quote.Status.EXPIRED)


def quote_transaction(*, quote: Quote, w3: Web3 | None = None, permit: str = "") -> dict:
    """The transaction the buyer's wallet sends: purchase(quote, signature) with the price in
    ETH; for a stablecoin quote purchaseWithPermit(quote, signature, the buyer's `permit`).
    Refuses a quote that is no longer open, or past its expiry."""
    _quote_payable(quote)
    w3 = w3 or get_web3()
    if quote.typed_data["domain"].get("version") == market_messages.MARKET_DOMAIN["version"]:
        resigned = platform_signature_current(quote.typed_data, quote.signature)
        if resigned:  # the signing key was rotated since: the market only trusts the new one
            Quote.objects.filter(pk=quote.pk).update(signature=resigned)
            quote.signature = resigned
    m = quote.typed_data["message"]
    head = (
        bytes.fromhex(m["quoteId"][2:]),
        int(m["workId"]),
        bytes.fromhex(m["termsHash"][2:]),
        bytes.fromhex(m["offerId"][2:]),
        int(m["uses"]),
    )
    tail = (m["buyer"], int(m["price"]), m["payees"], [int(a) for a in m["amounts"]], int(m["expiry"]))
    if quote.currency != "ETH":
        if not permit:
            raise LicensingError(ERR_PERMIT_NEEDED, code="permit_needed")
        if not PERMIT_SIGNATURE.fullmatch(permit):
            raise LicensingError(ERR_PERMIT_MALFORMED, code="malformed_permit", status=400)
        to, data = market_messages.purchase_with_permit_call(
            w3=w3,
            address=quote.market_address,
            quote_args=(*head, m["token"], *tail),
            signature=quote.signature,
            deadline=int(m["expiry"]),
            permit=permit,
        )
        value = 0
    else:
        to, data = market_messages.purchase_call(  # the version it was signed for
            w3=w3, address=quote.market_address, quote_args=(*head, *tail), signature=quote.signature
        )
        value = int(quote.price_wei)
    chain_id = hex(quote.chain_id)
    return {"from": quote.buyer_address, "to": to, "data": data, "value": hex(value), "chainId": chain_id}


def _quote_payable(quote: Quote) -> None:
    quote_refresh_status(quote=quote)
    if quote.status == Quote.Status.EXPIRED:
        raise LicensingError(
            ERR_QUOTE_EXPIRED.format(when=quote.expires_at.strftime("%Y-%m-%d %H:%M UTC")),
            code="quote_expired",
            status=410,
        )
    if quote.status != Quote.Status.OPEN:
        raise LicensingError(
            ERR_QUOTE_CLOSED.format(status=quote.get_status_display()), code="quote_closed", status=409
        )


def quote_permit_typed_data(*, quote: Quote, w3: Web3 | None = None) -> dict:
    """What the buyer signs to pay a stablecoin quote: an EIP-2612 permit for the market to take
    exactly the price, valid until the quote expires (the one extra signature)."""
    _quote_payable(quote)
    return permit_typed_data(
        w3=w3 or get_web3(),
        owner=quote.buyer_address,
        spender=quote.market_address,
        value=int(quote.price_wei),
        deadline=int(quote.expiry),
    )


def quote_report_tx(*, quote: Quote, tx_hash: str) -> WalletTransaction:
    """Remember a hash the buyer's wallet returned, to follow it (core/chain/wallet.py); the
    licence itself only ever comes from the confirmed chain event. Every hash is kept (a retry
    after a revert too)."""
    return wallet.wallet_tx_report(kind=PURCHASE, subject=quote.quote_id, tx_hash=tx_hash, user=quote.buyer)


def quote_payments(*, quote: Quote) -> wallet.PaymentState:
    """The payments reported for a quote as its page shows them; the chain is asked about those
    waiting to be mined while the quote is open (the one poller)."""
    return wallet.payment_state(
        kind=PURCHASE, subject=quote.quote_id, check=quote.status == Quote.Status.OPEN
    )


def _event_matches_quote(args: dict, quote: Quote) -> bool:
    offer = quote.offer
    return (
        int(args["price"]) == int(quote.price_wei)
        and Web3.to_checksum_address(args["buyer"]) == Web3.to_checksum_address(quote.buyer_address)
        and args["termsHash"] == offer.terms.terms_hash
        and int(args["workId"]) == offer.work_id
        and int(args["uses"]) == quote.uses
        and args["offerId"] == offer.chain_key
        # a payment in a token is a payment in the quote's token, and an ETH quote is paid in ETH
        and ("token" in args) == (quote.currency != "ETH")
        and (
            "token" not in args
            or Web3.to_checksum_address(args["token"]) == quote.typed_data["message"]["token"]
        )
    )


def licence_issue_from_event(event) -> Licence | None:
    """Issue the licence for a confirmed purchase. Runs once per event (the delivery row and
    `Licence.chain_event` both say so); a payment for a quote we do not know is logged. An AI
    fetch (x402) is no licence: its record is the PaidFetch."""
    args = event.args
    if int(args["uses"]) & AI_FETCH:
        return None
    quote = (
        Quote.objects.select_related("offer__terms", "offer__work", "buyer")
        .filter(quote_id=args["quoteId"])
        .first()
    )
    if quote is None:
        logger.error("LicensePurchased for unknown quote %s in %s", args["quoteId"], event.tx_hash)
        return None
    if not _event_matches_quote(args, quote):
        logger.error("LicensePurchased %s does not match quote %s", event.tx_hash, quote.quote_id)
        return None
    existing = Licence.objects.filter(quote=quote).first()
    if existing is not None:
        if existing.status == Licence.Status.VOID:
            # The purchase was reorganised away, then mined again: the licence stands again.
            Licence.objects.filter(pk=existing.pk).update(
                status=Licence.Status.VALID,
                void_reason="",
                voided_at=None,
                chain_event=event,
                tx_hash=event.tx_hash,
                block_number=event.block_number,
            )
            Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.PAID)
            existing.refresh_from_db()
        return existing
    offer = quote.offer
    work = offer.work
    issued_at = event.block_timestamp
    duration = offer.terms.terms.duration_days
    expires_at = issued_at + timedelta(days=duration) if duration else None
    certificate = eip712.certificate_typed_data(
        chain_id=event.chain_id,
        quoteId=quote.quote_id,
        workId=work.pk,
        contentHash="0x" + work.sha256,
        termsHash=offer.terms.terms_hash,
        licensor=work.creator_address,
        licensee=quote.buyer_address,
        uses=quote.uses,
        price=int(quote.price_wei),
        txHash=event.tx_hash,
        issuedAt=int(issued_at.timestamp()),
        expiresAt=int(expires_at.timestamp()) if expires_at else 0,
        **(
            {"currency": quote.currency, "token": quote.typed_data["message"]["token"]}
            if quote.currency != "ETH"
            else {}
        ),
    )
    licence = Licence.objects.create(
        quote=quote,
        work=work,
        terms=offer.terms,
        licensee=quote.buyer,
        licensee_address=quote.buyer_address,
        uses=quote.uses,
        price_wei=quote.price_wei,
        chain_event=event,
        tx_hash=event.tx_hash,
        block_number=event.block_number,
        issued_at=issued_at,
        expires_at=expires_at,
        certificate=certificate,
        certificate_signature=typed_data_sign(certificate, platform_signer()),
    )
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.PAID)
    wallet.wallet_tx_confirmed(tx_hash=event.tx_hash, at=event.block_timestamp)
    notify(
        user=work.owner,
        kind="sale",
        text=f"“{work.title}” sold: {' and '.join(uses.labels_of(quote.uses))} to "
        f"{user_label(quote.buyer, short=True)} for {money_text(int(quote.price_wei), quote.currency)}.",
        url=licence.get_absolute_url(),
    )
    return licence


def licence_void_from_event(event, *, reason: str) -> Licence | None:
    """The block holding a purchase was reorganised away after its licence was issued: the
    licence is void (kept, marked, and shown so to its holder), the quote open again."""
    licence = Licence.objects.filter(chain_event=event, status=Licence.Status.VALID).first()
    if licence is None:
        return None
    Licence.objects.filter(pk=licence.pk).update(
        status=Licence.Status.VOID, void_reason=reason[:300], voided_at=timezone.now()
    )
    Quote.objects.filter(pk=licence.quote_id, status=Quote.Status.PAID).update(status=Quote.Status.OPEN)
    wallet.wallet_tx_unconfirmed(tx_hash=event.tx_hash)
    licence.refresh_from_db()
    return licence


def quote_split_lines(quote: Quote) -> list[SplitLine]:
    return [SplitLine.from_json(line) for line in quote.split]


def price_summary(quote: Quote) -> str:
    def words(line) -> str:
        price = money_text(int(line["price_wei"]), quote.currency, zero="free")
        return f"{uses.LABELS[uses.BY_NAME[line['use']]]} {price}"

    return " + ".join(words(line) for line in quote.lines)
