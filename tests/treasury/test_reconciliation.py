"""Reconciliation against the Faspay Debit and SendMe sandboxes over real HTTP (live_server):
planted mismatches are found, recorded with evidence, and no money moves."""
import pytest
from django.core.management import call_command
from django.utils import timezone

from disbursements.models import Disbursement
from intrasa.wib import now_wib
from ledger.models import JournalEntry
from payments import services as payment_services
from payments.models import Bill
from tests import scenarios
from tests.disbursements.conftest import sendme, verified_bank  # noqa: F401  (fixture)
from tests.payments.conftest import faspay  # noqa: F401  (fixture)
from transactions.models import Status
from treasury.models import ReconciliationItem
from treasury.reconciliation import reconcile_day

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def providers(faspay, sendme):  # noqa: F811
    return faspay, sendme


def test_a_bill_paid_locally_but_unpaid_at_faspay_is_reported(providers, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="702")
    honest = scenarios.advance(scenarios.create(seller, buyer, title="Lain"), buyer, Status.CREATED)
    paid = payment_services.payment_start(escrow_transaction=honest, buyer=buyer, channel_code="801")
    providers[0]("bill_pay", trx_id=paid.provider_trx_id)  # really paid: must not be reported
    # Planted: INTRASA believes the bill is paid (e.g. a forged notification); Faspay says unpaid.
    Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.PAID, paid_at=timezone.now(), paid_amount=bill.amount)
    entries = JournalEntry.objects.count()

    report = reconcile_day(day=now_wib().date())

    assert report.bills_checked == 2
    item = ReconciliationItem.objects.get(source="faspay_debit")
    assert (item.code, item.reference, item.local_status, item.provider_status) == (
        "paid_locally_only", bill.bill_no, "paid", "0")
    assert item.evidence["local"]["bill_no"] == bill.bill_no
    assert item.evidence["provider"]["payment_status_code"] == "0"
    assert item.object_type == "payments.Bill" and item.object_id == str(bill.pk)
    # Nothing moved: same books, same statuses.
    assert JournalEntry.objects.count() == entries
    bill.refresh_from_db()
    txn.refresh_from_db()
    assert bill.status == Bill.Status.PAID and txn.status == Status.CREATED


def test_a_disbursement_succeeded_locally_but_failed_at_sendme_is_reported(providers, seller, buyer):
    verified_bank(seller, number="6060606060")  # the SendMe sandbox accepts, then fails (06) and refunds
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    part = Disbursement.objects.get(payout__escrow_transaction=txn)
    assert part.status == Disbursement.Status.FAILED
    # Planted: INTRASA believes it was paid.
    Disbursement.objects.filter(pk=part.pk).update(status=Disbursement.Status.SUCCEEDED)
    entries = JournalEntry.objects.count()

    call_command("reconcile", "--date", now_wib().date().isoformat())

    by_source = {item.source: item for item in ReconciliationItem.objects.filter(reference=part.partner_reference_no)}
    status_item = by_source["sendme_status"]
    assert status_item.code == "succeeded_locally_failed_at_provider"
    assert status_item.provider_status == "06" and status_item.evidence["provider"]["body"]["latestTransactionStatus"] == "06"
    history_item = by_source["sendme_history"]
    assert history_item.code == "refunded_in_history" and history_item.evidence["credited"] == part.amount
    assert JournalEntry.objects.count() == entries
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED  # the job never corrects by itself


def test_agreeing_records_give_no_items_and_reruns_do_not_duplicate(providers, seller, buyer):
    verified_bank(seller)
    scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    assert Disbursement.objects.get().status == Disbursement.Status.SUCCEEDED
    day = now_wib().date()
    assert reconcile_day(day=day).differences == 0
    Disbursement.objects.update(amount=1)  # planted: a different amount than the debit
    first = reconcile_day(day=day).differences
    second = reconcile_day(day=day).differences
    assert first == second == ReconciliationItem.objects.count() == 1
    assert ReconciliationItem.objects.get().code == "debit_amount_differs"


def test_unreachable_sendme_is_an_item_not_a_crash(providers, seller, buyer, settings):
    verified_bank(seller)
    scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    settings.SENDME_BASE_URL = "http://127.0.0.1:9/unreachable"
    report = reconcile_day(day=now_wib().date())
    assert {item.code for item in report.items} == {"status_unavailable", "history_unavailable"}
