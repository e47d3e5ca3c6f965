"""Thin periodic tasks over ``refunds.services``; safe to run twice or concurrently (row locks and
status re-checks in the service)."""
from celery import shared_task

from . import services


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def complete_paid_refunds() -> int:
    """Close refund requests whose SendMe payout has completed and tell both parties; open again those
    whose transfer the bank gave back since, and tell the buyer."""
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


RETURN_TRACKING_RECHECK_MINUTES = 60
RETURN_TRACKING_BATCH = 200


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def poll_return_tracking() -> int:
    """Ask the tracking source about goods on their way back to the seller — a delivery scan starts
    the seller's inspection clock — or, after an upheld rejection, on their way back to the buyer — a
    delivery scan marks them back with the buyer (``services.return_record_tracking``). The call is
    made outside any database transaction."""
    import datetime as dt
    import logging

    from django.db.models import Q
    from django.utils import timezone

    from transactions.tracking import TrackingUnavailable, default_client

    from .models import ReturnShipment

    since = timezone.now() - dt.timedelta(minutes=RETURN_TRACKING_RECHECK_MINUTES)
    due = list(ReturnShipment.objects.filter(
        Q(status__in=[ReturnShipment.Status.SHIPPED_BACK, ReturnShipment.Status.RESENT])
        & (Q(tracking_checked_at__isnull=True) | Q(tracking_checked_at__lte=since))
    ).order_by("tracking_checked_at").values_list("pk", "status", "courier", "receipt_number", "resend_courier",
                                                  "resend_receipt_number")[:RETURN_TRACKING_BATCH])
    if not due:
        return 0
    client = default_client()
    done = 0
    try:
        for pk, status, *parcels in due:
            # The parcel travelling now: to the seller, or back to the buyer.
            courier, receipt_number = parcels[2:] if status == ReturnShipment.Status.RESENT else parcels[:2]
            try:
                result = client.track(courier=courier, receipt_number=receipt_number)
            except TrackingUnavailable as exc:
                logging.getLogger(__name__).warning("return tracking unavailable for %s: %s", pk, exc)
                continue
            services.return_record_tracking(return_shipment=pk, result=result)
            done += 1
    finally:
        client.close()
    return done
