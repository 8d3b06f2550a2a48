"""Licence certificates: the document a licence's parties hand on, and the check anyone can run
on a certificate they were shown (instead of looking licences up by id)."""

from dataclasses import dataclass, field

from django.utils import timezone

from core.chain.eip712 import typed_data_signer
from core.chain.roles import signers_known
from core.chain.stablecoin import money_text
from licensing import uses
from licensing.eip712 import CERTIFICATE_DOMAIN
from licensing.models import Licence

ERR_NOT_CERTIFICATE = (
    "This is not a licence certificate of this portal (no signed LicenceCertificate inside)."
)
ERR_BAD_SIGNATURE = (
    "The signature does not check out: the certificate was altered or not signed by this portal."
)
ERR_UNKNOWN = "The signature is genuine but this portal has no record of the licence."
ERR_VOID = "The licence was voided: {reason}"
ERR_EXPIRED = "The licence expired on {when}."


def certificate_document(licence: Licence) -> dict:
    work = licence.work
    terms = licence.terms.terms
    return {
        "licence": licence.pk,
        "status": licence.status,
        "work": {"id": work.pk, "title": work.title, "sha256": work.sha256},
        "licensor": {"address": work.creator_address, "name": work.creator_name or None},
        "licensee": {"address": licence.licensee_address, "name": _name(licence.licensee) or None},
        "uses_bought": uses.names_of(licence.uses),
        "uses_granted": uses.names_of(uses.granted(terms, licence.uses)),
        "terms": terms.canonical(),
        "terms_hash": licence.terms.terms_hash,
        "price_wei": str(licence.price_wei),
        "price": money_text(licence.price_wei, licence.quote.currency, zero="free"),
        "tx_hash": licence.tx_hash,
        "block_number": licence.block_number,
        "issued_at": licence.issued_at.isoformat(),
        "expires_at": licence.expires_at.isoformat() if licence.expires_at else None,
        "certificate": licence.certificate,
        "signature": licence.certificate_signature,
        "signer": typed_data_signer(licence.certificate, licence.certificate_signature),
    }


def _name(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else ""


@dataclass
class CertificateCheck:
    ok: bool
    problems: list[str] = field(default_factory=list)
    signer: str | None = None
    message: dict = field(default_factory=dict)
    licence: Licence | None = None

    @property
    def uses_bought(self) -> list[str]:
        return uses.labels_of(int(self.message.get("uses", 0)))


def certificate_check(document: dict) -> CertificateCheck:
    """Signature by a platform key (the one in use, or one rotated out since), a record of it
    here, and the licence still valid."""
    typed, signature = document.get("certificate"), document.get("signature")
    if (
        not isinstance(typed, dict)
        or not isinstance(signature, str)
        or typed.get("primaryType") != "LicenceCertificate"
        or not isinstance(typed.get("message"), dict)
        or {k: typed.get("domain", {}).get(k) for k in CERTIFICATE_DOMAIN} != CERTIFICATE_DOMAIN
    ):
        return CertificateCheck(ok=False, problems=[ERR_NOT_CERTIFICATE])
    message = typed["message"]
    try:
        signer = typed_data_signer(typed, signature)
    except Exception:
        return CertificateCheck(ok=False, problems=[ERR_BAD_SIGNATURE], message=message)
    if signer not in signers_known():  # this key, or one rotated out since
        return CertificateCheck(ok=False, problems=[ERR_BAD_SIGNATURE], signer=signer, message=message)
    licence = (
        Licence.objects.select_related("work", "work__owner__profile", "terms")
        .filter(quote__quote_id=message.get("quoteId"), certificate_signature=signature)
        .first()
    )
    problems = []
    if licence is None:
        problems.append(ERR_UNKNOWN)
    elif licence.status == Licence.Status.VOID:
        problems.append(ERR_VOID.format(reason=licence.void_reason))
    elif licence.expires_at and licence.expires_at <= timezone.now():
        problems.append(ERR_EXPIRED.format(when=licence.expires_at.strftime("%Y-%m-%d")))
    return CertificateCheck(
        ok=not problems, problems=problems, signer=signer, message=message, licence=licence
    )
