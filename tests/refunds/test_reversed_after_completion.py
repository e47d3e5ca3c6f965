"""Review (Cek Transaksi after a money step, ``disbursements.services._reverse``): a refund transfer SendMe
reported paid, whose request the beat job then closed (``refund_complete_paid``), is given back by the bank
days later (04, through a callback's inquiry). The money is owed to the buyer again — the ledger says so
(buyer refund payable) and the payout needs action — but the request stays *completed*: its refund has no
clock (``refunds.selectors.refund_clocks`` reads open requests only), so Cek Transaksi shows no date by
which the refund reaches the buyer, and the refund beat job (which now also recounts the payout's promise,
8f161b2) never looks at it. The refund beat job now opens such a request again (``refund_reopen``)."""
import datetime as dt

import pytest
from django.urls import reverse

from disbursements import services as disbursement_services
from disbursements.models import Disbursement, Payout
from intrasa.wib import WIB
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from notifications.models import Notification
from refunds import services
from refunds.models import RefundRequest
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import accepted, fake_sendme  # noqa: F401 - fixture
from tests.disputes.conftest import finance  # noqa: F401 - a Finance member approves refunds
from tests.refunds.test_refund_by import _books_balance, now_is  # noqa: F401 - autouse fixture
from tests.refunds.test_transfer_window_start import MONDAY, THURSDAY, approved_on_monday

pytestmark = pytest.mark.django_db


def test_a_refund_transfer_the_bank_gave_back_after_the_request_closed_still_has_a_refund_by_date(
        client, seller, buyer, finance, fake_sendme):  # noqa: F811
    verified_bank(buyer)
    request = approved_on_monday(seller, buyer, finance)
    txn = request.escrow_transaction
    part = request.payout.parts.get()
    with now_is(MONDAY + dt.timedelta(hours=1)):
        disbursement_services.disbursement_dispatch(disbursement_id=part.pk)  # SendMe: paid
        services.refund_complete_paid()
    assert RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.COMPLETED
    fake_sendme.status_answers = [accepted(part.partner_reference_no, status="04", code="2003600")]
    with now_is(THURSDAY):
        disbursement_services.disbursement_inquire(disbursement_id=part.pk)  # a callback's inquiry: reversed
    part.refresh_from_db()
    assert part.status == Disbursement.Status.REVERSED
    assert Payout.objects.get(pk=request.payout_id).status == Payout.Status.NEEDS_ACTION
    owed = transaction_balances(escrow_transaction=txn)[AccountCategory.BUYER_REFUND_PAYABLE]
    assert owed == request.amount  # owed to the buyer again
    # The refund beat job (every minute: ``refunds-complete-paid``) opens the request again.
    with now_is(THURSDAY):
        assert services.refund_complete_paid() == 1
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.PAYING and request.completed_at is None
    assert request.handler_task  # Finance hold the next step: send it again
    assert Notification.objects.filter(recipient=buyer, kind="refund_given_back").count() == 1
    with now_is(THURSDAY):
        assert services.refund_complete_paid() == 0  # once
    with now_is(THURSDAY + dt.timedelta(minutes=1)):
        data = client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
    assert data["next_due"] is not None and data["next_due"]["step"] == "refund", data["next_due"]
    assert dt.datetime.fromisoformat(data["next_due"]["at"]) > dt.datetime(2026, 11, 5, 10, 1, tzinfo=WIB)
