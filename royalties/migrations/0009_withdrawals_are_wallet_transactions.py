from django.db import migrations


def copy_withdrawals(apps, schema_editor):
    """Every withdrawal a payee's wallet reported becomes a wallet transaction of kind
    "withdrawal", its subject the payee's address; hashes, states, amounts and dates kept."""
    Withdrawal = apps.get_model("royalties", "Withdrawal")
    WalletTransaction = apps.get_model("chain", "WalletTransaction")
    for withdrawal in Withdrawal.objects.order_by("pk").iterator():
        tx, _ = WalletTransaction.objects.get_or_create(
            tx_hash=withdrawal.tx_hash,
            defaults={
                "kind": "withdrawal",
                "subject": withdrawal.address,
                "user_id": withdrawal.user_id,
                "status": withdrawal.status,
                "reason": withdrawal.reason,
                "amount": withdrawal.amount,
                "confirmed_at": withdrawal.confirmed_at,
            },
        )
        WalletTransaction.objects.filter(pk=tx.pk).update(reported_at=withdrawal.created_at)


def copy_back(apps, schema_editor):
    Withdrawal = apps.get_model("royalties", "Withdrawal")
    WalletTransaction = apps.get_model("chain", "WalletTransaction")
    for tx in WalletTransaction.objects.filter(kind="withdrawal", user__isnull=False).order_by("pk"):
        row = Withdrawal.objects.create(
            user_id=tx.user_id,
            address=tx.subject,
            tx_hash=tx.tx_hash,
            status="submitted" if tx.status == "mined" else tx.status,
            amount=tx.amount,
            reason=tx.reason,
            confirmed_at=tx.confirmed_at,
        )
        Withdrawal.objects.filter(pk=row.pk).update(created_at=tx.reported_at)


class Migration(migrations.Migration):
    """Withdrawals are followed as wallet transactions (core/chain/wallet.py), like every
    transaction a user's wallet sends."""

    dependencies = [
        ("royalties", "0008_reconciliation_surplus"),
        ("chain", "0004_wallet_transactions"),
    ]

    operations = [
        migrations.RunPython(copy_withdrawals, copy_back),
        migrations.DeleteModel(name="Withdrawal"),
    ]
