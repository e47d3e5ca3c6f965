"""The collection paths where the provider's money and the ledger used to disagree (issue: "every
payment the provider took is in the ledger at its true amount"), end to end over real HTTP against
the sandbox. Each scenario ends with what Faspay collected equal to what the ledger holds or owes
back for the transaction, and the transaction in a state that can move on.
"""
import pytest
from django.core.management import call_command

from escrow import services as escrow_services
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from payments import services
from payments.models import Bill
from transactions.models import Status

from .steps import pay_with_lost_notification, poll_now, refresh, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


def provider_collected(faspay, txn) -> int:
    """What the sandbox says it collected for the transaction's bills (status 2 = paid)."""
    prefix = txn.reference.replace("-", "")
    return sum(b["payment_total"] or 0 for b in faspay.state()["bills"]
               if b["bill_no"].startswith(prefix) and b["status"] == "2")


def ledger_holds_or_owes(txn) -> int:
    balances = transaction_balances(escrow_transaction=txn)
    return balances.get(AccountCategory.ESCROW_HOLD, 0) + balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0)


def sandbox_bill(faspay, bill_no):
    return next(b for b in faspay.state()["bills"] if b["bill_no"] == bill_no)


# --- 1. a full payment after a short one ---------------------------------------------------------

def test_a_full_payment_after_a_short_one_is_held_and_the_transaction_moves_on(faspay, accepted, buyer):
    short = start(accepted, buyer, "702")
    faspay("bill_pay_wrong_amount", trx_id=short.provider_trx_id, amount=short.amount - 500_000)
    refresh(short, accepted)
    assert short.flag == Bill.Flag.SHORT and accepted.status == Status.CREATED

    full = start(accepted, buyer, "800")
    faspay("bill_pay", trx_id=full.provider_trx_id)
    refresh(full, accepted)
    assert full.status == Bill.Status.VERIFIED and full.flag == ""
    assert accepted.status == Status.VERIFIED
    balances = transaction_balances(escrow_transaction=accepted)
    assert balances[AccountCategory.ESCROW_HOLD] == accepted.amount_due
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == short.amount - 500_000
    assert provider_collected(faspay, accepted) == ledger_holds_or_owes(accepted)


def test_a_second_payment_after_the_escrow_is_funded_is_still_a_double_payment(faspay, accepted, buyer):
    first = start(accepted, buyer, "702")
    # Both cancellations fail: on switching method, and once the excess payment funded the escrow.
    faspay("fault", kind="http_500", scope="debit.cancel", count=2)
    second = start(accepted, buyer, "800")
    faspay("bill_pay_wrong_amount", trx_id=first.provider_trx_id, amount=first.amount + 1_000)  # excess
    faspay("bill_pay", trx_id=second.provider_trx_id)
    refresh(first, second, accepted)
    assert first.flag == Bill.Flag.EXCESS and second.flag == Bill.Flag.DOUBLE
    assert accepted.status == Status.VERIFIED
    assert provider_collected(faspay, accepted) == ledger_holds_or_owes(accepted)


# --- 2. a bill the provider created after INTRASA's call timed out --------------------------------

def test_a_timed_out_creation_is_retried_with_the_same_bill_number(faspay, accepted, buyer, settings):
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 1
    faspay("fault", kind="timeout", scope="debit.post", count=1, seconds=3, after_processing=True)
    with pytest.raises(services.PaymentError):
        start(accepted, buyer, "702")
    bill = Bill.objects.get()
    assert bill.status == Bill.Status.CREATING  # not "failed": Faspay may well have created it
    assert sandbox_bill(faspay, bill.bill_no)["status"] == "0"
    again = start(accepted, buyer, "702")  # the buyer tries again: the same bill, now known
    assert again.pk == bill.pk and again.status == Bill.Status.PENDING
    assert again.provider_trx_id == sandbox_bill(faspay, bill.bill_no)["trx_id"]
    assert Bill.objects.count() == 1


def test_the_poller_learns_what_happened_to_an_unanswered_creation(faspay, accepted, buyer, settings):
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 1
    faspay("fault", kind="timeout", scope="debit.post", count=1, seconds=3, after_processing=True)
    with pytest.raises(services.PaymentError):
        start(accepted, buyer, "702")
    bill = Bill.objects.get()
    poll_now()
    refresh(bill)
    assert bill.status == Bill.Status.PENDING
    assert bill.provider_trx_id == sandbox_bill(faspay, bill.bill_no)["trx_id"]


def test_a_ghost_bill_paid_alongside_its_replacement_is_owed_back(faspay, accepted, buyer, settings):
    """The issue's scenario: the creation timed out, the provider created the bill anyway, the
    buyer paid it and the replacement bill too. Faspay collected twice; the ledger holds one
    payment and owes the other back."""
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 1
    faspay("fault", kind="timeout", scope="debit.post", count=2, seconds=3, after_processing=True)
    with pytest.raises(services.PaymentError):
        start(accepted, buyer, "702")
    ghost = Bill.objects.get()
    ghost_trx = sandbox_bill(faspay, ghost.bill_no)["trx_id"]
    replacement = start(accepted, buyer, "800")  # the ghost's re-creation times out again
    refresh(ghost)
    assert ghost.status == Bill.Status.CANCELLED and not ghost.provider_trx_id
    faspay("bill_pay", trx_id=replacement.provider_trx_id)
    faspay("bill_pay", trx_id=ghost_trx)  # its notification names a bill we never got a trx_id for
    refresh(ghost, replacement, accepted)
    assert accepted.status == Status.VERIFIED
    assert ghost.provider_trx_id == ghost_trx
    assert ghost.status == Bill.Status.VERIFIED and ghost.flag == Bill.Flag.DOUBLE
    assert provider_collected(faspay, accepted) == 2 * accepted.amount_due
    assert provider_collected(faspay, accepted) == ledger_holds_or_owes(accepted)


def test_an_abandoned_creation_is_cancelled_at_the_provider_once_known(faspay, accepted, buyer, settings):
    settings.FASPAY_HTTP_TIMEOUT_SECONDS = 1
    faspay("fault", kind="timeout", scope="debit.post", count=2, seconds=3, after_processing=True)
    with pytest.raises(services.PaymentError):
        start(accepted, buyer, "702")
    ghost = Bill.objects.get()
    start(accepted, buyer, "800")
    poll_now()  # the poller re-posts the abandoned bill (same bill_no), learns it, cancels it
    refresh(ghost)
    assert ghost.provider_trx_id
    assert sandbox_bill(faspay, ghost.bill_no)["status"] == "8"


# --- 3. the amount of a payment comes from a source that states it ---------------------------------

@pytest.mark.parametrize("difference", [-500_000, +10_000])
def test_a_wrong_amount_whose_notification_was_lost_is_never_assumed(faspay, live_server, accepted, buyer,
                                                                    difference):
    bill = start(accepted, buyer, "702")
    pay_with_lost_notification(faspay, live_server, bill, bill.amount + difference)  # no amount stated
    refresh(bill, accepted)
    assert bill.status == Bill.Status.PAID and bill.paid_amount is None
    assert accepted.status == Status.PAID  # money arrived; nothing is released on an assumed amount
    assert transaction_balances(escrow_transaction=accepted).get(AccountCategory.ESCROW_HOLD, 0) == 0


def test_the_notification_amount_settles_a_bill_polling_found_first(faspay, live_server, accepted, buyer, settings):
    from tests.payments.notifications import deliver_notification

    bill = start(accepted, buyer, "702")
    pay_with_lost_notification(faspay, live_server, bill, bill.amount - 500_000)
    deliver_notification(live_server, settings, bill, paid_amount=bill.amount - 500_000)  # a late retry
    refresh(bill, accepted)
    assert bill.status == Bill.Status.VERIFIED and bill.flag == Bill.Flag.SHORT
    assert accepted.status == Status.CREATED
    assert provider_collected(faspay, accepted) == ledger_holds_or_owes(accepted)


def test_staff_record_the_amount_from_the_providers_report(faspay, live_server, accepted, buyer, finance_officer):
    bill = start(accepted, buyer, "702")
    pay_with_lost_notification(faspay, live_server, bill, 1_000_000)
    escrow_services.bill_record_provider_amount(bill_id=bill.pk, amount=1_000_000, actor=finance_officer,
                                         reason="Faspay merchant portal, transaction report 23 Nov")
    refresh(bill, accepted)
    assert bill.status == Bill.Status.VERIFIED and bill.flag == Bill.Flag.SHORT
    assert bill.amount_source == Bill.AmountSource.STAFF
    assert accepted.status == Status.CREATED
    assert provider_collected(faspay, accepted) == ledger_holds_or_owes(accepted)


# --- QRIS without qr_content ------------------------------------------------------------------------

def test_qris_without_qr_content_shows_the_providers_payment_page(faspay, client, accepted, buyer, settings):
    from django.urls import reverse

    faspay("config", qris_content=False)
    client.force_login(buyer)
    client.post(reverse("payments:pay", args=[accepted.reference]), {"channel": "711"})
    bill = Bill.objects.get()
    assert bill.qr_content == "" and bill.redirect_url
    settings.FASPAY_SANDBOX_ENABLED = False  # what a production buyer sees
    page = client.get(reverse("payments:pay", args=[accepted.reference])).content.decode()
    assert f'href="{bill.redirect_url}"' in page
    qr_block = page.split('data-testid="qr"')[1].split("</div>")[0]
    assert "<svg" in qr_block  # a QR of the provider's payment page, drawn by us


def test_finance_records_the_amount_in_the_admin(faspay, live_server, client, accepted, buyer, finance_officer,
                                                 customer_service_officer):
    from django.urls import reverse

    bill = start(accepted, buyer, "702")
    pay_with_lost_notification(faspay, live_server, bill)
    url = reverse("admin:payments_bill_record_amount", args=[bill.pk])
    client.force_login(customer_service_officer)
    assert client.post(url, {"amount": "1", "reason": "x"}).status_code == 403
    client.force_login(finance_officer)
    queue = client.get(reverse("admin:payments_bill_changelist") + "?amount=unknown").content.decode()
    assert bill.bill_no in queue and url in queue
    refused = client.post(url, {"amount": "9" * 5000, "reason": "report"})
    assert refused.status_code == 200 and not Bill.objects.get(pk=bill.pk).amount_known
    response = client.post(url, {"amount": f"Rp {bill.amount:,}".replace(",", "."),
                                 "reason": "Faspay transaction report, 23 Nov"})
    assert response.status_code == 302
    refresh(bill, accepted)
    assert bill.status == Bill.Status.VERIFIED and bill.amount_source == Bill.AmountSource.STAFF
    assert accepted.status == Status.VERIFIED
    from audit.models import AuditEntry

    entry = AuditEntry.objects.get(action="payment.amount_recorded")
    assert entry.actor == finance_officer and "23 Nov" in entry.reason


# --- nothing outside Faspay's specification goes to a host that is not our sandbox -----------------

def test_sandbox_only_fields_are_sent_only_to_this_sites_sandbox(faspay, live_server, accepted, buyer, settings):
    from sandbox.models import Bill as SandboxBill

    own = start(accepted, buyer, "702")
    assert SandboxBill.objects.get(bill_no=own.bill_no).request_payload["sandbox_notification_url"]
    # The same sandbox reached under another host name stands for a real Faspay host.
    settings.FASPAY_DEBIT_BASE_URL = live_server.url.replace("localhost", "127.0.0.1") + "/sandbox/debit"
    other = start(accepted, buyer, "800")
    assert "sandbox_notification_url" not in SandboxBill.objects.get(bill_no=other.bill_no).request_payload
