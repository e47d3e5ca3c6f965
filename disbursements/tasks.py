"""Thin tasks over ``disbursements.services``. Every one is safe to run twice or concurrently:
the services lock the part (``skip_locked``) and re-check its status before doing anything."""
from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from faspay.sendme import default_client

from . import services
from .models import Disbursement

BATCH = 100


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def dispatch_disbursement(disbursement_id: int) -> str:
    return services.disbursement_dispatch(disbursement_id=disbursement_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def dispatch_due_disbursements() -> int:
    """Queued parts whose time has come (next WIB day, 05.00 after the night hold), the oldest
    promise first: the day's quota goes to the payout due soonest (a refund by its own timeline)."""
    services.seller_payouts_take_ready_accounts()
    now = timezone.now()
    ids = list(Disbursement.objects.filter(status=Disbursement.Status.QUEUED)
               .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
               .order_by(*services.QUEUE_ORDER).values_list("pk", flat=True)[:BATCH])
    # One session (one TLS connection) for the whole batch; parts reserved and recorded in chunks.
    return services.disbursements_dispatch_due(ids=ids, client=default_client())


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def resolve_due_disbursements() -> int:
    """Parts whose outcome is open and due for a look: resend (same reference) or inquire."""
    ids = list(Disbursement.objects.filter(
        status__in=[Disbursement.Status.RETRYING, Disbursement.Status.UNKNOWN, Disbursement.Status.PENDING,
                    Disbursement.Status.SENDING],
        next_attempt_at__lte=timezone.now()).order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])
    return services.disbursements_resolve_due(ids=ids, client=default_client())


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def forecast_payout_promises() -> int:
    """The morning forecast: which payouts today's Daily Nominal Total cannot carry; Finance is
    alerted while there is time to ask Faspay for a higher limit or pay another way."""
    return services.payout_forecast_alert()


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def recount_payout_promises() -> int:
    """Open payouts' promises counted again on the working-day calendar of now (staff may have declared
    a day off, or a working day, since they were counted): enqueued when a calendar change commits,
    and run by beat every 15 minutes for a change whose task the broker could not take."""
    return services.payout_promises_recount_all()


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def inquire_disbursement(disbursement_id: int) -> str:
    return services.disbursement_inquire(disbursement_id=disbursement_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def verify_destination(destination_id: int, payout_id: int | None = None) -> str:
    return services.destination_verify(destination_id=destination_id)
