"""Writes for licensing: offers, the catalogue row, quotes, and licences from chain events."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from eth_account import Account
from web3 import Web3

from licensing import eip712
from licensing.models import CatalogueEntry, Licence, LicenceTerms, Offer, Quote
from licensing.selectors import catalogue_changed
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED, PRESETS, Terms
from portal.chain.contracts import MARKET, contract
from portal.chain.events import subscribe
from works.models import Registration, Work

logger = logging.getLogger(__name__)

ERR_NOT_REGISTERED = "Sign the work's registration before offering licences."
ERR_HELD = "This work is held for review; offers open once a moderator releases it."
ERR_DUPLICATE_OFFER = "This work already has an active offer with exactly these terms."
ERR_OFFER_INACTIVE = "This offer has been withdrawn; pick another."
ERR_OWN_WORK = "You created this work; there is nothing to license from yourself."
ERR_NO_WALLET = "Sign in with your wallet to buy a licence."
ERR_FROZEN = "This work cannot be licensed right now."
OFFERABLE = {
    Registration.Status.PENDING,
    Registration.Status.SENT,
    Registration.Status.MINED,
    Registration.Status.CONFIRMED,
}
AI_RANK = {AI_PROHIBITED: 0, AI_PAID: 1, AI_FREE: 2}


class LicensingError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


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


def catalogue_refresh(*, work: Work) -> CatalogueEntry | None:
    """Recompute the work's catalogue row from its active offers (or remove it)."""
    transaction.on_commit(catalogue_changed)
    offers = list(Offer.objects.active().filter(work=work).select_related("terms"))
    if not offers:
        CatalogueEntry.objects.filter(work=work).delete()
        return None
    owner_name = getattr(getattr(work.owner, "profile", None), "display_name", "") if work.owner_id else ""
    ai = max((o.terms.ai_training for o in offers), key=AI_RANK.__getitem__)
    entry, _ = CatalogueEntry.objects.update_or_create(
        work=work,
        defaults={
            "title": work.title,
            "creator_address": work.creator_address,
            "creator_name": owner_name,
            "search_text": " ".join([work.title, owner_name, work.creator_address, *work.tags]).lower(),
            "thumbnail": work.thumbnail.name,
            "min_fee_wei": min(o.terms.fee_wei for o in offers),
            "ai_training": ai,
            "commercial": any(o.terms.commercial_use for o in offers),
            "derivatives": any(o.terms.derivatives_allowed for o in offers),
            "presets": " ".join(sorted({o.terms.preset for o in offers if o.terms.preset})),
            "offer_count": len(offers),
            "listed_at": min(o.created_at for o in offers),
        },
    )
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
        if Offer.objects.active().filter(work=work, terms=row).exists():
            raise LicensingError(ERR_DUPLICATE_OFFER)
        if replaces is not None:
            offer_withdraw(offer=replaces, refresh=False)
        offer = Offer.objects.create(
            work=work,
            terms=row,
            title=title or (PRESETS[preset][0] if preset in PRESETS else "Licence"),
            replaces=replaces,
        )
        catalogue_refresh(work=work)
    return offer


def offer_withdraw(*, offer: Offer, refresh: bool = True) -> Offer:
    """Withdraw an offer; licences already sold under it stay valid."""
    with transaction.atomic():
        Offer.objects.filter(pk=offer.pk, status=Offer.Status.ACTIVE).update(
            status=Offer.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        if refresh:
            catalogue_refresh(work=offer.work)
    offer.refresh_from_db()
    return offer


def _payees(work: Work) -> list[list]:
    fee_bps = settings.PLATFORM_FEE_BPS
    platform = settings.PLATFORM_FEE_ADDRESS or Account.from_key(settings.PLATFORM_SIGNING_KEY).address
    payees = [[work.creator_address, 10_000 - fee_bps, "creator"]]
    if fee_bps:
        payees.append([Web3.to_checksum_address(platform), fee_bps, "platform"])
    return payees


def quote_create(*, offer: Offer, buyer, buyer_address: str | None, w3: Web3 | None = None) -> Quote:
    """Price an offer for one buyer and sign it; the buyer's wallet pays it on-chain."""
    from portal.chain.client import get_web3

    if not buyer_address:
        raise LicensingError(ERR_NO_WALLET)
    if offer.status != Offer.Status.ACTIVE:
        raise LicensingError(ERR_OFFER_INACTIVE)
    work = offer.work
    if work.owner_id == buyer.pk:
        raise LicensingError(ERR_OWN_WORK)
    if work.registration.status not in OFFERABLE:
        raise LicensingError(ERR_FROZEN)
    w3 = w3 or get_web3()
    market = contract(w3=w3, name=MARKET)
    chain_id = w3.eth.chain_id
    quote_id = "0x" + secrets.token_hex(32)
    expiry = int((timezone.now() + timedelta(seconds=settings.QUOTE_TTL_SECONDS)).timestamp())
    payees = _payees(work)
    price = int(offer.terms.fee_wei)
    typed = eip712.quote_typed_data(
        chain_id=chain_id,
        market=market.address,
        quote_id=quote_id,
        work_id=work.pk,
        terms_hash=offer.terms.terms_hash,
        buyer=buyer_address,
        price=price,
        payees=[p[0] for p in payees],
        bps=[p[1] for p in payees],
        expiry=expiry,
    )
    return Quote.objects.create(
        quote_id=quote_id,
        offer=offer,
        buyer=buyer,
        buyer_address=buyer_address,
        price_wei=price,
        payees=payees,
        expiry=expiry,
        typed_data=typed,
        signature=eip712.sign(typed, settings.PLATFORM_SIGNING_KEY),
        market_address=market.address,
        chain_id=chain_id,
    )


def quote_transaction(*, quote: Quote, w3: Web3 | None = None) -> dict:
    """The transaction the buyer's wallet sends: purchase(quote, signature) with the price."""
    from portal.chain.client import get_web3

    w3 = w3 or get_web3()
    market = contract(w3=w3, name=MARKET)
    m = quote.typed_data["message"]
    args = (
        bytes.fromhex(m["quoteId"][2:]),
        m["workId"],
        bytes.fromhex(m["termsHash"][2:]),
        m["buyer"],
        m["price"],
        m["payees"],
        m["bps"],
        m["expiry"],
    )
    return {
        "from": quote.buyer_address,
        "to": market.address,
        "data": market.encode_abi("purchase", args=[args, bytes.fromhex(quote.signature[2:])]),
        "value": hex(int(quote.price_wei)),
        "chainId": hex(quote.chain_id),
    }


@subscribe(MARKET, "LicensePurchased")
def licence_issue_from_event(event) -> Licence | None:
    """Issue the licence for a confirmed purchase. Runs once per event (the indexer's unique key
    and `Licence.chain_event` both say so); a payment for a quote we do not know is logged."""
    args = event.args
    quote = (
        Quote.objects.select_related("offer__terms", "offer__work").filter(quote_id=args["quoteId"]).first()
    )
    if quote is None:
        logger.error("LicensePurchased for unknown quote %s in %s", args["quoteId"], event.tx_hash)
        return None
    offer = quote.offer
    work = offer.work
    if (
        int(args["price"]) != int(quote.price_wei)
        or Web3.to_checksum_address(args["buyer"]) != Web3.to_checksum_address(quote.buyer_address)
        or args["termsHash"] != offer.terms.terms_hash
        or int(args["workId"]) != work.pk
    ):
        logger.error("LicensePurchased %s does not match quote %s", event.tx_hash, quote.quote_id)
        return None
    issued_at = event.block_timestamp
    duration = offer.terms.terms.duration_days
    expires_at = issued_at + timedelta(days=duration) if duration else None
    certificate = eip712.certificate_typed_data(
        chain_id=event.chain_id,
        quoteId=quote.quote_id,
        workId=work.pk,
        contentHash="0x" + work.sha256,
        termsHash=offer.terms.terms_hash,
        licensee=quote.buyer_address,
        price=int(quote.price_wei),
        txHash=event.tx_hash,
        issuedAt=int(issued_at.timestamp()),
        expiresAt=int(expires_at.timestamp()) if expires_at else 0,
    )
    licence = Licence.objects.create(
        quote=quote,
        work=work,
        terms=offer.terms,
        licensee=quote.buyer,
        licensee_address=quote.buyer_address,
        price_wei=quote.price_wei,
        chain_event=event,
        tx_hash=event.tx_hash,
        block_number=event.block_number,
        issued_at=issued_at,
        expires_at=expires_at,
        certificate=certificate,
        certificate_signature=eip712.sign(certificate, settings.PLATFORM_SIGNING_KEY),
    )
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.PAID)
    return licence


def quote_report_tx(*, quote: Quote, tx_hash: str) -> Quote:
    """Remember the hash the buyer's wallet returned, to show progress; the licence itself only
    ever comes from the confirmed chain event."""
    if not (isinstance(tx_hash, str) and len(tx_hash) == 66 and tx_hash.startswith("0x")):
        raise LicensingError("That is not a transaction hash.")
    Quote.objects.filter(pk=quote.pk, tx_hash="").update(tx_hash=tx_hash)
    quote.refresh_from_db()
    return quote
