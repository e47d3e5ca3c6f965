"""Thin Celery tasks: load ids, call a service. Each is safe to run twice or concurrently."""
import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import purge, services
from .models import ErasureRecord


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def build_personal_data_export(export_id: int) -> None:
    services.export_build(export_id=export_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_erasure_confirmation(erasure_id: int) -> None:
    services.erasure_confirmation_send(erasure_id=erasure_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def send_pending_erasure_confirmations() -> int:
    """Safety net for confirmations whose task was lost (broker down, worker killed)."""
    cutoff = timezone.now() - dt.timedelta(minutes=2)
    ids = list(ErasureRecord.objects.filter(confirmation_sent_at__isnull=True, erased_at__lte=cutoff)
               .exclude(confirmation_email="").values_list("pk", flat=True)[:200])
    return sum(services.erasure_confirmation_send(erasure_id=pk) for pk in ids)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def apply_retention() -> dict:
    """Nightly: delete or anonymise what is past its period (privacy.retention)."""
    return purge.retention_apply().removed
