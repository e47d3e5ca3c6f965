"""Hostile review of the refund transfer clock: one refund, one date, wherever it is shown.

The refund page, Cek Transaksi and the approval email show ``refunds.selectors.refund_request_due_by``; the
payout queue orders by ``Payout.due_at``; the staff chase counts from ``refund_transfer_window``. Each test
drives the real services through a refund's life and compares them at each step."""
import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from disbursements import services as disbursement_services
from disbursements.models import Payout
from intrasa.wib import WIB
from refunds import selectors, services
from refunds.models import RefundRequest
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import accepted, answer, fake_sendme  # noqa: F401 - fixture
from tests.disputes.conftest import finance  # noqa: F401 - fixture
from tests.pages.test_refund_date_freshness import _language_kept, in_review, now_is  # noqa: F401

pytestmark = pytest.mark.django_db

FRIDAY_LATE = dt.datetime(2026, 11, 6, 23, 30, tzinfo=WIB)  # 16:30 UTC: the UTC date is still Friday too


def the_dates(request, at):
    request = RefundRequest.objects.select_related("payout", "destination").get(pk=request.pk)
    with now_is(at):
        due = selectors.refund_request_due_by(request)
        window = selectors.refund_transfer_window(request)
        data = Client().get(reverse("pages:check_transaction_api", args=[request.escrow_transaction.reference])).json()
    return request, due, window, data


def assert_one_date(request, at):
    request, due, window, data = the_dates(request, at)
    assert request.payout.status == Payout.Status.IN_PROGRESS
    assert window is not None and due == window[1]
    assert request.payout.due_at == window[1], "the payout queue's promise is the refund's transfer-by date"
    assert data["next_due"]["step"] == "refund" and dt.datetime.fromisoformat(data["next_due"]["at"]) == due
    return due


def test_a_refund_approved_late_on_friday_has_one_date(seller, buyer, finance, fake_sendme):  # noqa: F811
    verified_bank(buyer)
    request = in_review(seller, buyer)
    with now_is(FRIDAY_LATE):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    due = assert_one_date(request, FRIDAY_LATE)
    assert due.astimezone(WIB).date() == dt.date(2026, 11, 17)  # 7 working days after Friday, in WIB
    from notifications.models import Notification

    approved = Notification.objects.filter(kind="refund_approved", recipient=buyer).get()
    assert dt.datetime.fromisoformat(approved.params["latest"]["wib"]) == due  # the approval email's date


def test_a_new_account_after_a_failed_transfer_moves_every_date_together(seller, buyer, finance, fake_sendme):  # noqa: F811
    from tests.factories import BankDestinationFactory

    verified_bank(buyer)
    request = in_review(seller, buyer)
    monday = dt.datetime(2026, 11, 2, 10, 0, tzinfo=WIB)
    with now_is(monday):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    part = request.payout.parts.get()
    fake_sendme.answers = [answer("4031811", "Invalid Account")]  # the account is wrong
    with now_is(monday + dt.timedelta(hours=1)):
        disbursement_services.disbursement_dispatch(disbursement_id=part.pk)
    part.refresh_from_db()
    wednesday = monday + dt.timedelta(days=2)
    new = BankDestinationFactory(owner=buyer, account_number="7009998887", bank_code="008", is_default=False,
                                 account_holder_name=buyer.full_name, verification="verified")
    with now_is(wednesday):
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=new)
    from tests.factories import UserFactory

    second = UserFactory(email="kedua@intrasa.co.id", is_staff=True)
    second.groups.add(*finance.groups.all())
    thursday = wednesday + dt.timedelta(days=1)
    with now_is(thursday):
        approval = disbursement_services.disbursement_retry_request(disbursement=part, actor=finance, destination=new,
                                                                    reason="Rekening baru dari pembeli")
        disbursement_services.disbursement_retry_approve(approval=approval, actor=second)
    due = assert_one_date(request, thursday)
    from refunds import policy
    from workdays.calendar import working_calendar

    # From the retry to the new account (the latest of approval, account named, money sent): not Monday's.
    assert due == working_calendar().add_working_days(thursday, policy.transfer_window(request.payment_family)[1])


def test_an_ewallet_confirmed_by_finance_after_approval_moves_every_date_together(seller, buyer, finance,  # noqa: F811
                                                                                 fake_sendme):  # noqa: F811
    from accounts.services import payout_destination_add_ewallet

    request = in_review(seller, buyer)
    monday = dt.datetime(2026, 11, 2, 22, 0, tzinfo=WIB)
    with now_is(monday):
        request = services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    tuesday = monday + dt.timedelta(days=1, hours=3)  # past WIB midnight: Wednesday 01:00
    with now_is(tuesday):
        wallet = payout_destination_add_ewallet(owner=buyer, provider="ovo", phone="081234567891",
                                                registered_name=buyer.full_name)
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    friday = monday + dt.timedelta(days=4)
    with now_is(friday):
        services.refund_ewallet_review(refund_request=request, actor=finance, confirmed=True,
                                       reason="Tangkapan layar aplikasi OVO")
    due = assert_one_date(request, friday)
    from refunds import policy
    from workdays.calendar import working_calendar

    assert due == working_calendar().add_working_days(friday, policy.transfer_window(request.payment_family)[1])
