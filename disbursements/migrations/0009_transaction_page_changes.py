from django.db import migrations

from transactions.page_cache import trigger_sql, triggers_operation


class Migration(migrations.Migration):
    """What the transaction page shows from this app records its changes (transactions.page_cache)."""

    dependencies = [
        ('disbursements', '0008_wait_reversed_payment'),
        ('transactions', '0007_transaction_page_changes'),
    ]

    operations = [
        triggers_operation(
            trigger_sql("payout", table="disbursements_payout", transactions="SELECT r.escrow_transaction_id"),
            trigger_sql("payout_part", table="disbursements_disbursement",
                        transactions="SELECT escrow_transaction_id FROM disbursements_payout WHERE id = r.payout_id"),
        ),
    ]
