"""The partner API's one listener: a timeline event of a partner's transaction becomes a webhook
event row, in the same database transaction as the transition that wrote it.

It is an optional listener (DESIGN.md §3): it writes a row to be delivered later and never moves
money or changes a transaction; without it the transition would be the same. Whether the
transaction is a partner's is known without a query when the event's transaction came from
``intrasa.locks.lock_transaction`` (which joins the binding), or when the event is the creation
itself (a partner binds a transaction after ``transaction_create`` returns, and
``partners.services.partner_transaction_create`` then records the events written so far);
otherwise it costs one indexed look-up per timeline event.
"""
from transactions.models import EscrowTransaction

from .models import PartnerTransaction

_binding = EscrowTransaction.partner_transaction.related  # type: ignore[attr-defined]


def timeline_event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    if instance.action == "created":
        return
    txn = instance._state.fields_cache.get("escrow_transaction")
    if txn is not None and _binding.is_cached(txn):
        bound = _binding.get_cached_value(txn)
    else:
        bound = PartnerTransaction.objects.filter(escrow_transaction_id=instance.escrow_transaction_id).first()
    if bound is None:
        return
    from .services import webhook_event_record

    webhook_event_record(partner_transaction=bound, timeline_event=instance)
