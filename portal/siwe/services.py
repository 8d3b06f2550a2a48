"""Sign-In with Ethereum (EIP-4361): issue nonces, check messages, log the wallet in.

siwe-py parses the grammar but only checks what it is asked to and never the chain id, uri,
version or issued-at age, so every rule is checked here and each failure becomes a `SiweError`
with a message the user can act on (the view turns it into a 4xx).
"""

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address, to_checksum_address
from siwe import SiweMessage

from core.chain.signatures import EOA, signature_check
from core.errors import PortalError
from portal.siwe.models import SiweNonce

ERR_MALFORMED = "The message is not a valid Sign-In with Ethereum (EIP-4361) message: {detail}."
ERR_ADDRESS = "The message's address is not a valid Ethereum address (0x and 40 hex digits, EIP-55)."
ERR_SCHEME = "The message was made for {got}:// but this site is served over {expected}://."
ERR_DOMAIN = "The message was made for {got}, not for this site ({expected})."
ERR_URI = "The message's URI {got} is not on this site ({expected})."
ERR_VERSION = "Only version 1 of Sign-In with Ethereum is supported."
ERR_CHAIN = "Chain ID {got} is not accepted here; switch your wallet to chain {allowed}."
ERR_ISSUED_IN_FUTURE = "The message's issued-at time is in the future; check your device clock."
ERR_ISSUED_TOO_OLD = "The message was issued more than {seconds} seconds ago; sign in again."
ERR_EXPIRED = "The message has expired; sign in again."
ERR_NOT_YET_VALID = "The message is not valid yet (its not-before time is in the future)."
ERR_SIGNATURE_FORMAT = (
    "The signature is not a 65-byte hex string (0x and 130 hex digits), nor a smart-contract "
    "account's signature (longer, 0x and whole bytes of hex)."
)
ERR_SIGNATURE = "The signature was not made by {address}."
ERR_NONCE_UNKNOWN = "The nonce was not issued to this session or has expired; request a new one."
ERR_NONCE_USED = "The nonce has already been used; request a new one."

NONCE_LENGTH = 24
_NONCE_ALPHABET = string.ascii_letters + string.digits
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
# An EOA signs with 65 bytes; a smart-contract account (ERC-1271, ERC-6492) with any longer blob.
_HEX_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}(?:[0-9a-fA-F]{2})*")


class SiweError(PortalError):
    code = "siwe_refused"


@dataclass(frozen=True)
class SiteOrigin:
    """What a message must name to be meant for this site: the request's scheme and host."""

    scheme: str
    host: str

    @property
    def origin(self):
        return f"{self.scheme}://{self.host}"


def nonce_issue(*, session_key: str, now: datetime | None = None) -> SiweNonce:
    now = now or timezone.now()
    nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(NONCE_LENGTH))
    return SiweNonce.objects.create(
        nonce=nonce,
        session_key=session_key,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SIWE_NONCE_TTL_SECONDS),
    )


def _parse(message: str) -> SiweMessage:
    lines = message.split("\n")
    if len(lines) < 2:
        raise SiweError(ERR_MALFORMED.format(detail="it is too short"))
    address = lines[1]
    if not _HEX_ADDRESS.fullmatch(address):
        raise SiweError(ERR_ADDRESS)
    if address != address.lower() and not is_checksum_address(address):
        raise SiweError(ERR_ADDRESS)
    # Many wallets hand out lower-case addresses; they name the same account, so parse the
    # checksummed form (siwe-py insists on it) while the signature is still checked against
    # the exact text the wallet signed.
    lines[1] = to_checksum_address(address)
    try:
        parsed = SiweMessage.from_message("\n".join(lines))
    except Exception as exc:  # siwe raises ValueError, pydantic and abnf errors alike
        raise SiweError(ERR_MALFORMED.format(detail=_parse_detail(exc))) from None
    for field in ("issued_at", "expiration_time", "not_before"):
        value = getattr(parsed, field)
        if value is not None and value._datetime.tzinfo is None:
            raise SiweError(ERR_MALFORMED.format(detail=f"{field} has no time zone"))
    return parsed


def _parse_detail(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else exc.__class__.__name__
    for line in text:
        if "Value error" in line or "Input should" in line or "Invalid" in line:
            return f"{first.strip()} ({line.strip()[:160]})"
    return first[:200]


def _check_origin(parsed: SiweMessage, site: SiteOrigin) -> None:
    if parsed.scheme is not None and parsed.scheme != site.scheme:
        raise SiweError(ERR_SCHEME.format(got=parsed.scheme, expected=site.scheme))
    if parsed.domain != site.host:
        raise SiweError(ERR_DOMAIN.format(got=parsed.domain, expected=site.host))
    uri = urlsplit(parsed.uri)
    if f"{uri.scheme}://{uri.netloc}" != site.origin:
        raise SiweError(ERR_URI.format(got=parsed.uri, expected=site.origin))
    if str(parsed.version) != "1":
        raise SiweError(ERR_VERSION)
    allowed = settings.SIWE_ALLOWED_CHAIN_IDS
    if parsed.chain_id not in allowed:
        raise SiweError(ERR_CHAIN.format(got=parsed.chain_id, allowed=" or ".join(str(c) for c in allowed)))


def _check_times(parsed: SiweMessage, now: datetime) -> None:
    skew = timedelta(seconds=settings.SIWE_CLOCK_SKEW_SECONDS)
    issued_at = parsed.issued_at._datetime
    if issued_at > now + skew:
        raise SiweError(ERR_ISSUED_IN_FUTURE)
    if issued_at < now - timedelta(seconds=settings.SIWE_MAX_AGE_SECONDS):
        raise SiweError(ERR_ISSUED_TOO_OLD.format(seconds=settings.SIWE_MAX_AGE_SECONDS))
    if parsed.expiration_time is not None and now >= parsed.expiration_time._datetime:
        raise SiweError(ERR_EXPIRED)
    if parsed.not_before is not None and now < parsed.not_before._datetime:
        raise SiweError(ERR_NOT_YET_VALID)


def _check_signature(message: str, signature: str, address: str) -> str:
    """The message's address made the signature: an EOA's key (ecrecover), or a smart-contract
    account (ERC-1271 when deployed, ERC-6492 when not yet), as EIP-4361 requires. Returns the
    kind of account."""
    if not isinstance(signature, str) or not _HEX_SIGNATURE.fullmatch(signature):
        raise SiweError(ERR_SIGNATURE_FORMAT)
    check = signature_check(signer=address, message=encode_defunct(text=message), signature=signature)
    if not check.valid and check.kind == EOA and len(signature) != 132:
        raise SiweError(ERR_SIGNATURE_FORMAT)  # a long signature for an address with no code
    if not check.valid:
        raise SiweError(ERR_SIGNATURE.format(address=address), status=401)
    return check.kind


def _consume_nonce(*, nonce: str, session_key: str, now: datetime) -> None:
    """Mark the nonce used; exactly one of any number of concurrent callers succeeds.

    The conditional UPDATE is the claim: the database serialises it, and the row count says
    whether this caller won.
    """
    claimed = (
        SiweNonce.objects.usable(now=now).filter(nonce=nonce, session_key=session_key).update(used_at=now)
    )
    if claimed == 1:
        return
    if SiweNonce.objects.filter(nonce=nonce, session_key=session_key, used_at__isnull=False).exists():
        raise SiweError(ERR_NONCE_USED, status=409)
    raise SiweError(ERR_NONCE_UNKNOWN)


def siwe_message_verify(
    *, message: str, signature: str, site: SiteOrigin, session_key: str, now: datetime | None = None
) -> str:
    """Check a signed EIP-4361 message and return the signer's checksummed address.

    1. Parse the grammar (a lower-case address is accepted as its checksummed form).
    2. Scheme, domain and URI must name this site; version 1; an allowed chain id.
    3. Issued-at within the allowed age and not in the future; expiry and not-before.
    4. The signature must recover to the message's address.
    5. The nonce must be this session's, unexpired and unused; it is consumed atomically.
    """
    now = now or timezone.now()
    parsed = _parse(message)
    _check_origin(parsed, site)
    _check_times(parsed, now)
    _check_signature(message, signature, parsed.address)
    with transaction.atomic():
        _consume_nonce(nonce=parsed.nonce, session_key=session_key, now=now)
    return parsed.address
