"""The partner API's one listener: a timeline event of a partner's transaction becomes a webhook
event row, in the same database transaction as the transition that wrote it.

It is an optional listener (DESIGN.md §3): it writes a row to be delivered later and never moves
money or changes a transaction; without it the transition would be the same. Transactions that no
partner created cost one indexed look-up per timeline event.
"""
from .models import PartnerTransaction


def timeline_event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    bound = PartnerTransaction.objects.filter(escrow_transaction_id=instance.escrow_transaction_id).first()
    if bound is None:
        return
    from .services import webhook_event_record

    webhook_event_record(partner_transaction=bound, timeline_event=instance)
