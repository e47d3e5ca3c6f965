"""A milestone plan paid up front is one bill: the buyer pays once, at the Faspay sandbox over real
HTTP, and the payment funds every milestone's own escrow hold. Short, excess, double and late
payments of that bill follow the ordinary rules (owed back to the buyer), a refund of one milestone
comes out of its own hold only, and ``ledger_check`` (per milestone and per plan) passes after each."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from disputes.models import Dispute
from ledger.checks import ledger_breaches
from ledger.models import AccountCategory, EntryKind, JournalEntry
from ledger.selectors import transaction_balances
from milestones import services
from payments import services as payment_services
from payments.models import Bill, BillShare, ProviderNotification
from refunds.models import RefundRequest
from refunds.services import payment_family
from tests import scenarios
from tests.concurrency import race
from tests.payments.notifications import deliver_notification
from transactions import tasks as transaction_tasks
from transactions.models import EscrowTransaction, Status

from .conftest import deliver, propose

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


def accepted_plan(seller, buyer, amounts=(1_500_000, 2_000_000, 2_500_000)):
    plan = propose(seller, buyer, schedule="upfront", amounts=amounts)
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    return plan, [m.escrow_transaction for m in plan.milestones.select_related("escrow_transaction")]


def fresh(*txns):
    return [EscrowTransaction.objects.get(pk=txn.pk) for txn in txns]


def balances(txn):
    return transaction_balances(escrow_transaction=txn)


def test_one_bill_funds_every_milestone_and_a_refund_comes_from_one_milestone_only(
        faspay, seller, buyer, dispute_officer):
    plan, txns = accepted_plan(seller, buyer)
    # Whichever milestone's pay page the buyer opens, the bill is the plan's, numbered by the first.
    bill = payment_services.payment_start(escrow_transaction=txns[2], buyer=buyer, channel_code="702")
    again = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    assert again.pk == bill.pk and bill.escrow_transaction_id == txns[0].pk
    assert bill.amount == sum(t.amount_due for t in txns) == plan.buyer_pays
    assert [s.escrow_transaction_id for s in bill.shares.order_by("pk")] == [t.pk for t in txns]
    assert all(t.payment_due_at == bill.expires_at for t in fresh(*txns))

    faspay("bill_pay", trx_id=bill.provider_trx_id)  # paid once
    bill.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and bill.flag == ""
    for txn in fresh(*txns):
        assert txn.status == Status.VERIFIED and txn.amount_received == txn.amount_due
        assert balances(txn) == {AccountCategory.ESCROW_HOLD: txn.amount_due}
        # Its own balanced entry, under its own idempotency key.
        entry = JournalEntry.objects.get(kind=EntryKind.PAYMENT_VERIFIED, escrow_transaction=txn)
        assert entry.idempotency_key == f"payment-verified:{txn.pk}"
    assert list(BillShare.objects.filter(bill=bill).values_list("held", flat=True)) == [True] * 3
    assert not RefundRequest.objects.exists()

    # Milestone 2 is delivered, disputed and refunded: only its own hold goes back to the buyer.
    second = fresh(txns[1])[0]
    deliver(second)
    dispute = scenarios.open_dispute(second, buyer, description="Desain tidak sesuai brief")
    scenarios.resolve_dispute(Dispute.objects.get(pk=dispute.pk), dispute_officer, "refund")
    first, second, third = fresh(*txns)
    assert second.status == Status.REFUNDED
    assert balances(second) == {AccountCategory.ESCROW_HOLD: 0, AccountCategory.BUYER_REFUND_PAYABLE: second.amount_due}
    assert balances(first) == {AccountCategory.ESCROW_HOLD: first.amount_due}
    assert balances(third) == {AccountCategory.ESCROW_HOLD: third.amount_due}
    assert payment_family(second) == "va"  # the refund knows the shared bill was a virtual account
    # The third milestone's receipt names the plan bill's method, as any receipt names its bill's.
    from documents.selectors import RECEIPT, document_context
    receipt = document_context(kind=RECEIPT, escrow_transaction=third, postings=[])
    assert receipt["bill"].pk == bill.pk and "BCA" in receipt["channel"]
    assert ledger_breaches() == []


def test_a_short_payment_of_the_plan_bill_is_owed_back_whole_and_every_milestone_waits_again(
        faspay, seller, buyer):
    plan, txns = accepted_plan(seller, buyer)
    short = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    faspay("bill_pay_wrong_amount", trx_id=short.provider_trx_id, amount=short.amount - 100_000)
    short.refresh_from_db()
    assert short.status == Bill.Status.VERIFIED and short.flag == Bill.Flag.SHORT
    assert [t.status for t in fresh(*txns)] == [Status.CREATED] * 3
    assert balances(txns[0]) == {AccountCategory.BUYER_REFUND_PAYABLE: short.amount - 100_000}
    assert all(balances(t) == {} for t in txns[1:])
    owed = RefundRequest.objects.get()
    assert owed.escrow_transaction_id == txns[0].pk and owed.amount == short.amount - 100_000
    assert ledger_breaches() == []

    # The buyer pays the whole plan again, with a new bill: every milestone is held.
    full = payment_services.payment_start(escrow_transaction=txns[1], buyer=buyer, channel_code="800")
    assert full.pk != short.pk and full.amount == plan.buyer_pays
    faspay("bill_pay", trx_id=full.provider_trx_id)
    assert [t.status for t in fresh(*txns)] == [Status.VERIFIED] * 3


def test_an_excess_is_owed_back_with_the_first_milestone(faspay, seller, buyer):
    _plan, txns = accepted_plan(seller, buyer)
    bill = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    faspay("bill_pay_wrong_amount", trx_id=bill.provider_trx_id, amount=bill.amount + 7_000)
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.EXCESS
    first, second, third = fresh(*txns)
    assert [t.status for t in (first, second, third)] == [Status.VERIFIED] * 3
    assert balances(first) == {AccountCategory.ESCROW_HOLD: first.amount_due, AccountCategory.BUYER_REFUND_PAYABLE: 7_000}
    assert balances(second) == {AccountCategory.ESCROW_HOLD: second.amount_due}
    assert RefundRequest.objects.get().amount == 7_000


def test_a_second_plan_bill_paid_too_is_a_double_payment_owed_back_per_milestone(faspay, seller, buyer):
    _plan, txns = accepted_plan(seller, buyer)
    first = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    faspay("fault", kind="http_500", scope="debit.cancel", count=2)  # the first bill stays payable
    second = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="800")
    first.refresh_from_db()
    assert first.status == Bill.Status.CANCELLED
    faspay("bill_pay", trx_id=second.provider_trx_id)
    faspay("bill_pay", trx_id=first.provider_trx_id)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.flag == "" and first.status == Bill.Status.VERIFIED and first.flag == Bill.Flag.DOUBLE
    for txn in fresh(*txns):
        assert txn.status == Status.VERIFIED
        assert balances(txn) == {AccountCategory.ESCROW_HOLD: txn.amount_due,
                                 AccountCategory.BUYER_REFUND_PAYABLE: txn.amount_due}
    assert sorted(RefundRequest.objects.values_list("escrow_transaction_id", flat=True)) == sorted(t.pk for t in txns)


def test_a_plan_bill_paid_after_the_milestones_expired_is_owed_back_as_late(faspay, seller, buyer):
    _plan, txns = accepted_plan(seller, buyer, amounts=(1_000_000, 1_000_000))
    bill = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    EscrowTransaction.objects.filter(pk__in=[t.pk for t in txns]).update(
        payment_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert transaction_tasks.expire_unpaid_transactions() == 2
    faspay("bill_pay", trx_id=bill.provider_trx_id)  # the provider still took it
    bill.refresh_from_db()
    assert bill.flag == Bill.Flag.LATE
    for txn in fresh(*txns):
        assert txn.status == Status.EXPIRED
        assert balances(txn) == {AccountCategory.BUYER_REFUND_PAYABLE: txn.amount_due}
    assert RefundRequest.objects.count() == 2
    # An expired milestone of an up-front plan opens again, with a new bill for what is left.
    plan = _plan
    reopened = services.milestone_open(plan=plan, position=1, actor=buyer)
    again = payment_services.payment_start(escrow_transaction=reopened, buyer=buyer, channel_code="702")
    assert again.amount == reopened.amount_due and not again.shares.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_notifications_of_the_plan_bill_racing_fund_each_milestone_once(faspay, live_server, settings,
                                                                            seller, buyer):
    _plan, txns = accepted_plan(seller, buyer)
    bill = payment_services.payment_start(escrow_transaction=txns[0], buyer=buyer, channel_code="702")
    faspay("bill_notification_url", trx_id=bill.provider_trx_id, url=f"{live_server.url}/nowhere/")
    faspay("bill_pay", trx_id=bill.provider_trx_id)  # paid; its notification went nowhere
    # Each copy is answered 200 (raise_for_status raises otherwise: that thread then has no outcome).
    assert race(*[lambda: deliver_notification(live_server, settings, bill).raise_for_status()] * 2) == ["ok"] * 2
    assert ProviderNotification.objects.get(bill=bill).deliveries == 2
    bill.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and bill.flag == ""
    for txn in fresh(*txns):
        assert txn.status == Status.VERIFIED
        assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT_VERIFIED, escrow_transaction=txn).count() == 1
        assert balances(txn) == {AccountCategory.ESCROW_HOLD: txn.amount_due}
    assert not RefundRequest.objects.exists()


def test_the_ledger_check_catches_a_plan_whose_shares_or_fees_do_not_add_up(seller, buyer):
    from django.db.models import F

    from escrow import services as escrow_services
    from milestones.models import MilestonePlan

    plan, txns = accepted_plan(seller, buyer, amounts=(1_000_000, 1_500_000))
    scenarios.pay_by_transfer(txns[1], buyer)  # the plan's one bill, by bank transfer (its unique code on the first)
    bill = Bill.objects.get()
    assert bill.unique_code and [t.status for t in fresh(*txns)] == [Status.VERIFIED] * 2
    first = fresh(txns[0])[0]
    deliver(first)
    escrow_services.escrow_confirm(escrow_transaction=first, buyer=buyer)  # releases its share of the fee
    assert ledger_breaches() == []

    share = BillShare.objects.filter(bill=bill).order_by("pk").last()
    BillShare.objects.filter(pk=share.pk).update(collected=F("collected") + 1)
    assert {b.rule for b in ledger_breaches()} == {"shared-bill-adds-up", "collected-equals-booked"}
    BillShare.objects.filter(pk=share.pk).update(collected=F("collected") - 1)

    MilestonePlan.objects.filter(pk=plan.pk).update(fee_amount=1, buyer_fee=1, seller_fee=0)
    assert [b.rule for b in ledger_breaches()] == ["plan-fees-within-plan"]
    MilestonePlan.objects.filter(pk=plan.pk).update(fee_amount=plan.fee_amount, buyer_fee=plan.buyer_fee,
                                                    seller_fee=plan.seller_fee)
