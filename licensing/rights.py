"""Machine-readable rights: X-Robots-Tag, TDMRep (W3C TDM Reservation Protocol), ai.txt,
IETF AI preferences (Content-Usage), schema.org JSON-LD, and the training-mining entries written
into licensed files."""

import json

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from core.chain.market import AI_FETCH
from core.chain.stablecoin import units_text
from core.money import wei_to_eth
from licensing import uses
from licensing.models import CatalogueEntry
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED


def ai_status(work) -> str:
    """The most permissive AI-training term among the work's active offers; none: prohibited."""
    entry = CatalogueEntry.objects.filter(work=work).only("ai_training").first()
    return entry.ai_training if entry else AI_PROHIBITED


def content_usage(*, ai_training: str, genai_training: str) -> str:
    """The work's AI preferences in the IETF vocabulary (draft-ietf-aipref-vocab): a Structured
    Fields dictionary of `train-ai` (training any AI model, generative or not) and `search`.
    Training is "y" only when the terms leave every kind of it free to anyone: a paid use is a
    use that needs a licence first, which the vocabulary can only say as "n" (the price is in
    the RSL document the Link header names). Being found by search is always wanted."""
    train = "y" if ai_training == AI_FREE and genai_training == AI_FREE else "n"
    return f"train-ai={train}, search=y"


ROBOTS_WORKS = 10_000  # like ai.txt, tdmrep.json and license.xml: the headers say it for every work


def robots_content_usage() -> list[str]:
    """robots.txt's Content-Usage rules (draft-ietf-aipref-attach): one per listed work's pages,
    since the most restrictive matching rule wins and a site-wide "n" would overrule a free
    work's "y"; works whose training is free first, then the most recently listed."""
    entries = (
        CatalogueEntry.objects.annotate(free=Q(ai_training=AI_FREE, genai_training=AI_FREE))
        .order_by("-free", "-listed_at", "-work_id")
        .values_list("work_id", "ai_training", "genai_training")[:ROBOTS_WORKS]
    )
    return [
        f"Content-Usage: {reverse('works:detail', args=[pk])} "
        + content_usage(ai_training=ai, genai_training=genai)
        for pk, ai, genai in entries
    ]


def _usage_of(work) -> tuple[str, str, str]:
    entry = CatalogueEntry.objects.filter(work=work).only("ai_training", "genai_training", "ai_fetch").first()
    if entry is None:
        return AI_PROHIBITED, AI_PROHIBITED, AI_PROHIBITED
    return entry.ai_training, entry.genai_training, entry.ai_fetch


def rights_headers(response, *, request, work):
    """Every header-borne signal of the work's AI terms, on its page and its media. What the
    AI-preference vocabulary cannot say is linked: the prices (the RSL document) and, where AI
    use per fetch is offered, the resource an agent fetches (and pays for, with x402)."""
    ai, genai_training, ai_fetch = _usage_of(work)
    response["Content-Usage"] = content_usage(ai_training=ai, genai_training=genai_training)
    rsl = request.build_absolute_uri(reverse("licensing:rsl"))
    links = [f'<{rsl}>; rel="license"; type="application/rsl+xml"']
    if ai_fetch != AI_PROHIBITED:
        fetch = request.build_absolute_uri(reverse("licensing:ai_fetch", args=[work.pk]))
        links.append(f'<{fetch}>; rel="{"payment" if ai_fetch == AI_PAID else "alternate"}"')
    response["Link"] = ", ".join(links)
    if ai != AI_FREE:
        response["X-Robots-Tag"] = "noai, noimageai"
        response["tdm-reservation"] = "1"
        response["tdm-policy"] = request.build_absolute_uri(reverse("licensing:tdm_policy", args=[work.pk]))
    else:
        response["tdm-reservation"] = "0"
    return response


def creator_did(work) -> str:
    """did:pkh (CAIP-10) of the creator's wallet on the chain the portal works on."""
    return f"did:pkh:eip155:{settings.CHAIN_ID}:{work.creator_address}"


def tdm_policy(*, request, work, ai: str) -> dict:
    """An ODRL policy (TDMRep) saying what text-and-data mining needs for this work."""
    target = request.build_absolute_uri(work.get_absolute_url())
    permission = {"target": target, "action": "tdm:mine"}
    if ai == AI_PAID:
        permission["duty"] = [{"action": "compensate", "target": target}]
    assigner = {"uid": creator_did(work)}
    if work.creator_name:
        assigner["vcard:fn"] = work.creator_name
    policy = {
        "@context": ["http://www.w3.org/ns/odrl.jsonld", {"tdm": "http://www.w3.org/ns/tdmrep#"}],
        "@type": "Offer",
        "uid": request.build_absolute_uri(reverse("licensing:tdm_policy", args=[work.pk])),
        "profile": "http://www.w3.org/ns/tdmrep",
        "assigner": assigner,
        "permission" if ai != AI_PROHIBITED else "prohibition": [permission],
    }
    return policy


CONSTRAINT_INFO = "Licence required: see the work's page on the Creator IP Portal."


def training_mining_entries(terms, granted: int | None = None) -> dict:
    """CAWG training-and-data-mining entries. Without `granted`: what the terms say to anyone.
    With `granted` (a licence's granted uses): what this licensee may do, so training that was
    bought reads "allowed", and data mining is allowed whenever AI training is."""

    def entry(choice, bit):
        if granted is not None and granted & bit:
            return {"use": "allowed"}
        use = {AI_FREE: "allowed", AI_PAID: "constrained", AI_PROHIBITED: "notAllowed"}[choice]
        value = {"use": use}
        if choice == AI_PAID:
            value["constraint_info"] = CONSTRAINT_INFO
        return value

    ai = entry(terms.ai_training, uses.AI_TRAINING)
    # inference: a copy fetched and paid for per fetch may be used as a model's input
    inference = {"use": "allowed"} if granted is not None and granted & AI_FETCH else dict(ai)
    return {
        "cawg.data_mining": dict(ai),
        "cawg.ai_inference": inference,
        "cawg.ai_training": ai,
        "cawg.ai_generative_training": entry(terms.genai_training, uses.GENAI_TRAINING),
    }


def json_ld(*, request, work, offers) -> str:
    page = request.build_absolute_uri(work.get_absolute_url())
    name = work.creator_name or work.creator_address
    creator = {"@type": "Person", "name": name, "identifier": creator_did(work)}
    data = {
        "@context": "https://schema.org",
        "@type": "ImageObject",
        "name": work.title,
        "description": work.description or work.title,
        "contentUrl": request.build_absolute_uri(work.preview.url),
        "thumbnailUrl": request.build_absolute_uri(work.thumbnail.url),
        "url": page,
        "license": request.build_absolute_uri(reverse("licensing:work_terms", args=[work.pk])),
        "acquireLicensePage": page + "#offers",
        "creditText": name,
        "creator": creator,
        "copyrightNotice": f"© {work.created_at:%Y} {name}. All rights reserved.",
        "keywords": ", ".join(work.tags),
    }
    if offers:
        data["offers"] = [
            {
                "@type": "Offer",
                "name": o.title,
                "price": wei_to_eth(o.terms.fee_wei)
                if o.terms.terms.currency == "ETH"
                else units_text(o.terms.fee_wei),
                "priceCurrency": o.terms.terms.currency,
            }
            for o in offers
        ]
    return json.dumps(data).replace("<", "\\u003c")


RSL_NAMESPACE = "https://rslstandard.org/rsl"


def rsl_document(*, request, entries) -> bytes:
    """An RSL 1.0 licence document (https://rslstandard.org/rsl): for each listed work, whether
    AI training is permitted, free, or paid (and how much, per work),
    who holds the copyright and where the full terms are; everything else is reserved."""
    from xml.etree.ElementTree import Element, SubElement, tostring

    root = Element("rsl", {"xmlns": RSL_NAMESPACE})
    for entry in entries:
        page = reverse("works:detail", args=[entry.work_id])
        content = SubElement(root, "content", {"url": page + "*"})
        licence = SubElement(content, "license")
        if entry.ai_training == AI_PROHIBITED:
            SubElement(licence, "prohibits", {"type": "usage"}).text = "ai-train"
        else:
            SubElement(licence, "permits", {"type": "usage"}).text = "ai-train"
            kind = "free" if entry.ai_training == AI_FREE else "training"
            payment = SubElement(licence, "payment", {"type": kind})
            if entry.ai_training == AI_PAID:
                currency = entry.ai_currency
                SubElement(payment, "amount", {"currency": currency}).text = (
                    wei_to_eth(entry.ai_price_wei)
                    if currency == "ETH"
                    else units_text(int(entry.ai_price_wei))
                )
                SubElement(payment, "custom").text = request.build_absolute_uri(page + "#offers")
        SubElement(content, "copyright", {"type": "person"}).text = (
            entry.creator_name or entry.creator_address
        )
        SubElement(content, "terms").text = request.build_absolute_uri(
            reverse("licensing:work_terms", args=[entry.work_id])
        )
    default = SubElement(root, "content", {"url": "/"})
    reserved = SubElement(default, "license")
    SubElement(reserved, "prohibits", {"type": "usage"}).text = "ai-train"
    SubElement(default, "terms").text = request.build_absolute_uri("/ai.txt")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()
