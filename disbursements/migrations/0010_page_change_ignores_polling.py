from django.db import migrations

from transactions.page_cache import trigger_sql, triggers_replaced, unchanged_but

PART_TRANSACTION = "SELECT escrow_transaction_id FROM disbursements_payout WHERE id = r.payout_id"


class Migration(migrations.Migration):
    """A payout part's poll schedule (next attempt, attempt count) is not on the transaction page: a pending
    part polled every few minutes no longer drops the kept page or adds a page-change row each time."""

    dependencies = [
        ('disbursements', '0009_transaction_page_changes'),
    ]

    operations = [
        triggers_replaced(
            (trigger_sql("payout_part", table="disbursements_disbursement", transactions=PART_TRANSACTION,
                         changed=unchanged_but("next_attempt_at", "attempts")),
             trigger_sql("payout_part", table="disbursements_disbursement", transactions=PART_TRANSACTION)),
        ),
    ]
