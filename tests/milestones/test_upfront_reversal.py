"""A milestone plan paid up front is one Faspay bill that funds every milestone's own escrow; Faspay then
takes the whole payment back (a reversal). Booking it treats each milestone by where its share is: the
ones still held end refunded by the provider (a disputed one's dispute closes), one already paid out to
the seller becomes owed to INTRASA. What Faspay collected for the plan (nothing, now) equals what the
ledger booked in for it, and ``ledger_check`` passes."""
import pytest
from django.core.management import call_command

from disputes.models import Dispute
from escrow import services as escrow_services
from ledger.models import AccountCategory
from ledger.selectors import category_balance, transaction_balances
from payments import checks as payment_checks
from payments import services as payment_services
from payments.models import Bill, BillShare
from tests import scenarios
from tests.payments.steps import poll_now
from transactions.models import EscrowTransaction, Status

from .conftest import deliver, sendme, verified_bank  # noqa: F401 - SendMe sandbox on the live server
from .test_upfront_bill import accepted_plan

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reversed_upfront_bill_is_booked_milestone_by_milestone(faspay, sendme, seller, buyer, finance_officer):
    verified_bank(seller)  # milestone 1's release is paid out at once
    plan, txns = accepted_plan(seller, buyer)
    bill = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED
    first, second, third = (EscrowTransaction.objects.get(pk=t.pk) for t in txns)
    deliver(first)
    escrow_services.escrow_confirm(escrow_transaction=first, buyer=buyer)  # milestone 1 released, paid out
    deliver(second)
    dispute = scenarios.open_dispute(EscrowTransaction.objects.get(pk=second.pk), buyer,
                                     description="Desain tidak sesuai brief")

    faspay("bill_reverse", trx_id=bill.provider_trx_id)
    poll_now()
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.REVERSED
    booked = {item.escrow_transaction_id: item for item in escrow_services.escrow_book_provider_reversal(
        bill_id=bill.pk, actor=finance_officer, reason="Laporan Faspay: pembayaran dibatalkan")}
    shares = {share.escrow_transaction_id: share.amount for share in BillShare.objects.filter(bill=bill)}
    assert booked[first.pk].to_recover == shares[first.pk] and booked[first.pk].taken_from_hold == 0
    assert booked[second.pk].taken_from_hold == shares[second.pk] and booked[second.pk].was_disputed
    assert booked[third.pk].taken_from_hold == shares[third.pk] and not booked[third.pk].was_disputed

    first, second, third = (EscrowTransaction.objects.get(pk=t.pk) for t in txns)
    assert first.status == Status.DISBURSED  # its money had gone to the seller: INTRASA recovers it
    assert second.status == third.status == Status.REFUNDED
    assert Dispute.objects.get(pk=dispute.pk).outcome == Dispute.Outcome.TAKEN_BACK
    for txn in (second, third):
        assert transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0) == 0
    assert category_balance(category=AccountCategory.REVERSAL_RECEIVABLE) == shares[first.pk]
    assert sum(booked[pk].taken_from_hold + booked[pk].to_recover for pk in booked) == bill.paid_amount
    assert payment_checks.collected_equals_booked() == []
    assert payment_checks.escrow_on_stated_amount() == []
    call_command("ledger_check")
