"""The refund-by date (refunds.policy: the refund-by date): the latest a refund reaches the buyer, from
where it stands — approval, the goods coming back, an account to name, Finance's e-wallet check — in
working days and hours (WIB), one date shown alike on Cek Transaksi and its JSON, the refund page, the
refund emails and the refund receipt.

Each case states its expected date from the policy's windows by hand, and also shows the date Cek
Transaksi gave before (7 working days from the refund's settlement, whatever the case) was wrong."""
import datetime as dt
import re
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from accounts.services import payout_destination_add_ewallet
from disputes import services as dispute_services
from escrow import services as escrow_services
from intrasa.wib import WIB, format_wib
from notifications.models import Notification
from refunds import policy, selectors, services
from refunds.models import RefundRequest
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.documents.test_pdfs import pdf_text
from transactions.models import Status
from workdays.calendar import working_calendar

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=WIB)
STAFF_HOURS = policy.STAFF_TASK_WORKING_HOURS


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


@contextmanager
def now_is(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def days(start, n):
    return working_calendar().add_working_days(start, n)


def hours(start, n):
    return working_calendar().add_working_hours(start, n)


def latest_transfer_day(request) -> int:
    return policy.transfer_window(request.payment_family)[1]


def old_promise(txn) -> dt.datetime:
    """What Cek Transaksi promised before: 7 working days from the refund's settlement, whatever the case."""
    txn.refresh_from_db()
    return days(txn.closed_at, 7)


def public_due(client, txn, at) -> dt.datetime:
    with now_is(at):
        data = client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
    assert data["next_due"]["step"] == "refund"
    return dt.datetime.fromisoformat(data["next_due"]["at"])


def cancelled_after_payment(seller, buyer, at=MONDAY) -> RefundRequest:
    """The seller cannot deliver: everything held goes back (documents complete at once: in review)."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with now_is(at):
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.status == RefundRequest.Status.IN_REVIEW
    return request


def test_in_review_with_a_bank_account_adds_the_approval_window(client, seller, buyer):
    verified_bank(buyer)
    request = cancelled_after_payment(seller, buyer)
    expected = days(hours(request.documents_complete_at, policy.APPROVAL_WORKING_HOURS), latest_transfer_day(request))
    assert public_due(client, request.escrow_transaction, MONDAY) == expected
    assert expected > old_promise(request.escrow_transaction)


def test_in_review_without_an_account_adds_the_account_and_finances_ewallet_check(client, seller, buyer):
    request = cancelled_after_payment(seller, buyer)
    approved_by = hours(request.documents_complete_at, policy.APPROVAL_WORKING_HOURS)
    account_by = hours(days(approved_by, policy.ACCOUNT_STALL_WORKING_DAYS), STAFF_HOURS)  # maybe an e-wallet
    expected = days(account_by, latest_transfer_day(request))
    assert public_due(client, request.escrow_transaction, MONDAY) == expected
    assert expected > old_promise(request.escrow_transaction)


def test_approved_and_queued_is_the_transfer_window_from_approval(client, seller, buyer, finance):
    verified_bank(buyer)
    request = cancelled_after_payment(seller, buyer)
    wednesday = MONDAY + dt.timedelta(days=2)
    with now_is(wednesday):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    assert request.payout.status != "awaiting_destination"
    expected = days(wednesday, latest_transfer_day(request))
    assert expected == selectors.refund_transfer_window(request)[1]
    assert public_due(client, request.escrow_transaction, wednesday) == expected
    assert expected > old_promise(request.escrow_transaction)


def test_an_ewallet_waiting_for_finance_adds_their_check_before_the_transfer(client, seller, buyer, finance):
    request = cancelled_after_payment(seller, buyer)
    with now_is(MONDAY + dt.timedelta(hours=3)):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    thursday = MONDAY + dt.timedelta(days=3)
    with now_is(thursday):
        wallet = payout_destination_add_ewallet(owner=buyer, provider="gpy", phone="081234567890",
                                                registered_name=buyer.full_name)
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    expected = days(hours(thursday, STAFF_HOURS), latest_transfer_day(request))
    assert public_due(client, request.escrow_transaction, thursday) == expected
    assert expected > old_promise(request.escrow_transaction)


def authorised_return(disputed, officer, at=MONDAY) -> RefundRequest:
    """A wrong item decided for the buyer: the goods come back first."""
    dispute = disputed(reason="wrong_item", description="Warna salah")
    with now_is(at):
        dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Salah kirim")
    request = RefundRequest.objects.select_related("return_shipment").get(escrow_transaction=dispute.escrow_transaction)
    assert request.goods_return and request.escrow_transaction.status == Status.REFUNDED
    return request


def after_the_goods_are_back(moment, request) -> dt.datetime:
    """Inspection, approval and the transfer (the buyer has a verified bank account)."""
    inspected = hours(moment, policy.INSPECTION_WORKING_HOURS)
    return days(hours(inspected, policy.APPROVAL_WORKING_HOURS), latest_transfer_day(request))


def test_a_return_waiting_for_the_address_counts_every_return_window(client, disputed, dispute_officer, buyer):
    verified_bank(buyer)
    request = authorised_return(disputed, dispute_officer)
    shipment = request.return_shipment
    back_by = days(days(days(shipment.created_at, policy.RETURN_ADDRESS_WORKING_DAYS), policy.RETURN_SHIP_WORKING_DAYS),
                   policy.RETURN_TRANSIT_WORKING_DAYS)
    expected = after_the_goods_are_back(back_by, request)
    assert public_due(client, request.escrow_transaction, MONDAY) == expected
    assert expected > old_promise(request.escrow_transaction)
    # The seller lets the address step pass its deadline: a named staff member holds it, with their window.
    late = shipment.address_due_at + dt.timedelta(minutes=1)
    back_by = days(days(hours(shipment.address_due_at, STAFF_HOURS), policy.RETURN_SHIP_WORKING_DAYS),
                   policy.RETURN_TRANSIT_WORKING_DAYS)
    assert public_due(client, request.escrow_transaction, late) == after_the_goods_are_back(back_by, request)


def test_goods_on_their_way_back_count_transit_inspection_approval_and_transfer(client, disputed, dispute_officer,
                                                                                buyer):
    verified_bank(buyer)
    request = authorised_return(disputed, dispute_officer)
    tuesday = MONDAY + dt.timedelta(days=1)
    with now_is(tuesday):
        services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                  receipt_number="JNE4455")
    expected = after_the_goods_are_back(days(tuesday, policy.RETURN_TRANSIT_WORKING_DAYS), request)
    assert public_due(client, request.escrow_transaction, tuesday) == expected
    assert expected > old_promise(request.escrow_transaction)


def test_a_refund_that_arrived_promises_nothing_any_more(seller, buyer):
    verified_bank(buyer)
    request = cancelled_after_payment(seller, buyer)
    assert selectors.refund_request_due_by(request) is not None
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.COMPLETED)
    request.refresh_from_db()
    assert selectors.refund_request_due_by(request) is None
    assert selectors.refund_due_by(escrow_transaction=request.escrow_transaction) is None
    # Put back: the books (ledger_check) still owe this money, so its request is open.
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.IN_REVIEW)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def test_every_place_shows_the_same_refund_by_date(client, seller, buyer, finance):
    """Cek Transaksi (page and JSON), the refund page, the approval email and the refund receipt: one date."""
    verified_bank(buyer)
    buyer.preferred_language = "en"
    buyer.save()
    request = cancelled_after_payment(seller, buyer)
    wednesday = MONDAY + dt.timedelta(days=2)
    with now_is(wednesday):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    txn = request.escrow_transaction
    expected = days(wednesday, latest_transfer_day(request))
    with now_is(wednesday + dt.timedelta(hours=1)):
        assert selectors.refund_due_by(escrow_transaction=txn) == expected
        assert selectors.refund_request_due_by(request) == expected
        api = client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
        page = client.get(reverse("pages:check_transaction"), {"reference": txn.reference},
                          HTTP_ACCEPT_LANGUAGE="en").content.decode()
        client.force_login(buyer)
        refund_page = client.get(reverse("refunds:detail", args=[txn.reference]),
                                 HTTP_ACCEPT_LANGUAGE="en").content.decode()
        receipt = pdf_text(client.get(reverse("documents:download",
                                              kwargs={"reference": txn.reference, "kind": "kuitansi-pengembalian"})))
    assert dt.datetime.fromisoformat(api["next_due"]["at"]) == expected
    with translation.override("en"):
        shown = format_wib(expected)
    assert shown in _text(page.split('data-testid="next-due"')[1].split("</dd>")[0])
    assert shown in _text(refund_page.split('data-testid="refund-by"')[1].split("</dd>")[0])
    assert f"Expected to reach the buyer by {shown}" in receipt
    # The approval's message (site and email) keeps the instant of its "arrives by" and says it in the
    # reader's language: the same date.
    for party in (buyer, seller):
        message = Notification.objects.get(kind="refund_approved", recipient=party)
        assert dt.datetime.fromisoformat(message.params["latest"]["wib"]) == expected
    with translation.override("en"):
        assert f"and {format_wib(expected, with_time=False)}" in \
            Notification.objects.get(kind="refund_approved", recipient=buyer).body


def test_the_public_refund_date_carries_no_personal_data(client, disputed, dispute_officer, seller, buyer):
    """What Cek Transaksi keeps to compute the date (``PublicFacts.refund_clocks``) is a step, a time and a
    payment method: nothing of the return address, the courier receipt, the account or the people."""
    from pages.selectors import public_facts

    verified_bank(buyer, number="7009998888")
    request = authorised_return(disputed, dispute_officer)
    services.return_address_give(return_shipment=request.return_shipment, seller=seller,
                                 address="Jl. Kenanga Rahasia 12, Bandung 40111, 0812-7777-6666")
    services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                              receipt_number="JNE7788990011")
    txn = request.escrow_transaction
    facts = public_facts(reference=txn.reference)
    assert facts.refund_clocks
    outputs = [facts.to_json(),
               client.get(reverse("pages:check_transaction_api", args=[txn.reference])).content.decode(),
               client.get(reverse("pages:check_transaction"), {"reference": txn.reference}).content.decode()]
    private = ["Kenanga", "0812-7777-6666", "JNE7788990011", "7009998888", buyer.full_name, buyer.email,
               seller.full_name, seller.email]
    for output in outputs:
        assert not [value for value in private if value in output]


def test_the_kept_cek_transaksi_page_never_shows_a_refund_date_the_clock_has_moved(client, disputed, dispute_officer,
                                                                                     buyer):
    """The date depends on the time of the look-up (a late party step passes to staff), not only on the
    facts: Cek Transaksi's kept pages (``pages.page_memo``, keyed by the facts) must not serve it."""
    verified_bank(buyer)
    request = authorised_return(disputed, dispute_officer)
    txn = request.escrow_transaction
    late = request.return_shipment.address_due_at + dt.timedelta(minutes=1)
    before, after = public_due(client, txn, MONDAY), public_due(client, txn, late)
    assert after > before
    url = reverse("pages:check_transaction") + f"?reference={txn.reference}"
    from pages import page_memo

    page_memo.forget_all()
    with now_is(MONDAY):
        first = client.get(url).content.decode()
        client.get(url)
    assert len(page_memo._pages) == 1  # kept (and served again) while its date holds
    with now_is(late):
        second = client.get(url).content.decode()
    assert len(page_memo._pages) == 2  # the moved date is another page
    with translation.override(re.search(r'<html lang="([a-z-]+)"', first).group(1)):
        assert format_wib(before) in first
        assert format_wib(after) in second and format_wib(before) not in second
