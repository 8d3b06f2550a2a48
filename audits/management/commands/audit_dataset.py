"""Audit a training set on this server's disk against the registry.

    python manage.py audit_dataset [--manifest FILE ...] [--shards GLOB ...] [--sample FRACTION]
                                   [--json OUT] [--name NAME]

Manifests: CommonPool-shaped parquet (uid, url, sha256, …) or CSV with url and/or sha256.
Shards: img2dataset WebDataset .tar files. Progress (items per second, ETA) goes to stderr; the
report is written as JSON to OUT (or stdout):
    {"rows_scanned": int, "images_hashed": int, "matches": [{"work_id", "kind", "distance",
     "source": {"file", "row", "uid", "key", "url"}}], ...}
"""

import glob
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audits import selectors, services
from audits.models import Audit, AuditInput
from audits.parts import parquet_plan
from core.errors import PortalError


def _shard_images(path: Path) -> int | None:
    """img2dataset writes `<shard>_stats.json` beside each shard, with its successes."""
    stats = path.with_name(path.name.split(".")[0] + "_stats.json")
    try:
        return int(json.loads(stats.read_text())["successes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Command(BaseCommand):
    help = "Check manifests and WebDataset shards against the registry; write the matches as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--manifest", nargs="+", default=[], metavar="FILE")
        parser.add_argument("--shards", nargs="+", default=[], metavar="GLOB")
        parser.add_argument("--sample", type=float, default=1.0, metavar="FRACTION")
        parser.add_argument("--json", dest="out", default="-", metavar="OUT")
        parser.add_argument("--name", default="")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, manifest, shards, sample, out, name, seed, **options):
        files = []
        for item in manifest:
            if not Path(item).is_file():
                raise CommandError(f"{item}: no such file")
            files.append((item, Path(item).name))
        for pattern in shards:
            found = sorted(glob.glob(pattern, recursive=True))
            if not found:
                raise CommandError(f"{pattern}: no shard matches")
            files += [(path, str(Path(path).relative_to(Path(path).anchor))) for path in found]
        try:
            audit = services.audit_create(
                name=name or ", ".join(Path(p).name for p, _ in files)[:200],
                files=files,
                via=Audit.Via.COMMAND,
                sample=sample,
                seed=seed,
            )
        except PortalError as exc:
            raise CommandError(exc.message) from exc

        total = 0
        for item in audit.inputs.all():
            if item.kind == AuditInput.Kind.PARQUET:
                total += parquet_plan(Path(item.path))[1]
            elif item.kind == AuditInput.Kind.SHARD:
                total += _shard_images(Path(item.path)) or 0
        bar = tqdm(total=total or None, unit=" items", unit_scale=True, file=sys.stderr, dynamic_ncols=True)

        def progress(part):
            bar.update(part.rows_total)
            if part.error:
                bar.write(f"{part.input.name}: {part.error}", file=sys.stderr)

        audit = services.audit_run_inline(audit=audit, progress=progress)
        bar.close()
        report = selectors.audit_json(audit=audit)
        text = json.dumps(report, indent=2)
        if out == "-":
            self.stdout.write(text)
        else:
            Path(out).write_text(text + "\n")
            self.stderr.write(
                f"{len(report['matches'])} matches in {report['rows_scanned']:,} rows and "
                f"{report['images_hashed']:,} images; report written to {out}"
            )
