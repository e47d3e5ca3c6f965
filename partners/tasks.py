"""Thin tasks of the partner API: deliver one webhook event; scan for due deliveries (beat).

Retries are rows, not countdowns (DESIGN.md §3): a failed attempt writes ``next_attempt_at`` and
the beat scan finds it when it is due, for days if need be.
"""
from celery import shared_task
from django.conf import settings

from . import selectors, services


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def deliver_webhook(event_id: int) -> str:
    return services.webhook_deliver(event_id=event_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def deliver_due_webhooks() -> int:
    """Enqueue each due event that is first in line for its transaction."""
    due = selectors.due_webhook_event_ids(limit=settings.PARTNER_WEBHOOK_SCAN_BATCH)
    for event_id in due:
        deliver_webhook.delay(event_id)
    return len(due)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def prune_records() -> dict:
    return services.partner_records_prune()
