from django.db import migrations, models


class Migration(migrations.Migration):
    """Manifest results are kept as the JSON text that was sent (served as is, never re-parsed);
    PostgreSQL casts the jsonb column to its text form."""

    dependencies = [("licensing", "0005_invoice_settlement_manifestcheck_key_and_more")]

    operations = [
        migrations.RenameField(model_name="manifestcheck", old_name="results", new_name="results_json"),
        migrations.AlterField(
            model_name="manifestcheck",
            name="results_json",
            field=models.TextField(
                help_text="the results as sent, one entry per item: JSON text, stored and served as is"
            ),
        ),
    ]
