"""Periodic jobs over due transactions. Thin: find due ids, call a service per id. (Auto-confirmation
releases money and plans the payout: it is a flow, ``escrow.tasks``.)

Each service re-checks under a row lock, so a job that runs twice or alongside a person's action
changes each transaction at most once.
"""
import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import EscrowTransaction, Status

logger = logging.getLogger(__name__)
BATCH = 500


def each_due(ids, service, **kwargs) -> int:
    """Call ``service`` for each id; a refusal means someone acted first (logged, not raised)."""
    done = 0
    for pk in ids:
        try:
            if service(escrow_transaction=pk, **kwargs):
                done += 1
        except services.TransactionActionError as exc:  # someone acted first: nothing to do
            logger.info("skipped %s for %s: %s", service.__name__, pk, exc.code)
    return done


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def expire_unpaid_transactions() -> int:
    now = timezone.now()
    ids = EscrowTransaction.objects.filter(
        Q(status=Status.CREATED)
        & (Q(accepted_at__isnull=True, invitation_expires_at__lte=now) | Q(payment_due_at__lte=now))
    ).values_list("pk", flat=True)[:BATCH]
    return each_due(list(ids), services.transaction_expire)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_due_reminders() -> int:
    soon = timezone.now() + dt.timedelta(hours=settings.INTRASA_AUTO_CONFIRM_REMINDER_HOURS)
    confirm_ids = EscrowTransaction.objects.filter(
        status=Status.SHIPPED, inspection_ends_at__lte=soon, confirm_reminder_sent_at__isnull=True
    ).values_list("pk", flat=True)[:BATCH]
    shipping_ids = EscrowTransaction.objects.filter(
        Q(status=Status.VERIFIED, shipping_deadline__lte=soon)
        & (Q(shipping_reminder_sent_at__isnull=True) | Q(shipping_deadline__lte=timezone.now()))
    ).values_list("pk", flat=True)[:BATCH]
    return (each_due(list(confirm_ids), services.transaction_remind_confirmation)
            + each_due(list(shipping_ids), services.transaction_remind_shipping))


TRACKING_RECHECK = dt.timedelta(hours=1)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def poll_courier_tracking() -> int:
    """Ask the tracking source about shipped goods whose delivery is not known yet (the call is made
    outside any database transaction; ``transaction_record_tracking`` records the answer)."""
    from .tracking import TrackingUnavailable, default_client

    now = timezone.now()
    due = list(EscrowTransaction.objects.filter(
        Q(status=Status.SHIPPED) & ~Q(courier="") & ~Q(tracking_number="")
        & Q(delivery_source__in=["", "estimate"])
        & (Q(tracking_checked_at__isnull=True) | Q(tracking_checked_at__lte=now - TRACKING_RECHECK))
    ).order_by("tracking_checked_at").values_list("pk", "courier", "tracking_number")[:BATCH])
    client = default_client()
    done = 0
    try:
        for pk, courier, receipt_number in due:
            try:
                result = client.track(courier=courier, receipt_number=receipt_number)
            except TrackingUnavailable as exc:
                logger.warning("tracking unavailable for %s: %s", pk, exc)
                continue
            services.transaction_record_tracking(escrow_transaction=pk, result=result)
            done += 1
    finally:
        client.close()
    return done
