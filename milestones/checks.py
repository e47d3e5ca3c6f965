"""The ledger invariants of a milestone plan, registered with ``ledger_check`` (``ledger.checks``).

Each milestone is an ordinary escrow transaction, so ``transactions.checks`` already proves, per
milestone, paid = disbursed + refunded + fees + held (+ still payable). Over the plan:

* ``plan-paid-equals-accounted``: the same equation over the plan's milestones together — what the
  buyer paid for the plan (one shared bill up front, or milestone by milestone) is paid out,
  refunded, earned as fees or still held, milestone by milestone;
* ``plan-fees-within-plan``: the fee revenue of the plan's milestones never exceeds the fee the
  plan computed once on its whole value (a refund may lower it, nothing may raise it).

A milestone re-opened after its transaction ended unpaid keeps only its current transaction on the
plan; the one it replaced held nothing (a late payment to it is owed back, checked per transaction).
"""
from collections import defaultdict

from ledger.checks import Breach, flows_by_kind, per_transaction_balances
from ledger.models import AccountCategory
from transactions.checks import money_figures

from .models import Milestone


def plan_breaches() -> list[Breach]:
    rows = (Milestone.objects.filter(escrow_transaction__isnull=False)
            .values_list("plan_id", "plan__token", "plan__fee_amount", "escrow_transaction_id"))
    plans: dict[int, list[int]] = defaultdict(list)
    about: dict[int, tuple[str, int]] = {}
    for plan_id, token, fee_amount, txn_id in rows:
        plans[plan_id].append(txn_id)
        about[plan_id] = (token, fee_amount)
    if not plans:
        return []
    balances, flows = per_transaction_balances(), flows_by_kind()
    breaches = []
    for plan_id, txn_ids in sorted(plans.items()):
        token, plan_fee = about[plan_id]
        paid = accounted = fees = 0
        for txn_id in txn_ids:
            bal = balances.get(txn_id, {})
            t_paid, disbursed, refunded, t_fees, payable = money_figures(flows.get(txn_id, {}), bal)
            paid += t_paid
            fees += t_fees
            accounted += disbursed + refunded + t_fees + payable + bal.get(AccountCategory.ESCROW_HOLD, 0)
        if paid != accounted:
            breaches.append(Breach("plan-paid-equals-accounted", f"plan {token}",
                                   f"paid {paid} != paid out, refunded, fees and held {accounted}"))
        if fees > plan_fee:
            breaches.append(Breach("plan-fees-within-plan", f"plan {token}",
                                   f"fee revenue {fees} > the plan's fee {plan_fee}"))
    return breaches
