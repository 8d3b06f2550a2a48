"""AI use per fetch, paid with x402 (version 2, scheme `exact`, an EIP-3009 authorisation in the
stablecoin): the portal is its own facilitator.

1. `fetch_terms`: what the work's active offers say of AI use per fetch: prohibited (403),
   free (the file), or paid (402 with the payment requirements: the cheapest paid offer).
2. `fetch_pay`: a PAYMENT-SIGNATURE is decoded and checked against what this work asks now
   (scheme, network, asset, pay-to, amount), then verified by the x402 SDK's exact-EVM
   facilitator (signature, EOA or contract account; time window; nonce; balance, by simulating
   the transfer). The platform signs a TokenQuote splitting the price as for any licence, and
   the one transaction sender submits LicenseMarket.purchaseWithAuthorization: the payer's
   money reaches the market and every payee's share in one transaction, or nothing moves.
   The (payer, nonce) pair is stored first, so a replay, concurrent or later, is refused.
3. The ledger is posted from the market's TokenCredited events (royalties.handlers).
"""

import logging
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted
from x402.http.utils import decode_payment_signature_header, encode_payment_response_header
from x402.mechanisms.evm.exact.facilitator import ExactEvmScheme
from x402.mechanisms.evm.signers import FacilitatorWeb3Signer
from x402.schemas import PaymentPayload, PaymentRequired, PaymentRequirements, ResourceInfo, SettleResponse

from core.chain import market as market_messages
from core.chain.client import get_web3
from core.chain.clock import chain_now
from core.chain.contracts import MARKET, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import platform_signer
from core.chain.market import AI_FETCH
from core.chain.reverts import revert_error
from core.chain.sender import transaction_send
from core.chain.stablecoin import currency, format_units, stablecoin, stablecoin_address
from core.errors import PortalError
from licensing.models import Offer, PaidFetch
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED
from royalties.splits import contract_payees, split_resolve
from works import hooks
from works.models import Registration

logger = logging.getLogger(__name__)

X402_VERSION = 2
HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")
NONCE = re.compile(r"0x[0-9a-fA-F]{64}")
SCHEME = "exact"
ERR_PROHIBITED = (
    "The creator's terms do not allow AI use of this work by automated clients. "
    "See the work's terms for the licences on offer."
)
ERR_NOT_AVAILABLE = "This work cannot be licensed right now."
ERR_MALFORMED = "The PAYMENT-SIGNATURE header is not an x402 version 2 payment payload: {detail}"
ERR_VERSION = "Only x402 version 2 payments are accepted here (this one says version {version})."
ERR_SCHEME = "Only the 'exact' scheme is accepted here, not {scheme!r}."
ERR_NETWORK = "Wrong network: this work is paid on {expected}, not {actual}."
ERR_ASSET = "Wrong asset: this work is paid in {symbol} ({expected}), not {actual}."
ERR_PAY_TO = "Wrong recipient: payments for this work go to {expected}, not {actual}."
ERR_UNDERPAID = "Underpaid: this fetch costs {price}; the authorisation is for {paid}."
ERR_AMOUNT = "Wrong amount: this fetch costs exactly {price}; the authorisation is for {paid}."
ERR_USED = "This authorisation was already used (payer {payer}, nonce {nonce}); sign a new one."
ERR_SETTLING = "This authorisation is being settled; ask again in a few seconds."
ERR_SETTLE_FAILED = "The payment could not be settled on chain ({reason}); nothing was taken."
ERR_SETTLE_SLOW = "The payment was sent (transaction {tx}) but is not confirmed yet; ask again shortly."
# The x402 SDK's reasons, in words; any other is shown as the SDK names it.
REASONS = {
    "invalid_exact_evm_payload_authorization_valid_before": "The authorisation has expired (validBefore).",
    "invalid_exact_evm_payload_authorization_valid_after": "The authorisation is not valid yet (validAfter).",
    "invalid_exact_evm_payload_signature": "The authorisation's signature is not the payer's.",
    "invalid_exact_evm_nonce_already_used": "This authorisation's nonce was already used on chain.",
    "invalid_exact_evm_insufficient_balance": "The payer's balance is too low for this price.",
    "invalid_exact_evm_payload_authorization_value_mismatch": "The authorised amount is not the price.",
    "invalid_exact_evm_payload_recipient_mismatch": "The authorisation pays someone else.",
}


class FetchRefused(PortalError):
    """A fetch that is not served: `status` 402 (pay, or the payment was refused: nothing moved)
    or 403 (AI use prohibited). `requirements` go back in PAYMENT-REQUIRED on a 402."""

    code = "payment_refused"

    def __init__(self, message, *, status=402, code=None, requirements: PaymentRequired | None = None):
        super().__init__(message, status=status, code=code)
        self.requirements = requirements


@dataclass(frozen=True)
class FetchTerms:
    choice: str  # prohibited, free, paid
    offer: Offer | None
    price_units: int = 0


def fetch_terms(*, work) -> FetchTerms:
    """Free if any active offer leaves AI use per fetch free; else the cheapest paid offer; else
    prohibited (the default of every offer that says nothing)."""
    if not work.is_public or work.registration.status not in (
        Registration.Status.PENDING,
        Registration.Status.CONFIRMED,
    ):
        return FetchTerms(AI_PROHIBITED, None)
    best = FetchTerms(AI_PROHIBITED, None)
    for offer in Offer.objects.filter(work=work, status=Offer.Status.ACTIVE).select_related("terms"):
        terms = offer.terms.terms
        if terms.ai_fetch == AI_FREE:
            return FetchTerms(AI_FREE, offer)
        if terms.ai_fetch == AI_PAID and (
            best.offer is None or terms.ai_fetch_price_units < best.price_units
        ):
            best = FetchTerms(AI_PAID, offer, terms.ai_fetch_price_units)
    return best


def _network(w3: Web3) -> str:
    return f"eip155:{w3.eth.chain_id}"


def payment_required(
    *, work, terms: FetchTerms, resource_url: str, w3: Web3, error: str = ""
) -> PaymentRequired:
    """The x402 version 2 PAYMENT-REQUIRED body for one fetch of the work."""
    market = contract(w3=w3, name=MARKET)
    return PaymentRequired(
        x402_version=X402_VERSION,
        error=error or "Payment required: AI use of this work is paid per fetch.",
        resource=ResourceInfo(
            url=resource_url,
            description=f"“{work.title}”: the original, licensed for AI use by the payer",
            mime_type=work.mime,
        ),
        accepts=[
            PaymentRequirements(
                scheme=SCHEME,
                network=_network(w3),
                asset=stablecoin_address(w3=w3),
                amount=str(terms.price_units),
                pay_to=market.address,
                max_timeout_seconds=settings.X402_MAX_TIMEOUT_SECONDS,
                extra={"name": settings.STABLECOIN_NAME, "version": settings.STABLECOIN_VERSION},
            )
        ],
    )


@lru_cache(maxsize=4)
def _verifier(rpc_url: str) -> ExactEvmScheme:
    """The SDK's exact-EVM facilitator, used to verify only: its key is a throwaway that holds
    nothing and never sends (settling goes through LicenseMarket and the portal's sender)."""
    return ExactEvmScheme(FacilitatorWeb3Signer(private_key=Account.create().key.hex(), rpc_url=rpc_url))


def _refuse(message, required: PaymentRequired, code="payment_refused"):
    required = required.model_copy(update={"error": message})
    raise FetchRefused(message, code=code, requirements=required)


def _check_accepted(payload: PaymentPayload, wanted: PaymentRequirements, required: PaymentRequired):
    accepted = payload.accepted
    if accepted.scheme != wanted.scheme:
        _refuse(ERR_SCHEME.format(scheme=accepted.scheme), required, "wrong_scheme")
    if accepted.network != wanted.network:
        _refuse(
            ERR_NETWORK.format(expected=wanted.network, actual=accepted.network),
            required,
            code="wrong_network",
        )
    if not Web3.is_address(accepted.asset) or Web3.to_checksum_address(accepted.asset) != wanted.asset:
        _refuse(
            ERR_ASSET.format(symbol=currency(), expected=wanted.asset, actual=accepted.asset),
            required,
            code="wrong_asset",
        )
    if not Web3.is_address(accepted.pay_to) or Web3.to_checksum_address(accepted.pay_to) != wanted.pay_to:
        _refuse(
            ERR_PAY_TO.format(expected=wanted.pay_to, actual=accepted.pay_to),
            required,
            code="wrong_recipient",
        )
    authorization = (payload.payload or {}).get("authorization") or {}
    try:
        paid = int(authorization.get("value", accepted.amount))
    except (TypeError, ValueError):
        _refuse(ERR_MALFORMED.format(detail="authorization.value is not an integer"), required, "malformed")
    price, words = int(wanted.amount), {"price": format_units(int(wanted.amount)), "paid": format_units(paid)}
    if paid < price:
        _refuse(
            ERR_UNDERPAID.format(**words),
            required,
            code="underpaid",
        )
    if paid != price:
        _refuse(
            ERR_AMOUNT.format(**words),
            required,
            code="wrong_amount",
        )


def _decode(header: str, required: PaymentRequired) -> PaymentPayload:
    try:
        payload = decode_payment_signature_header(header)
    except Exception as exc:  # the SDK raises whatever base64, JSON or pydantic raise
        _refuse(ERR_MALFORMED.format(detail=str(exc).splitlines()[0][:200]), required, "malformed")
    version = getattr(payload, "x402_version", None)
    if version != X402_VERSION or not isinstance(payload, PaymentPayload):
        _refuse(ERR_VERSION.format(version=version), required, "wrong_version")
    authorization = (payload.payload or {}).get("authorization")
    signature = (payload.payload or {}).get("signature")
    if not isinstance(authorization, dict) or not isinstance(signature, str) or not HEX.fullmatch(signature):
        _refuse(ERR_MALFORMED.format(detail="no EIP-3009 authorization and signature"), required, "malformed")
    if not isinstance(authorization.get("nonce"), str) or not NONCE.fullmatch(authorization["nonce"]):
        _refuse(
            ERR_MALFORMED.format(detail="authorization.nonce is not 32 bytes of hex"), required, "malformed"
        )
    for key in ("value", "validAfter", "validBefore"):
        if not str(authorization.get(key, "")).isdigit():
            _refuse(
                ERR_MALFORMED.format(detail=f"authorization.{key} is not an integer"), required, "malformed"
            )
    return payload


def fetch_pay(
    *, work, terms: FetchTerms, header: str, resource_url: str, w3: Web3 | None = None
) -> PaidFetch:
    """Verify the x402 payment for one fetch and settle it through LicenseMarket. Returns the
    paid fetch; raises FetchRefused (402, with the requirements and the reason) and moves
    nothing when the payment is not good."""
    w3 = w3 or get_web3()
    required = payment_required(work=work, terms=terms, resource_url=resource_url, w3=w3)
    wanted = required.accepts[0]
    payload = _decode(header, required)
    _check_accepted(payload, wanted, required)
    authorization = payload.payload["authorization"]
    payer = authorization.get("from", "")
    nonce = str(authorization.get("nonce", "")).lower()
    if not Web3.is_address(payer):
        _refuse(ERR_MALFORMED.format(detail="authorization.from is not an address"), required, "malformed")
    payer = Web3.to_checksum_address(payer)
    if PaidFetch.objects.filter(payer=payer, nonce=nonce).exclude(status=PaidFetch.Status.FAILED).exists():
        _refuse(ERR_USED.format(payer=payer, nonce=nonce), required, "authorization_used")
    if hooks.registration_dispute_for(work=work) is not None:
        raise FetchRefused(ERR_NOT_AVAILABLE, status=409, code="in_dispute")

    token = stablecoin(w3=w3)
    if token.functions.balanceOf(payer).call() < int(wanted.amount):
        _refuse(
            REASONS["invalid_exact_evm_insufficient_balance"],
            required,
            "invalid_exact_evm_insufficient_balance",
        )
    if token.functions.authorizationState(payer, Web3.to_bytes(hexstr=nonce)).call():
        _refuse(
            REASONS["invalid_exact_evm_nonce_already_used"], required, "invalid_exact_evm_nonce_already_used"
        )
    verdict = _verifier(settings.CHAIN_RPC_URL).verify(payload, wanted)
    if not verdict.is_valid:
        reason = REASONS.get(verdict.invalid_reason, verdict.invalid_reason)
        _refuse(reason, required, verdict.invalid_reason or "invalid_payment")

    market = contract(w3=w3, name=MARKET)
    price = int(wanted.amount)
    split = split_resolve(work=work, gross=price)
    payees, amounts = contract_payees(split)
    quote_id = "0x" + secrets.token_hex(32)
    typed = market_messages.token_quote_typed_data(
        chain_id=w3.eth.chain_id,
        market=market.address,
        token=wanted.asset,
        quote_id=quote_id,
        work_id=work.pk,
        terms_hash=terms.offer.terms.terms_hash,
        offer_id=terms.offer.chain_key,
        uses=AI_FETCH,
        buyer=payer,
        price=price,
        payees=payees,
        amounts=amounts,
        expiry=chain_now(w3) + settings.X402_MAX_TIMEOUT_SECONDS,
    )
    signature = typed_data_sign(typed, platform_signer())
    try:
        fetch = PaidFetch.objects.create(
            quote_id=quote_id,
            work=work,
            offer=terms.offer,
            terms=terms.offer.terms,
            payer=payer,
            token=wanted.asset,
            currency=currency(),
            amount_units=price,
            nonce=nonce,
            valid_before=int(authorization["validBefore"]),
            split=[line.as_json() for line in split],
            typed_data=typed,
            signature=signature,
            resource=resource_url[:500],
        )
    except IntegrityError:  # the same authorisation, presented twice at once
        _refuse(ERR_USED.format(payer=payer, nonce=nonce), required, "authorization_used")
    return _settle(fetch=fetch, payload=payload, market=market, w3=w3, required=required)


def _settle(
    *, fetch: PaidFetch, payload: PaymentPayload, market, w3: Web3, required: PaymentRequired
) -> PaidFetch:
    message = fetch.typed_data["message"]
    authorization = payload.payload["authorization"]
    quote = (
        Web3.to_bytes(hexstr=message["quoteId"]),
        message["workId"],
        Web3.to_bytes(hexstr=message["termsHash"]),
        Web3.to_bytes(hexstr=message["offerId"]),
        message["uses"],
        message["token"],
        message["buyer"],
        message["price"],
        message["payees"],
        message["amounts"],
        message["expiry"],
    )
    auth = (
        int(authorization["validAfter"]),
        int(authorization["validBefore"]),
        Web3.to_bytes(hexstr=authorization["nonce"]),
        Web3.to_bytes(hexstr=payload.payload["signature"]),
    )
    data = market.encode_abi(
        "purchaseWithAuthorization", args=[quote, Web3.to_bytes(hexstr=fetch.signature), auth]
    )
    try:
        tx = transaction_send(purpose=f"fetch:{fetch.pk}", to=market.address, data=data)
    except ContractLogicError as exc:  # the estimate reverted: nothing was sent
        _fail(fetch, str(exc))
        _refuse(ERR_SETTLE_FAILED.format(reason=str(exc)[:200]), required, "settlement_failed")
    PaidFetch.objects.filter(pk=fetch.pk).update(tx_hash=tx.tx_hash)
    fetch.tx_hash = tx.tx_hash
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx.tx_hash, timeout=settings.X402_SETTLE_SECONDS)
    except TimeExhausted:
        raise FetchRefused(ERR_SETTLE_SLOW.format(tx=tx.tx_hash), status=402, code="settlement_pending")
    if receipt.status != 1:
        reason = revert_error(w3, tx.tx_hash, contract_name=MARKET) or "reverted"
        _fail(fetch, reason)
        _refuse(ERR_SETTLE_FAILED.format(reason=reason), required, "settlement_failed")
    fetch.status, fetch.paid_at = PaidFetch.Status.PAID, timezone.now()
    fetch.save(update_fields=["status", "paid_at"])
    return fetch


def _fail(fetch: PaidFetch, reason: str) -> None:
    fetch.status, fetch.error = PaidFetch.Status.FAILED, reason[:300]
    fetch.save(update_fields=["status", "error"])
    logger.warning("x402 fetch %s of work %s not settled: %s", fetch.quote_id, fetch.work_id, reason)


def payment_response(*, fetch: PaidFetch, w3: Web3 | None = None) -> str:
    """The PAYMENT-RESPONSE header of a settled fetch."""
    w3 = w3 or get_web3()
    return encode_payment_response_header(
        SettleResponse(
            success=True,
            payer=fetch.payer,
            transaction=fetch.tx_hash,
            network=_network(w3),
            amount=str(fetch.amount_units),
        )
    )
