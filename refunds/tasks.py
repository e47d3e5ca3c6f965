"""Thin periodic tasks over ``refunds.services``; safe to run twice or concurrently (row locks and
status re-checks in the service)."""
from celery import shared_task

from . import services


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def complete_paid_refunds() -> int:
    """Close refund requests whose SendMe payout has completed and tell both parties."""
    return services.refund_complete_paid()


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def alert_overdue_approvals() -> int:
    """Once a day: tell Finance which refunds passed the policy's 2×24 working hours for
    verification and approval (complete documents → decision)."""
    return services.refund_alert_overdue_approvals()


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def refresh_refund_tasks() -> int:
    """Pass stalled steps to a named staff member (no request waits forever): see
    ``refunds.policy.StaffTask``."""
    return services.refund_tasks_refresh_all()
