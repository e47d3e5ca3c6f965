"""The reconciliation catches the whole class "what Faspay collected differs from what the ledger
holds or owes back". Each of the three collection bugs is planted exactly as the old code left the
books (the "before" tests) and must be reported; the same scenario played through today's code
(the "after" tests) must leave nothing to report.
"""
import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from escrow import services as escrow_services
from intrasa.wib import now_wib
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from payments import services as payment_services
from payments.models import Bill, ProviderNotification
from sandbox.models import Bill as SandboxBill
from tests import scenarios
from tests.disbursements.conftest import sendme  # noqa: F401  (fixture)
from tests.payments.conftest import faspay  # noqa: F401  (fixture)
from tests.payments.notifications import notification_payload
from transactions.models import EscrowTransaction, Status
from treasury.reconciliation import reconcile_day

pytestmark = pytest.mark.django_db(transaction=True)
CLEARING = AccountCategory.PROVIDER_CLEARING


def accepted_txn(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)


def plant_bill(txn, number, *, status, paid=None, flag="", source="", trx_id=True, sandbox_paid=None,
               notify=False):
    """A bill (and its twin at the sandbox) in the state the old code left it."""
    bill_no = f"{txn.reference.replace('-', '')}{number:03d}"
    provider_trx = f"702{number:013d}{txn.pk % 1000:03d}"[:16]
    now = timezone.now()
    bill = Bill.objects.create(
        escrow_transaction=txn, method="va", channel_code="702", bill_no=bill_no,
        provider_trx_id=provider_trx if trx_id else "", pay_code=provider_trx if trx_id else "",
        amount=txn.amount_due, expires_at=now + dt.timedelta(hours=24), status=status, flag=flag,
        paid_amount=paid, amount_source=source, paid_at=now if paid is not None else None,
        verified_at=now if status == Bill.Status.VERIFIED else None, creation_attempts=1)
    if sandbox_paid is not None:
        SandboxBill.objects.create(
            trx_id=provider_trx, merchant_id=settings.FASPAY_MERCHANT_ID, bill_no=bill_no, bill_total=txn.amount_due,
            payment_channel="702", channel_kind="va", pay_code=provider_trx, bill_expired=now + dt.timedelta(hours=24),
            status_code="2", payment_total=sandbox_paid, payment_date=now, payment_reff="123456")
    if notify:
        payload = notification_payload(settings, bill, paid_amount=sandbox_paid, trx_id=provider_trx)
        ProviderNotification.objects.create(trx_id=provider_trx, bill_no=bill_no, status_code="2", payload=payload,
                                            bill=bill)
    return bill


def book(txn, bill, kind, amount, *, held=False):
    """The ledger entry the old code posted for ``bill``."""
    with transaction.atomic():
        target = AccountCategory.ESCROW_HOLD if held else AccountCategory.BUYER_REFUND_PAYABLE
        entry_post(idempotency_key=f"planted:{bill.pk}:{kind}", kind=kind, memo="planted", escrow_transaction=txn,
                   lines=[debit(CLEARING, amount), credit(target, amount)])


def codes(report):
    return {item.code for item in report.items}


def ledger_check_rules():
    from ledger.checks import ledger_breaches

    return {breach.rule for breach in ledger_breaches()}


# --- before the fix: the planted books are reported ---------------------------------------------

def test_before_a_full_payment_after_a_short_one_left_the_transaction_stuck(faspay, seller, buyer):
    txn = accepted_txn(seller, buyer)
    short = plant_bill(txn, 1, status=Bill.Status.VERIFIED, paid=txn.amount_due - 500_000, flag="short",
                       source="notification", sandbox_paid=txn.amount_due - 500_000, notify=True)
    full = plant_bill(txn, 2, status=Bill.Status.VERIFIED, paid=txn.amount_due, flag="double",
                      source="notification", sandbox_paid=txn.amount_due, notify=True)
    book(txn, short, EntryKind.PAYMENT_UNMATCHED, short.paid_amount)
    book(txn, full, EntryKind.PAYMENT_UNMATCHED, full.paid_amount)
    EscrowTransaction.objects.filter(pk=txn.pk).update(status=Status.PAID)  # where it stayed for ever

    assert "paid-transaction-stuck" in codes(reconcile_day(day=now_wib().date()))
    assert "paid-transaction-stuck" in ledger_check_rules()
    with pytest.raises(CommandError):
        call_command("ledger_check")


def test_before_a_ghost_bills_payment_never_reached_the_ledger(faspay, seller, buyer):
    txn = accepted_txn(seller, buyer)
    ghost = plant_bill(txn, 1, status=Bill.Status.PAID, paid=txn.amount_due, trx_id=False,
                       sandbox_paid=txn.amount_due, notify=True)  # "failed", then its notification
    replacement = plant_bill(txn, 2, status=Bill.Status.VERIFIED, paid=txn.amount_due, source="notification",
                             sandbox_paid=txn.amount_due, notify=True)
    book(txn, replacement, EntryKind.PAYMENT_VERIFIED, txn.amount_due, held=True)
    EscrowTransaction.objects.filter(pk=txn.pk).update(status=Status.VERIFIED, amount_received=txn.amount_due,
                                                       verified_at=timezone.now())
    Bill.objects.filter(pk=ghost.pk).update(paid_at=timezone.now() - dt.timedelta(days=2))

    report = reconcile_day(day=now_wib().date())

    ghost_items = {item.code for item in report.items if item.reference == ghost.bill_no}
    assert ghost_items & {"trx_id_not_recorded", "amount_unconfirmed"}
    assert "paid-bill-unsettled" in codes(report) and "paid-bill-unsettled" in ledger_check_rules()


def test_before_a_short_payment_was_held_as_a_full_one(faspay, seller, buyer):
    txn = accepted_txn(seller, buyer)
    assumed = plant_bill(txn, 1, status=Bill.Status.VERIFIED, paid=txn.amount_due, source="",
                         sandbox_paid=1_000_000)  # the notification was lost; the bill amount assumed
    book(txn, assumed, EntryKind.PAYMENT_VERIFIED, txn.amount_due, held=True)
    EscrowTransaction.objects.filter(pk=txn.pk).update(status=Status.VERIFIED, amount_received=txn.amount_due,
                                                       verified_at=timezone.now())

    report = reconcile_day(day=now_wib().date())

    item = next(item for item in report.items if item.reference == assumed.bill_no)
    assert item.code == "amount_assumed"
    assert item.evidence["local"]["paid_amount"] == txn.amount_due
    assert "escrow-on-stated-amount" in codes(report) and "escrow-on-stated-amount" in ledger_check_rules()


def test_an_amount_booked_that_faspay_never_collected_is_reported_with_both_sides(faspay, seller, buyer):
    txn = accepted_txn(seller, buyer)
    bill = plant_bill(txn, 1, status=Bill.Status.VERIFIED, paid=txn.amount_due, source="notification",
                      sandbox_paid=txn.amount_due - 1, notify=True)
    book(txn, bill, EntryKind.PAYMENT_VERIFIED, txn.amount_due, held=True)
    EscrowTransaction.objects.filter(pk=txn.pk).update(status=Status.VERIFIED, amount_received=txn.amount_due,
                                                       verified_at=timezone.now())

    report = reconcile_day(day=now_wib().date())

    differs = next(item for item in report.items if item.code == "ledger_differs")
    assert differs.evidence == {"provider_collected": txn.amount_due - 1, "ledger_booked_in": txn.amount_due,
                                "bills": [bill.bill_no]}
    assert next(item for item in report.items if item.reference == bill.bill_no).code == "amount_differs"


# --- after the fix: the same scenarios leave nothing to report -------------------------------------

def start(txn, buyer, channel):
    return payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code=channel)


def test_after_the_fix_the_three_scenarios_reconcile_clean(faspay, sendme, live_server, seller, buyer,  # noqa: F811
                                                           finance_officer):
    from django.test import override_settings

    settings_timeout = 1

    # 1. a full payment after a short one
    first = accepted_txn(seller, buyer)
    short = start(first, buyer, "702")
    faspay("bill_pay_wrong_amount", trx_id=short.provider_trx_id, amount=short.amount - 500_000)
    full = start(first, buyer, "800")
    faspay("bill_pay", trx_id=full.provider_trx_id)

    # 2. a ghost bill paid alongside its replacement
    second = accepted_txn(seller, buyer)
    with override_settings(FASPAY_HTTP_TIMEOUT_SECONDS=settings_timeout):
        faspay("fault", kind="timeout", scope="debit.post", count=2, seconds=3, after_processing=True)
        with pytest.raises(payment_services.PaymentError):
            start(second, buyer, "702")
        ghost = Bill.objects.get(escrow_transaction=second)
        replacement = start(second, buyer, "800")
    ghost_trx = next(b["trx_id"] for b in faspay.state()["bills"] if b["bill_no"] == ghost.bill_no)
    faspay("bill_pay", trx_id=replacement.provider_trx_id)
    faspay("bill_pay", trx_id=ghost_trx)

    # 3. a short payment whose notification was lost, recorded by finance from Faspay's report
    third = accepted_txn(seller, buyer)
    lost = start(third, buyer, "702")
    faspay("bill_notification_url", trx_id=lost.provider_trx_id, url=f"{live_server.url}/nowhere/")
    faspay("bill_pay_wrong_amount", trx_id=lost.provider_trx_id, amount=1_000_000)
    Bill.objects.filter(pk=lost.pk).update(next_check_at=timezone.now())
    from escrow.tasks import poll_pending_bills

    poll_pending_bills()
    escrow_services.bill_record_provider_amount(bill_id=lost.pk, amount=1_000_000, actor=finance_officer,
                                                 reason="Faspay transaction report")

    report = reconcile_day(day=now_wib().date())
    assert report.bills_checked == 5
    assert [(item.code, item.reference) for item in report.items] == []
    call_command("ledger_check")
