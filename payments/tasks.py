"""Thin tasks of collections that start no other app's work: withdraw a bill another payment made
unnecessary; alert finance about money whose amount no source stated. Verifying bills (which may
owe money back, and so open refund requests) is a flow: ``escrow.tasks``."""
from celery import shared_task

from .models import Bill
from .services import bill_withdraw


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
def alert_finance_inquiry_unanswered(bill_id: int) -> None:
    """Email finance: Faspay has not answered INTRASA's status inquiries about a bill for a day
    (``payments.services.bill_inquiry_failed``)."""
    from django.utils import timezone

    from accounts.roles import FINANCE, mail_group
    from intrasa.money import format_rupiah

    bill = Bill.objects.select_related("escrow_transaction").get(pk=bill_id)
    if bill.inquiry_reported_at is None or bill.inquiry_failing_since is None:
        return  # Faspay answered before this alert was sent
    since = timezone.localtime(bill.inquiry_failing_since)
    mail_group(FINANCE, f"Faspay does not answer about bill {bill.bill_no}",
               f"Every status inquiry INTRASA sent Faspay about bill {bill.bill_no} (trx_id "
               f"{bill.provider_trx_id or 'unknown'}) of transaction {bill.escrow_transaction.reference} has failed "
               f"since {since:%Y-%m-%d %H:%M} WIB. The bill is {bill.get_status_display()}, for "
               f"{format_rupiah(bill.amount)}. INTRASA keeps asking every hour and acts as soon as Faspay answers; "
               f"meanwhile read the bill in Faspay's transaction report and ask Faspay why its inquiry fails. "
               f"The admin lists such bills under Bills, filter \"Faspay does not answer\".")


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def alert_finance_reversal_contradicted(bill_id: int, status_code: str) -> None:
    """Email finance: Faspay reported a payment reversed (its money is frozen), then answered another
    status (``payments.services.bill_apply_status``). Only a person can tell which is true."""
    from accounts.roles import FINANCE, mail_group

    bill = Bill.objects.select_related("escrow_transaction").get(pk=bill_id)
    if bill.flag != Bill.Flag.REVERSED or bill.status == Bill.Status.REVERSED:
        return  # lifted or booked before this alert was sent
    mail_group(FINANCE, f"Faspay contradicts the reversal of bill {bill.bill_no}",
               f"Faspay reported the payment of bill {bill.bill_no} (trx_id {bill.provider_trx_id or 'unknown'}) of "
               f"transaction {bill.escrow_transaction.reference} reversed, and its money is frozen. Faspay's status "
               f"inquiry now answers payment_status_code {status_code}. Read the bill in Faspay's transaction "
               f"report: if the buyer has the money back, book the reversal; if Faspay still holds it, lift the "
               f"freeze (admin: Bills, filter \"Reversed by Faspay, not booked yet\").")
