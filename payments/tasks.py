"""Thin tasks: verify one bill; poll the bills that are due for a look; withdraw a bill; alert
finance about money whose amount no source stated."""
from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from . import faspay
from .channels import Method
from .models import Bill
from .services import bill_check, bill_withdraw

POLL_BATCH = 200


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def check_bill(bill_id: int) -> str:
    """Status inquiry after a notification: only the provider's answer verifies a payment."""
    return bill_check(bill_id=bill_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def withdraw_bill(bill_id: int) -> None:
    """Cancel at Faspay a bill that another payment made unnecessary."""
    bill_withdraw(bill_id=bill_id)


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def alert_finance_unconfirmed_payment(bill_id: int) -> None:
    """Email finance: a paid bill waits for its amount to be read from Faspay's report."""
    from accounts.roles import FINANCE, mail_group
    from intrasa.money import format_rupiah

    bill = Bill.objects.select_related("escrow_transaction").get(pk=bill_id)
    mail_group(FINANCE, f"Payment without a stated amount: {bill.bill_no}",
               f"Faspay says bill {bill.bill_no} (trx_id {bill.provider_trx_id or 'unknown'}) of transaction "
               f"{bill.escrow_transaction.reference} was paid, but no notification stated the amount. The bill "
               f"asked for {format_rupiah(bill.amount)}. Read the amount in Faspay's transaction report and "
               f"record it on the bill in the admin; nothing is released until then.")


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def poll_pending_bills() -> int:
    """Ask about the bills due for a check, oldest-due first, in one batch per run: open and paid
    bills, cancelled ones (they may be paid anyway) and creations Faspay never answered."""
    due = list(
        Bill.objects.filter(
            Q(status__in=[Bill.Status.CREATING, Bill.Status.PENDING, Bill.Status.PAID, Bill.Status.CANCELLED])
            & Q(next_check_at__lte=timezone.now())
        ).exclude(method=Method.BANK_TRANSFER).order_by("next_check_at").values_list("pk", flat=True)[:POLL_BATCH]
    )
    client = faspay.default_client()  # one session (one TLS connection) for the whole batch
    for pk in due:
        bill_check(bill_id=pk, client=client)
    return len(due)
