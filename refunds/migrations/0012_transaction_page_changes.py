from django.db import migrations

from transactions.page_cache import trigger_sql, triggers_operation


class Migration(migrations.Migration):
    """What the transaction page shows from this app records its changes (transactions.page_cache)."""

    dependencies = [
        ('refunds', '0011_refund_returned_by_provider'),
        ('transactions', '0007_transaction_page_changes'),
    ]

    operations = [
        triggers_operation(
            trigger_sql("refund_request", table="refunds_refundrequest", transactions="SELECT r.escrow_transaction_id"),
            trigger_sql("return_shipment", table="refunds_returnshipment",
                        transactions="SELECT escrow_transaction_id FROM refunds_refundrequest "
                                     "WHERE id = r.refund_request_id"),
        ),
    ]
