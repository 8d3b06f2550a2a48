"""Rewrite every WeiField value in the length-prefixed SQLite text encoding (a no-op on
PostgreSQL, where amounts are numeric). Reads accept the older padded text."""

from django.db import migrations

import core.fields

COLUMNS = {
    "licensing.LicenceTerms": ["fee_wei"],
    "licensing.Quote": ["price_wei"],
    "licensing.Licence": ["price_wei"],
    "licensing.CatalogueEntry": ["min_fee_wei"],
    "chain.ChainTransaction": ["value", "max_fee_per_gas", "max_priority_fee_per_gas"],
    "royalties.EarningsDay": ["amount"],
    "royalties.EarningsWork": ["amount"],
    "royalties.Withdrawal": ["amount"],
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        core.fields.rewrite_wei_columns(COLUMNS)(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("licensing", "0003_catalogue_plural"),
        ("chain", "0002_eventdelivery_chainevent_generation_and_more"),
        ("royalties", "0003_earnings_by_work"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
