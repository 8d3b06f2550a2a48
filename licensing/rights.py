"""Machine-readable rights: X-Robots-Tag, TDMRep (W3C TDM Reservation Protocol), ai.txt,
schema.org JSON-LD, and the training-mining entries written into licensed files."""

import json

from django.urls import reverse

from licensing.models import CatalogueEntry
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED


def ai_status(work) -> str:
    """The most permissive AI-training term among the work's active offers; none: prohibited."""
    entry = CatalogueEntry.objects.filter(work=work).only("ai_training").first()
    return entry.ai_training if entry else AI_PROHIBITED


def rights_headers(response, *, request, work, ai: str | None = None):
    ai = ai or ai_status(work)
    if ai != AI_FREE:
        response["X-Robots-Tag"] = "noai, noimageai"
        response["tdm-reservation"] = "1"
        response["tdm-policy"] = request.build_absolute_uri(reverse("licensing:tdm_policy", args=[work.pk]))
    else:
        response["tdm-reservation"] = "0"
    return response


def tdm_policy(*, request, work, ai: str) -> dict:
    """An ODRL policy (TDMRep) saying what text-and-data mining needs for this work."""
    target = request.build_absolute_uri(work.get_absolute_url())
    permission = {"target": target, "action": "tdm:mine"}
    if ai == AI_PAID:
        permission["duty"] = [{"action": "compensate", "target": target}]
    policy = {
        "@context": ["http://www.w3.org/ns/odrl.jsonld", {"tdm": "http://www.w3.org/ns/tdmrep#"}],
        "@type": "Offer",
        "uid": request.build_absolute_uri(reverse("licensing:tdm_policy", args=[work.pk])),
        "profile": "http://www.w3.org/ns/tdmrep",
        "assigner": {"uid": f"did:pkh:eip155:1:{work.creator_address}"},
        "permission" if ai != AI_PROHIBITED else "prohibition": [permission],
    }
    return policy


def training_mining_entries(terms) -> dict:
    """CAWG training-and-data-mining entries for a licensed file, from its terms."""

    def use(choice):
        return {AI_FREE: "allowed", AI_PAID: "constrained", AI_PROHIBITED: "notAllowed"}[choice]

    def entry(choice):
        value = {"use": use(choice)}
        if choice == AI_PAID:
            value["constraint_info"] = "Licence required: see the work's page on the Creator IP Portal."
        return value

    return {
        "cawg.data_mining": entry(terms.ai_training),
        "cawg.ai_inference": entry(terms.ai_training),
        "cawg.ai_training": entry(terms.ai_training),
        "cawg.ai_generative_training": entry(terms.genai_training),
    }


def json_ld(*, request, work, offers) -> str:
    page = request.build_absolute_uri(work.get_absolute_url())
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
        "creditText": work.creator_address,
        "creator": {"@type": "Person", "name": work.creator_address, "identifier": work.creator_address},
        "copyrightNotice": f"© {work.created_at:%Y} {work.creator_address}. All rights reserved.",
        "keywords": ", ".join(work.tags),
    }
    if offers:
        data["offers"] = [
            {"@type": "Offer", "name": o.title, "price": str(o.terms.fee_wei), "priceCurrency": "wei"}
            for o in offers
        ]
    return json.dumps(data).replace("<", "\\u003c")
