"""Thin periodic tasks over ``disputes.services``; safe to run twice or concurrently (each dispute
is locked and its status re-checked before it is escalated)."""
from celery import shared_task

from . import services


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def escalate_overdue_disputes() -> int:
    """Hand disputes to staff when a settlement offer or the seller's first reply is overdue."""
    return services.dispute_escalate_overdue()
