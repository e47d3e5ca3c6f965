from django.db import migrations

from transactions.page_cache import trigger_sql, triggers_replaced, unchanged_but


class Migration(migrations.Migration):
    """When the courier's tracking was last asked is not on the transaction page: the periodic tracking check
    no longer drops the kept page or adds a page-change row each time."""

    dependencies = [
        ('transactions', '0007_transaction_page_changes'),
    ]

    operations = [
        triggers_replaced(
            (trigger_sql("transaction", table="transactions_escrowtransaction", transactions="SELECT r.id",
                         changed=unchanged_but("tracking_checked_at")),
             trigger_sql("transaction", table="transactions_escrowtransaction", transactions="SELECT r.id")),
        ),
    ]
