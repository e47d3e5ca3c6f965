"""Milestone plans end to end with real money paths: each milestone paid at the Faspay sandbox over
HTTP, held, delivered, confirmed (by the buyer or automatically) or disputed, and paid out through
SendMe — one milestone at a time, each on its own; ``ledger_check`` after every step."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from disbursements.models import Disbursement
from disputes.models import Dispute
from escrow import services as escrow_services
from escrow import tasks as escrow_tasks
from ledger.models import AccountCategory, Posting
from ledger.selectors import transaction_balances
from milestones import services
from payments import services as payment_services
from payments.models import Bill
from tests import scenarios
from transactions.models import EscrowTransaction, Status

from .conftest import deliver, propose, verified_bank

pytestmark = pytest.mark.django_db(transaction=True)


def children(plan):
    return [m.escrow_transaction for m in plan.milestones.select_related("escrow_transaction").order_by("position")]


def pay_at_sandbox(faspay, txn, buyer):
    """The buyer pays the milestone's BCA virtual account at the sandbox; it notifies, we verify."""
    bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    bill.refresh_from_db()
    txn.refresh_from_db()
    assert bill.status == Bill.Status.VERIFIED and txn.status == Status.VERIFIED
    assert transaction_balances(escrow_transaction=txn) == {AccountCategory.ESCROW_HOLD: txn.amount_due}
    call_command("ledger_check")
    return txn


def status(txn):
    return EscrowTransaction.objects.get(pk=txn.pk).status


def fee_revenue(txns):
    """The fee revenue the milestones' own journal entries credited."""
    return sum(p.amount if p.side == Posting.Side.CREDIT else -p.amount
               for p in Posting.objects.filter(account__category=AccountCategory.FEE_REVENUE,
                                               entry__escrow_transaction__in=txns))


def test_upfront_plan_three_milestones_one_disputed(faspay, sendme, seller, buyer, dispute_officer, client):
    verified_bank(seller)
    plan = propose(seller, buyer, schedule="upfront", amounts=(1_500_000, 2_000_000, 2_500_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, second, third = children(plan)
    # Everything up front: one bill, paid once, held per milestone.
    bill = payment_services.payment_start(escrow_transaction=second, buyer=buyer, channel_code="702")
    assert bill.escrow_transaction_id == first.pk and bill.amount == plan.buyer_pays
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    for txn in (first, second, third):
        txn.refresh_from_db()
        assert txn.status == Status.VERIFIED
        assert transaction_balances(escrow_transaction=txn) == {AccountCategory.ESCROW_HOLD: txn.amount_due}
    assert Bill.objects.count() == 1
    call_command("ledger_check")

    # Milestone 1: delivered and confirmed by the buyer → paid out.
    deliver(first)
    escrow_services.escrow_confirm(escrow_transaction=first, buyer=buyer)
    assert status(first) == Status.DISBURSED
    call_command("ledger_check")

    # Milestone 2: delivered, the buyer disputes it: only its money freezes.
    deliver(second)
    dispute = scenarios.open_dispute(second, buyer, description="Desain tidak sesuai brief")
    assert status(second) == Status.DISPUTED
    call_command("ledger_check")

    # Milestone 3: delivered; the buyer stays silent; auto-confirmed when its inspection ends → paid out.
    deliver(third)
    EscrowTransaction.objects.filter(pk=third.pk).update(inspection_ends_at=timezone.now() - dt.timedelta(seconds=1))
    escrow_tasks.auto_confirm_due_transactions()
    third.refresh_from_db()
    assert third.status == Status.DISBURSED and third.auto_confirmed
    assert status(second) == Status.DISPUTED  # untouched by its neighbours
    call_command("ledger_check")

    # Staff decide milestone 2 for the seller → paid out.
    scenarios.resolve_dispute(Dispute.objects.get(pk=dispute.pk), dispute_officer, "release")
    assert status(second) == Status.DISBURSED
    call_command("ledger_check")

    # Over the plan: the fee is the fee on the whole value, the seller got the plan's amount less its share.
    plan.refresh_from_db()
    txns = children(plan)
    assert fee_revenue(txns) == plan.fee_amount == 30_000
    paid_out = sum(d.amount for d in Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED))
    assert paid_out == plan.seller_receives
    assert sum(t.amount_received for t in txns) == plan.buyer_pays

    # Cek Transaksi answers for each milestone's own reference; the plan page lists them all.
    for txn in txns:
        page = client.get(reverse("pages:check_transaction"), {"reference": txn.reference})
        assert page.status_code == 200 and 'data-testid="public-transaction"' in page.content.decode()
    client.force_login(seller)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert all(t.reference in page for t in txns)


def test_milestone_by_milestone_plan_to_the_last_payout(faspay, sendme, seller, buyer):
    verified_bank(seller)
    plan = propose(seller, buyer, schedule="per_milestone", amounts=(750_000, 1_250_000), fee_payer="split")
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, second = children(plan)
    assert second is None  # not payable before the first is confirmed

    pay_at_sandbox(faspay, first, buyer)
    deliver(first)
    with pytest.raises(services.MilestonePlanError):
        services.milestone_open(plan=plan, position=2, actor=buyer)
    escrow_services.escrow_confirm(escrow_transaction=first, buyer=buyer)
    assert status(first) == Status.DISBURSED
    call_command("ledger_check")

    second = services.milestone_open(plan=plan, position=2, actor=buyer)
    pay_at_sandbox(faspay, second, buyer)
    deliver(second)
    escrow_services.escrow_confirm(escrow_transaction=second, buyer=buyer)
    assert status(second) == Status.DISBURSED
    call_command("ledger_check")

    plan.refresh_from_db()
    txns = children(plan)
    assert fee_revenue(txns) == plan.fee_amount == 15_000
    assert sum(t.seller_fee for t in txns) == plan.seller_fee == 7_500
    paid_out = sum(d.amount for d in Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED))
    assert paid_out == plan.seller_receives
