"""Thin tasks that start the escrow's money flows (``escrow.services``): load ids, call a flow."""
from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from faspay import debit
from payments.channels import Method
from payments.models import Bill
from transactions.models import EscrowTransaction, Status
from transactions.tasks import BATCH, each_due

from . import services

POLL_BATCH = 200


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def check_bill(bill_id: int) -> str:
    """Status inquiry after a notification: only the provider's answer verifies a payment."""
    return services.bill_check(bill_id=bill_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def poll_pending_bills() -> int:
    """Ask about the bills due for a check, oldest-due first, in one batch per run: open and paid
    bills, cancelled ones (they may be paid anyway), creations Faspay never answered, and verified
    bills a notification asked about whose inquiry failed (Faspay's news of a reversal)."""
    due = list(
        Bill.objects.filter(
            Q(status__in=[Bill.Status.CREATING, Bill.Status.PENDING, Bill.Status.PAID, Bill.Status.CANCELLED,
                          Bill.Status.VERIFIED])
            & Q(next_check_at__lte=timezone.now())
        ).exclude(method=Method.BANK_TRANSFER).order_by("next_check_at").values_list("pk", flat=True)[:POLL_BATCH]
    )
    client = debit.default_client()  # one session (one TLS connection) for the whole batch
    for pk in due:
        services.bill_check(bill_id=pk, client=client)
    return len(due)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def auto_confirm_due_transactions() -> int:
    """Release the money of transactions whose inspection period ended without a word."""
    ids = EscrowTransaction.objects.filter(
        status=Status.SHIPPED, inspection_ends_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:BATCH]
    return each_due(list(ids), services.escrow_auto_confirm)
