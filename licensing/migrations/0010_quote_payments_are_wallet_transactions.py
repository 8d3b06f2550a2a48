from django.db import migrations


def copy_payments(apps, schema_editor):
    """Every payment a buyer's wallet reported becomes a wallet transaction of kind "purchase",
    its subject the quote id; hashes, states, reasons, blocks and dates kept."""
    QuotePayment = apps.get_model("licensing", "QuotePayment")
    WalletTransaction = apps.get_model("chain", "WalletTransaction")
    for payment in QuotePayment.objects.select_related("quote").order_by("pk").iterator():
        tx, _ = WalletTransaction.objects.get_or_create(
            tx_hash=payment.tx_hash,
            defaults={
                "kind": "purchase",
                "subject": payment.quote.quote_id,
                "user_id": payment.quote.buyer_id,
                "status": payment.status,
                "reason": payment.reason,
                "block_number": payment.block_number,
                "checked_at": payment.checked_at,
            },
        )
        WalletTransaction.objects.filter(pk=tx.pk).update(reported_at=payment.reported_at)


def copy_back(apps, schema_editor):
    QuotePayment = apps.get_model("licensing", "QuotePayment")
    Quote = apps.get_model("licensing", "Quote")
    WalletTransaction = apps.get_model("chain", "WalletTransaction")
    quotes = dict(Quote.objects.values_list("quote_id", "pk"))
    for tx in WalletTransaction.objects.filter(kind="purchase").order_by("pk"):
        if tx.subject in quotes:
            payment = QuotePayment.objects.create(
                quote_id=quotes[tx.subject],
                tx_hash=tx.tx_hash,
                status="mined" if tx.status == "confirmed" else tx.status,
                reason=tx.reason,
                block_number=tx.block_number,
                checked_at=tx.checked_at,
            )
            QuotePayment.objects.filter(pk=payment.pk).update(reported_at=tx.reported_at)


class Migration(migrations.Migration):
    """Payments of quotes are followed as wallet transactions (core/chain/wallet.py), like every
    transaction a user's wallet sends."""

    dependencies = [
        ("licensing", "0009_manifest_covering_indexes"),
        ("chain", "0004_wallet_transactions"),
    ]

    operations = [
        migrations.RunPython(copy_payments, copy_back),
        migrations.DeleteModel(name="QuotePayment"),
    ]
