"""Compute what older registrations lack: the crop and window PDQ hashes (and re-publish public
works so every index adds them) and the digests of previews and thumbnails.

    python manage.py fingerprints_backfill [--batch 500]
"""

import hashlib

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from PIL import Image

from works.matching import prints, windows_text
from works.models import FingerprintChange, Work, WorkDigest


class Command(BaseCommand):
    help = (
        "Fill in crop and window PDQ hashes and preview/thumbnail digests of works registered "
        "before they existed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, batch, **options):
        done = failed = 0
        public = set(Work.objects.public().values_list("pk", flat=True))
        last = 0
        lacking = Q(pdq_crop="") | Q(pdq_windows="")
        while chunk := list(Work.objects.filter(lacking, pk__gt=last).order_by("pk")[:batch]):
            last = chunk[-1].pk
            for work in chunk:
                try:
                    with work.original.open("rb") as handle, Image.open(handle) as image:
                        found = prints(image)
                    digests = [
                        WorkDigest(work=work, sha256=hashlib.sha256(field.read()).hexdigest(), kind=kind)
                        for field, kind in (
                            (work.preview, WorkDigest.Kind.PREVIEW),
                            (work.thumbnail, WorkDigest.Kind.THUMBNAIL),
                        )
                    ]
                except (OSError, ValueError) as exc:
                    failed += 1
                    self.stderr.write(f"work {work.pk}: {exc}")
                    continue
                windows = windows_text(found.windows)
                with transaction.atomic():
                    Work.objects.filter(pk=work.pk).update(pdq_crop=found.pdq_crop, pdq_windows=windows)
                    WorkDigest.objects.bulk_create(digests, ignore_conflicts=True)
                    if work.pk in public:
                        FingerprintChange.objects.create(
                            work=work, pdq=work.pdq, pdq_crop=found.pdq_crop, pdq_windows=windows, added=True
                        )
                done += 1
        self.stdout.write(f"{done} works backfilled, {failed} could not be read")
