"""Thin tasks: verify one bill; poll the bills that are due for a look."""
from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from . import faspay
from .channels import Method
from .models import Bill
from .services import bill_check

POLL_BATCH = 200


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def check_bill(bill_id: int) -> str:
    """Status inquiry after a notification: only the provider's answer verifies a payment."""
    return bill_check(bill_id=bill_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def poll_pending_bills() -> int:
    """Ask about the bills due for a check, oldest-due first, in one batch per run."""
    due = list(
        Bill.objects.filter(
            Q(status__in=[Bill.Status.PENDING, Bill.Status.PAID, Bill.Status.CANCELLED])
            & Q(next_check_at__lte=timezone.now())
        ).exclude(method=Method.BANK_TRANSFER).order_by("next_check_at").values_list("pk", flat=True)[:POLL_BATCH]
    )
    client = faspay.default_client()  # one session (one TLS connection) for the whole batch
    for pk in due:
        bill_check(bill_id=pk, client=client)
    return len(due)
