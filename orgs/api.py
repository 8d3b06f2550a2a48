from datetime import datetime

from ninja import Router, Schema

from core.api import ERRORS

router = Router(tags=["organisation"])


class MeOut(Schema):
    organisation: str
    slug: str
    key_prefix: str
    scopes: list[str]
    rate_per_minute: int
    paying_wallets: list[str]
    created_at: datetime


@router.get("/me", response={200: MeOut, **ERRORS}, summary="The organisation and key making the request")
def me(request):
    key = request.api_key
    return {
        "organisation": key.org.name,
        "slug": key.org.slug,
        "key_prefix": key.prefix,
        "scopes": key.scopes,
        "rate_per_minute": key.rate_per_minute,
        "paying_wallets": list(key.org.wallets.values_list("address", flat=True)),
        "created_at": key.created_at,
    }
