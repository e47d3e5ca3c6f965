from django.db import migrations

from transactions.page_cache import trigger_sql, triggers_operation


class Migration(migrations.Migration):
    """What the transaction page shows from this app records its changes (transactions.page_cache)."""

    dependencies = [
        ('disputes', '0006_provider_reversal_booked'),
        ('transactions', '0007_transaction_page_changes'),
    ]

    operations = [
        triggers_operation(
            trigger_sql("dispute", table="disputes_dispute", transactions="SELECT r.escrow_transaction_id"),
        ),
    ]
