"""A seller payout the bank gives back after the transaction was marked paid out (SendMe 04 on a later
inquiry). The sibling of the refund given back after its request closed (``refunds.services.refund_reopen``):
the reversal's ledger entry makes the money owed to the seller again and the payout waits for Finance, so
the transaction must stop saying "Paid out to seller" — on the seller's page, on Cek Transaksi — and wait
again for the payout; the seller is told; the next success marks it paid out again."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from disbursements import services as disbursement_services
from disbursements.models import Disbursement, Payout
from intrasa.wib import WIB
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from notifications.models import Notification
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import accepted, fake_sendme  # noqa: F401 - fixture
from tests.disputes.conftest import _staff_in, finance  # noqa: F401 - finance: a Finance member
from tests.refunds.test_refund_by import now_is
from transactions.models import EscrowTransaction, Status, TransactionEvent

pytestmark = pytest.mark.django_db


def test_a_seller_payout_given_back_after_disbursed_puts_the_transaction_back_to_waiting_for_it(
        client, seller, buyer, finance, fake_sendme, django_capture_on_commit_callbacks, settings):  # noqa: F811
    settings.SENDME_NIGHT_HOLD_BANK = False  # the payout is sent at the wall clock's time, which may be night
    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    with now_is(dt.datetime(2026, 11, 5, 10, 0, tzinfo=WIB)):  # a Thursday: the promise is a working day later
        scenarios.advance(txn, buyer, Status.CONFIRMED)
    part = Disbursement.objects.get(payout__escrow_transaction=txn)
    if part.status != Disbursement.Status.SUCCEEDED:
        disbursement_services.disbursement_dispatch(disbursement_id=part.pk)
    assert EscrowTransaction.objects.get(pk=txn.pk).status == Status.DISBURSED
    assert client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()["status"] == "disbursed"

    fake_sendme.status_answers = [accepted(part.partner_reference_no, status="04", code="2003600")]
    with django_capture_on_commit_callbacks(execute=True):
        disbursement_services.disbursement_inquire(disbursement_id=part.pk)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.REVERSED
    assert Payout.objects.get(pk=part.payout_id).status == Payout.Status.NEEDS_ACTION
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == part.amount
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED and txn.closed_at is None
    event = TransactionEvent.objects.filter(escrow_transaction=txn).latest("created_at", "id")
    assert (event.action, event.from_status, event.to_status) == ("payout_given_back", "disbursed", "confirmed")
    public = client.get(reverse("pages:check_transaction_api", args=[txn.reference])).json()
    assert public["status"] == "confirmed"
    # Given back is not a release: Cek keeps the payout's own promise, counted from the confirmation.
    promise = Payout.objects.get(pk=part.payout_id).due_at
    assert promise == dt.datetime(2026, 11, 6, 10, 0, tzinfo=WIB)
    assert dt.datetime.fromisoformat(public["next_due"]["at"]) == promise
    assert Notification.objects.filter(recipient=seller, kind="payout_failed").count() == 1
    call_command("ledger_check")

    # Finance send it again (two people), and its success marks the transaction paid out again.
    second = _staff_in("Finance", "finance2@intrasa.co.id", "Feri Keuangan")
    approval = disbursement_services.disbursement_retry_request(disbursement=part, actor=finance,
                                                                destination=part.destination, reason="Kirim ulang")
    [again] = disbursement_services.disbursement_retry_approve(approval=approval, actor=second)
    if Disbursement.objects.get(pk=again.pk).status != Disbursement.Status.SUCCEEDED:
        disbursement_services.disbursement_dispatch(disbursement_id=again.pk)
    assert Disbursement.objects.get(pk=again.pk).status == Disbursement.Status.SUCCEEDED
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED and txn.closed_at is not None
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == 0
