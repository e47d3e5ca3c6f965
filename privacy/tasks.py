"""Thin Celery tasks: load ids, call a service. Each is safe to run twice or concurrently."""
import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import purge, services
from .models import ErasureRecord

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def build_personal_data_export(export_id: int) -> None:
    services.export_build(export_id=export_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True,
             soft_time_limit=settings.CELERY_EMAIL_TASK_SOFT_TIME_LIMIT,
             time_limit=settings.CELERY_EMAIL_TASK_TIME_LIMIT)
def send_erasure_confirmation(erasure_id: int) -> None:
    services.erasure_confirmation_send(erasure_id=erasure_id)


# How many due confirmations one run of the sweep tries, lowest id first.
SWEEP_BATCH = 200


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_pending_erasure_confirmations() -> int:
    """Safety net for confirmations whose task was lost (broker down, worker killed). Those waiting
    for their next try after a failure, or given up, are not taken: they cannot fill the batch."""
    now = timezone.now()
    cutoff = now - dt.timedelta(minutes=2)
    ids = list(ErasureRecord.objects.filter(services.erasure_confirmation_claimable(now),
                                            confirmation_sent_at__isnull=True, erased_at__lte=cutoff)
               .exclude(confirmation_email="").order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    sent = 0
    for pk in ids:
        try:
            sent += services.erasure_confirmation_send(erasure_id=pk)
        except Exception:  # noqa: BLE001 - one failing address or the mail server down: tried again after a backoff
            logger.exception("could not send erasure confirmation %s; retried after a backoff, or given up", pk)
    return sent


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def apply_retention() -> dict:
    """Nightly: delete or anonymise what is past its period (privacy.retention)."""
    return purge.retention_apply().removed
