import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Max, QuerySet
from django.utils.functional import cached_property

from core.fields import wei_sum
from licensing.forms import SORTS
from licensing.models import AI_TERMS_FIELDS, CatalogueEntry, Licence, Offer, PaidFetch, Quote
from works import hooks

PAGE_SIZE = 24


def catalogue_ai_terms(*, work) -> tuple | None:
    """What AI companies may do with a listed work, as its catalogue row says: (training, price,
    currency, generative training, price, currency); None when it is not listed."""
    return CatalogueEntry.objects.filter(work=work).values_list(*AI_TERMS_FIELDS).first()


def catalogue_queryset(
    *, q="", licence="", ai="", min_price=0, max_price=0, creator="", sort="recent"
) -> QuerySet:
    """The catalogue lists public works with an active offer (the services keep one
    CatalogueEntry per such work, and remove it when the work stops being public)."""
    qs = CatalogueEntry.objects.all()
    if q:
        for word in q.lower().split()[:5]:
            qs = qs.filter(search_text__contains=word)
    if licence:
        qs = qs.filter(presets__contains=licence)
    if ai == "allowed":
        qs = qs.filter(ai_training__in=["free", "paid"])
    elif ai in ("free", "paid", "prohibited"):
        qs = qs.filter(ai_training=ai)
    if min_price or max_price:  # prices typed in ETH compare with ETH prices only
        qs = qs.filter(fee_currency="ETH")
    if min_price:
        qs = qs.filter(min_fee_wei__gte=min_price)
    if max_price:
        qs = qs.filter(min_fee_wei__lte=max_price)
    if creator:
        creator = creator.strip()
        if creator.lower().startswith("0x") and len(creator) == 42:
            qs = qs.filter(creator_address__iexact=creator)
        else:
            qs = qs.filter(creator_name__iexact=creator)
    return qs.order_by(*SORTS.get(sort or "recent", SORTS["recent"]))


CARD_FIELDS = (
    "work_id",
    "title",
    "creator_address",
    "creator_name",
    "thumbnail",
    "min_fee_wei",
    "fee_currency",
    "ai_training",
    "updated_at",
)
CARD_TTL = 24 * 3600


CATALOGUE_VERSION_KEY = "catalogue-version"
COUNT_TTL = 300


class _CachedCountPaginator(Paginator):
    """A paginator whose COUNT comes from the shared cache when the catalogue has not changed:
    on PostgreSQL a COUNT over 100k rows is the most expensive query of the page."""

    def __init__(self, *args, count_key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self):
        value = cache.get(self.count_key)
        if value is None:
            value = self.object_list.count()
            cache.set(self.count_key, value, COUNT_TTL)
        return value


def catalogue_changed() -> None:
    """Called by every write to the catalogue: cached counts are keyed by this version."""
    try:
        cache.incr(CATALOGUE_VERSION_KEY)
    except ValueError:  # not set yet (or evicted)
        cache.set(CATALOGUE_VERSION_KEY, 1, None)


def _in_dispute():
    """True when the work's registration is in dispute: its sales are paused (same query)."""
    return hooks.in_registration_dispute(work_ref="work_id")


def catalogue_page(*, page_number, **filters):
    """At most three queries whatever the page size or depth: a COUNT (cached until the
    catalogue changes), the page's ids, then its rows.

    Paging over ids alone lets the database walk a covering index for deep pages (OFFSET
    90,000 reads index entries, not 90,000 rows); the rows are fetched by primary key.
    """
    version = cache.get_or_set(CATALOGUE_VERSION_KEY, 1, None)
    digest = hashlib.sha256(repr(sorted(filters.items())).encode()).hexdigest()[:32]
    paginator = _CachedCountPaginator(
        catalogue_queryset(**filters).values_list("pk", flat=True),
        PAGE_SIZE,
        count_key=f"catalogue-count:{version}:{digest}",
    )
    page = paginator.get_page(page_number)
    ids = list(page.object_list)
    rows = CatalogueEntry.objects.only(*CARD_FIELDS).annotate(in_dispute=_in_dispute()).in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def offers_for_work(*, work, viewer=None) -> list[Offer]:
    """Active offers, each with the uses it sells (`use_rows`) and, for a signed-in visitor,
    the licence they already hold under it (`held_licence`, `held_labels`, `all_held`)."""
    from licensing import uses

    offers = sorted(
        Offer.objects.active().filter(work=work).select_related("terms"),
        key=lambda o: (o.terms.fee_wei, o.pk),
    )
    held: dict[int, list[Licence]] = {}
    if viewer is not None and viewer.is_authenticated:
        for licence in Licence.objects.valid().filter(work=work, licensee=viewer).select_related("quote"):
            held.setdefault(licence.quote.offer_id, []).append(licence)
    for offer in offers:
        licences = held.get(offer.pk, [])
        mask = 0
        for licence in licences:
            mask |= licence.uses
        offer.held_licence = licences[0] if licences else None
        offer.held_labels = uses.labels_of(mask)
        offer.use_rows = [
            dict(row, held=bool(mask & row["use"])) for row in uses.available(offer.terms.terms)
        ]
        offer.all_held = all(row["held"] or row["prohibited"] for row in offer.use_rows)
    return offers


def licences_for_buyer(*, user) -> QuerySet[Licence]:
    return Licence.objects.filter(licensee=user).select_related(
        "work", "terms", "work__owner__profile", "quote"
    )


def licences_sold_by(*, user) -> QuerySet[Licence]:
    return Licence.objects.filter(work__owner=user).select_related(
        "work", "terms", "licensee__profile", "quote"
    )


def licence_for_viewer(*, pk: int, user) -> Licence | None:
    """A licence's details: for its licensee, its licensor and moderators only."""
    return (
        Licence.objects.visible_to(user)
        .select_related("work", "work__owner__profile", "terms", "licensee__profile", "quote")
        .filter(pk=pk)
        .first()
    )


def licences_held_for_work(*, work, user) -> list[Licence]:
    """The visitor's valid licences for this work (to say "you hold this licence")."""
    if user is None or not user.is_authenticated:
        return []
    return list(Licence.objects.valid().filter(work=work, licensee=user).select_related("quote__offer"))


def quote_for_buyer(*, quote_id: str, user) -> Quote | None:
    return (
        Quote.objects.select_related("offer__terms", "offer__work__owner__profile", "licence")
        .filter(quote_id=quote_id, buyer=user)
        .first()
    )


def licence_counts(*, user) -> dict:
    """What a person sold and bought as licences (the dashboard adds AI companies' purchases,
    training.selectors.training_sold_count)."""
    from django.db.models import Count, Q

    return Licence.objects.filter(Q(licensee=user) | Q(work__owner=user)).aggregate(
        sold=Count("pk", filter=Q(work__owner=user)), bought=Count("pk", filter=Q(licensee=user))
    )


def catalogue_cards(*, entries) -> list[str]:
    """Each entry's rendered card, from the shared cache when it is there.

    A card is the same on every page and filter that shows it, and a template render costs
    ~0.1 ms per card (bench/catalogue.py), so cards are cached by work and version (the
    entry's `updated_at`, which every offer change moves) and fetched in one `get_many`.
    """
    from django.conf import settings
    from django.template.loader import render_to_string

    keys = {f"catalogue-card:v1:{e.work_id}:{e.updated_at.timestamp()}": e for e in entries}
    cards = cache.get_many(list(keys))
    missing = {
        key: render_to_string(
            "licensing/partials/catalogue_card.html", {"entry": entry, "media_url": settings.MEDIA_URL}
        )
        for key, entry in keys.items()
        if key not in cards
    }
    if missing:
        cache.set_many(missing, CARD_TTL)
        cards.update(missing)
    return [cards[key] for key in keys]


def sale_for_quote(*, quote_id: str) -> dict | None:
    """The sale behind a quote, as the ledger records it (royalties.hooks.sale_for_quote)."""
    quote = Quote.objects.select_related("offer").filter(quote_id=quote_id).first()
    if quote is None:
        fetch = PaidFetch.objects.filter(quote_id=quote_id).first()
        if fetch is None:
            return None
        return {
            "buyer": fetch.payer,
            "sold_work_id": fetch.work_id,
            "gross": int(fetch.amount_units),
            "uses": fetch.uses,
            "split": fetch.split,
        }
    return {
        "buyer": quote.buyer_address,
        "sold_work_id": quote.offer.work_id,
        "gross": int(quote.price_wei),
        "uses": quote.uses,
        "split": quote.split,
    }


@dataclass(frozen=True)
class FetchSummary:
    count: int
    total_units: int
    last_at: object


def fetch_summary(*, work) -> FetchSummary:
    """The work's AI fetches paid with x402 (for its parties): how many, what they paid, when
    the last one came (one query)."""
    agg = PaidFetch.objects.filter(work=work, status=PaidFetch.Status.PAID).aggregate(
        count=Count("pk"), last_at=Max("paid_at")
    )
    total = wei_sum(PaidFetch.objects.filter(work=work, status=PaidFetch.Status.PAID), "amount_units")
    return FetchSummary(agg["count"], total, agg["last_at"])
