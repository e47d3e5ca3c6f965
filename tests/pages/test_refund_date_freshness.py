"""Cek Transaksi shows a changed refund-by date at once, whatever changed it.

The date is ``refunds.selectors.refund_clock`` over the transaction's open refunds, and Cek Transaksi keeps
the clocks in its cached public facts (``pages.public_cache``, 10 minutes) and its rendered page and JSON
body (``pages.page_memo``, keyed by those facts and the date). So every write that changes an input of the
clock must forget the cached facts of the transactions it touches. The inputs, from reading ``refund_clock``:

* the refund request (its status and approval, the account named for it)  — ``RefundRequest``
* its return shipment's step                                                 — ``ReturnShipment``
* its payout (waiting for an account, failed, sent again)                    — ``Payout``
* the account it goes to, or the buyer's default account when it names none:
  added, archived, made the default, checked by the bank, a name mismatch approved by staff, an e-wallet
  confirmed by Finance                                                         — ``PayoutDestination``
  (the profile page: these were the stale ones, up to 10 minutes)

Each test warms the cache (the same date twice), changes one input through the real view or service with
its on-commit callbacks run, and asserts the page and the JSON show the date the database gives now."""
import datetime as dt
import re
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import PayoutDestination
from accounts.services import (
    payout_destination_add_bank,
    payout_destination_add_ewallet,
    payout_destination_approve,
    payout_destination_review_ewallet,
)
from disbursements import services as disbursement_services
from disputes import services as dispute_services
from escrow import services as escrow_services
from intrasa.wib import WIB, format_wib
from pages import page_memo, public_cache
from refunds import selectors, services
from refunds.models import RefundRequest
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import accepted, answer, fake_sendme  # noqa: F401 - fixture
from tests.disputes.conftest import disputed, finance, officer, shipped  # noqa: F401 - fixtures
from transactions.models import Status

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=WIB)
LATER = MONDAY + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _language_kept():
    """The look-ups in English activate it for the thread (``LocaleMiddleware``): put back what was active, so
    no later test on this worker starts in another language."""
    with translation.override(translation.get_language()):
        yield


@contextmanager
def now_is(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def shown(txn, at) -> dt.datetime:
    """The refund-by date Cek Transaksi's JSON gives, after checking its page (kept or not) says the same."""
    visitor = Client()
    with now_is(at):
        data = visitor.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
        page = visitor.get(reverse("pages:check_transaction"), {"reference": txn.reference},
                           HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert data["next_due"]["step"] == "refund"
    due = dt.datetime.fromisoformat(data["next_due"]["at"])
    with translation.override("en"):
        assert format_wib(due) in _text(page.split('data-testid="next-due"')[1].split("</dd>")[0])
    return due


def in_the_database(txn, at) -> dt.datetime:
    with now_is(at):
        return selectors.refund_due_by(escrow_transaction=txn)


@contextmanager
def changes_the_date(txn, django_capture_on_commit_callbacks, at=LATER):
    """Warm the cache, run the change (committed), then: the page and the JSON show the new date."""
    assert public_cache.enabled()
    page_memo.forget_all()
    before = shown(txn, at)
    assert shown(txn, at) == before  # served from the cache
    with now_is(at), django_capture_on_commit_callbacks(execute=True):
        yield
    after = in_the_database(txn, at)
    assert after != before, "the change must move the date for this test to mean anything"
    assert shown(txn, at) == after


def in_review(seller, buyer) -> RefundRequest:
    """The seller cancels a paid transaction on Monday: refunded, the request waits for Finance."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with now_is(MONDAY):
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.status == RefundRequest.Status.IN_REVIEW and txn.refund_requests.count() == 1
    return request


def buyer_client(buyer) -> Client:
    browser = Client()
    browser.force_login(buyer)
    return browser


class Inquiry:
    """SendMe's account inquiry answering with ``name`` (the bank's record of the holder)."""

    def __init__(self, name):
        self.name = name

    def account_inquiry(self, **kwargs):
        return SimpleNamespace(successful=True, account_invalid=False, account_name=self.name,
                               response_code="2001600")


# --- the refund request, its return, its payout (receivers on their saves) ----------------------------------

def test_the_approval(seller, buyer, finance, django_capture_on_commit_callbacks):  # noqa: F811
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")


def test_an_account_named_on_the_refund_page(seller, buyer, finance, django_capture_on_commit_callbacks):  # noqa: F811
    request = in_review(seller, buyer)
    with now_is(MONDAY):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        wallet = payout_destination_add_ewallet(owner=buyer, provider="gpy", phone="081234567890",
                                                registered_name=buyer.full_name)
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)


def test_a_return_shipment_step(disputed, officer, buyer, django_capture_on_commit_callbacks):  # noqa: F811
    verified_bank(buyer)
    dispute = disputed(reason="wrong_item", description="Warna salah")
    with now_is(MONDAY):
        dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Salah kirim")
    request = RefundRequest.objects.select_related("return_shipment").get(escrow_transaction=dispute.escrow_transaction)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                  receipt_number="JNE4455")


def test_a_transfer_that_failed_and_was_sent_again(seller, buyer, finance, fake_sendme,  # noqa: F811
                                                   django_capture_on_commit_callbacks):
    verified_bank(buyer)
    request = in_review(seller, buyer)
    with now_is(MONDAY):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    part = request.payout.parts.get()
    fake_sendme.answers = [answer("4031814", "Insufficient Funds")]
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        disbursement_services.disbursement_dispatch(disbursement_id=part.pk)
    part.refresh_from_db()
    fake_sendme.answers = [accepted(part.partner_reference_no, status="03")]  # sent again: in process at the bank
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks,
                          at=MONDAY + dt.timedelta(days=3)):
        disbursement_services.disbursement_retry(disbursement=part, actor=finance)


# --- the buyer's accounts: the profile page, the bank's inquiry, Finance's e-wallet check -------------------

def test_a_bank_account_added_on_the_profile_page(seller, buyer, monkeypatch, django_capture_on_commit_callbacks):
    """No account: the date counts the buyer's account step and Finance's e-wallet check; a bank account added
    on the profile page (checked by the bank on commit) takes them away."""
    for where in ("disbursements.tasks.default_client", "disbursements.services.default_client"):
        monkeypatch.setattr(where, lambda: Inquiry(buyer.full_name))
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        response = buyer_client(buyer).post(reverse("accounts:destination_add_bank"), {
            "bank-bank_code": "014", "bank-account_number": "7001234567", "bank-account_holder_name": buyer.full_name})
        assert response.status_code == 302
    assert buyer.payout_destinations.get().verification == PayoutDestination.Verification.VERIFIED


def test_the_default_account_archived_on_the_profile_page(seller, buyer, django_capture_on_commit_callbacks):
    account = verified_bank(buyer)
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        buyer_client(buyer).post(reverse("accounts:destination_archive", args=[account.pk]))
    assert PayoutDestination.objects.get(pk=account.pk).is_archived


def test_another_default_account_chosen_on_the_profile_page(seller, buyer, django_capture_on_commit_callbacks):
    verified_bank(buyer)
    wallet = payout_destination_add_ewallet(owner=buyer, provider="ovo", phone="081234567891",
                                            registered_name=buyer.full_name)
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        buyer_client(buyer).post(reverse("accounts:destination_set_default", args=[wallet.pk]))
    assert PayoutDestination.objects.get(pk=wallet.pk).is_default  # an e-wallet: Finance check it first


def test_the_banks_inquiry_finds_another_holder(seller, buyer, django_capture_on_commit_callbacks):
    account = payout_destination_add_bank(owner=buyer, bank_code="014", account_number="7001234567",
                                          account_holder_name=buyer.full_name)
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        disbursement_services.destination_verify(destination_id=account.pk, client=Inquiry("SESEORANG LAIN"))
    assert PayoutDestination.objects.get(pk=account.pk).verification == PayoutDestination.Verification.NAME_MISMATCH


def test_finance_confirm_an_ewallets_name(seller, buyer, finance, django_capture_on_commit_callbacks):  # noqa: F811
    wallet = payout_destination_add_ewallet(owner=buyer, provider="ovo", phone="081234567891",
                                            registered_name=buyer.full_name)
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        payout_destination_review_ewallet(destination=wallet, actor=finance, confirmed=True,
                                          reason="Tangkapan layar aplikasi OVO")


def test_staff_approve_a_holder_name_mismatch(seller, buyer, finance, django_capture_on_commit_callbacks):  # noqa: F811
    """The admin's "approve the holder-name mismatch" (a shortened name): the account can take the refund."""
    account = payout_destination_add_bank(owner=buyer, bank_code="014", account_number="7001234567",
                                          account_holder_name=buyer.full_name)
    disbursement_services.destination_verify(destination_id=account.pk, client=Inquiry("B PEMBELI"))
    request = in_review(seller, buyer)
    with changes_the_date(request.escrow_transaction, django_capture_on_commit_callbacks):
        payout_destination_approve(destination=account, actor=finance, reason="Nama disingkat oleh bank")
    assert PayoutDestination.objects.get(pk=account.pk).verification == PayoutDestination.Verification.APPROVED
