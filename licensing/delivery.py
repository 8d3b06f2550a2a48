"""The licensed download: the original file, carrying its rights.

1. An XMP packet (IPTC PLUS `plus:DataMining`, `xmpRights`, the licence) is inserted into the
   original's bytes without re-encoding the image (a JPEG APP1 segment, a PNG iTXt chunk).
2. A C2PA manifest signed by the platform (c2pa-python) is embedded with a
   `cawg.training-mining` assertion set from the licence terms.
"""

import datetime as dt
import io
import json
import struct
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from licensing import uses
from licensing.rights import training_mining_entries
from licensing.terms import AI_PAID, AI_PROHIBITED

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"


def data_mining_value(terms, granted: int) -> str:
    """IPTC PLUS Data Mining value for what this licence grants (bought uses plus free ones)."""
    ai, genai = bool(granted & uses.AI_TRAINING), bool(granted & uses.GENAI_TRAINING)
    if ai and genai:
        return PLUS_VOCAB + "DMI-ALLOWED"
    if ai:
        return PLUS_VOCAB + "DMI-PROHIBITED-GENAIMLTRAINING"
    if terms.ai_training == AI_PROHIBITED and terms.genai_training == AI_PROHIBITED:
        return PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING"
    return PLUS_VOCAB + "DMI-PROHIBITED-SEECONSTRAINT"


def granted_statement(terms, granted: int) -> str:
    """In words, what this licensee may do with AI, matching the C2PA entries."""
    parts = []
    for bit, choice in ((uses.AI_TRAINING, terms.ai_training), (uses.GENAI_TRAINING, terms.genai_training)):
        label = uses.LABELS[bit]
        if granted & bit:
            parts.append(f"{label}: granted to this licensee.")
        elif choice == AI_PAID:
            parts.append(f"{label}: not granted; requires a paid AI-training licence for this work.")
        else:
            parts.append(f"{label}: not allowed.")
    return " ".join(parts)


def xmp_packet(*, licence, terms, certificate_url: str) -> bytes:
    granted = uses.granted(terms, licence.uses)
    work = licence.work
    creator = work.creator_name or work.creator_address
    licensee_name = getattr(getattr(licence.licensee, "profile", None), "display_name", "")
    licensee = f"{licensee_name} ({licence.licensee_address})" if licensee_name else licence.licensee_address
    constraint = escape(granted_statement(terms, granted))
    rights = escape(
        f"© {creator} ({work.creator_address}). Licensed to {licensee} for: "
        f"{', '.join(uses.labels_of(licence.uses)).lower()}; terms {licence.terms.terms_hash}; "
        f"see {certificate_url}"
    )
    usage = escape(" ".join(terms.plain_language()))
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"
    xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"
    plus:DataMining="{data_mining_value(terms, granted)}"
    plus:OtherConstraints="{constraint}"
    xmpRights:Marked="True"
    xmpRights:WebStatement="{escape(certificate_url)}">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(work.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(creator)}</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{rights}</rdf:li></rdf:Alt></dc:rights>
   <xmpRights:UsageTerms>
    <rdf:Alt><rdf:li xml:lang="x-default">{usage}</rdf:li></rdf:Alt>
   </xmpRights:UsageTerms>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _jpeg_with_xmp(data: bytes, xmp: bytes) -> bytes:
    payload = XMP_APP1_HEADER + xmp
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("XMP packet too large for one APP1 segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def _png_with_xmp(data: bytes, xmp: bytes) -> bytes:
    body = b"XML:com.adobe.xmp\x00" + b"\x00\x00" + b"\x00" + b"\x00" + xmp
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    ihdr_end = 8 + 12 + struct.unpack(">I", data[8:12])[0]
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def _webp_with_xmp(data: bytes, xmp: bytes) -> bytes:
    """Add an `XMP ` chunk, turning a simple (VP8/VP8L) WebP into the extended (VP8X) form
    that may carry metadata, as the WebP container spec describes."""
    from PIL import Image

    chunks = data[12:]
    if chunks[:4] == b"VP8X":
        flags = chunks[8] | 0x04
        chunks = chunks[:8] + bytes([flags]) + chunks[9:]
    else:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            has_alpha = image.mode in ("RGBA", "LA")
        flags = 0x04 | (0x10 if has_alpha else 0)
        vp8x = (
            bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        )
        chunks = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + chunks
    xmp_chunk = b"XMP " + struct.pack("<I", len(xmp)) + xmp + (b"\x00" if len(xmp) % 2 else b"")
    body = b"WEBP" + chunks + xmp_chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _signing_material() -> tuple[bytes, bytes]:
    """The platform's C2PA certificate chain and key; a development CA is made on first use."""
    folder = Path(settings.C2PA_DIR)
    chain_path, key_path = folder / "chain.pem", folder / "signer.key"
    if chain_path.exists() and key_path.exists():
        return chain_path.read_bytes(), key_path.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Creator IP Portal development CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Creator IP Portal"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "Creator IP Portal licence signer"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Creator IP Portal"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain_path.write_bytes(chain)
    key_path.write_bytes(key)
    key_path.chmod(0o600)
    return chain, key


def c2pa_sign(
    *,
    data: bytes,
    mime: str,
    title: str,
    terms,
    licence_url: str,
    granted: int | None = None,
    label: str = "cawg.training-mining",
) -> bytes:
    chain, key = _signing_material()
    manifest = {
        "claim_generator_info": [{"name": "creator-ip-portal", "version": "1"}],
        "title": title,
        "assertions": [
            {"label": label, "data": {"entries": training_mining_entries(terms, granted)}},
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {"@context": "https://schema.org", "@type": "CreativeWork", "license": licence_url},
            },
        ],
    }
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=key, ta_url=None)
    )
    # No auto thumbnail: it would add hundreds of KB of someone's preview to a licensed file.
    context = c2pa.Context(
        c2pa.Settings.from_json(json.dumps({"builder": {"thumbnail": {"enabled": False}}}))
    )
    with c2pa.Builder(manifest, context) as builder:
        builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CREATION)
        source, dest = io.BytesIO(data), io.BytesIO()
        builder.sign(signer, mime, source, dest)
    return dest.getvalue()


def licensed_file(*, licence, base_url: str = "") -> tuple[bytes, str, str]:
    """(bytes, file name, mime type) of the original carrying XMP and a signed C2PA manifest."""
    work = licence.work
    terms = licence.terms.terms
    certificate_url = (base_url or "") + licence.get_absolute_url()
    with work.original.open("rb") as handle:
        data = handle.read()
    xmp = xmp_packet(licence=licence, terms=terms, certificate_url=certificate_url)
    if work.mime == "image/jpeg":
        data = _jpeg_with_xmp(data, xmp)
    elif work.mime == "image/png":
        data = _png_with_xmp(data, xmp)
    elif work.mime == "image/webp":
        data = _webp_with_xmp(data, xmp)
    data = c2pa_sign(
        data=data,
        mime=work.mime,
        title=work.title,
        terms=terms,
        licence_url=certificate_url,
        granted=uses.granted(terms, licence.uses),
    )
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[work.mime]
    safe_title = "".join(c if c.isalnum() or c in "-_" else "-" for c in work.title)[:60].strip("-") or "work"
    return data, f"{safe_title}-licence-{licence.pk}.{ext}", work.mime


def c2pa_trust_anchors() -> str:
    """The CA that issued the platform's signing certificate (PEM), to trust when reading."""
    chain, _ = _signing_material()
    return chain.decode().split("-----END CERTIFICATE-----\n", 1)[1]


def manifest_of(data: bytes, mime: str, *, trust_anchors: str | None = None) -> dict:
    """The active C2PA manifest of a file, as JSON, with the reader's validation status."""
    context = None
    if trust_anchors:
        context = c2pa.Context(
            c2pa.Settings.from_json(json.dumps({"trust": {"trust_anchors": trust_anchors}}))
        )
    with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
        store = json.loads(reader.json())
    return store["manifests"][store["active_manifest"]] | {
        "validation_status": store.get("validation_status"),
        "validation_state": store.get("validation_state"),
    }


TRAINING_MINING_LABELS = ("cawg.training-mining", "c2pa.training-mining")  # current, then legacy


def training_mining_of(manifest: dict) -> dict | None:
    """The training-and-data-mining entries of a manifest, under the CAWG label or the legacy
    C2PA one (files signed before CAWG took the assertion over still carry it)."""
    for label in TRAINING_MINING_LABELS:
        for assertion in manifest.get("assertions", []):
            if assertion.get("label") == label:
                return assertion["data"]["entries"]
    return None
