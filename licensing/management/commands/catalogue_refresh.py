"""Recompute the catalogue row of every work with an active offer, from its offers: what a change
of how the row is computed needs for rows written before it (AI prices in the stablecoin, before
the catalogue kept each price's currency, read as "prohibited" for AI training).

    python manage.py catalogue_refresh [--batch 500]

Each work is refreshed in its own transaction by the same service an offer change runs; a change
of what AI companies may do with a work is appended to the changes feed, as for any change.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from licensing.models import Offer
from licensing.selectors import catalogue_ai_terms
from licensing.services import catalogue_refresh
from works.models import Work


class Command(BaseCommand):
    help = "Recompute every listed work's catalogue row from its active offers."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, batch, **options):
        ids = sorted(set(Offer.objects.active().values_list("work_id", flat=True)))
        changed = 0
        for start in range(0, len(ids), batch):
            for work in Work.objects.filter(pk__in=ids[start : start + batch]).select_related("owner"):
                with transaction.atomic():
                    before = catalogue_ai_terms(work=work)
                    catalogue_refresh(work=work)
                    changed += catalogue_ai_terms(work=work) != before
        self.stdout.write(f"{len(ids)} works refreshed, {changed} rows changed.")
