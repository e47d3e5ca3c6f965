"""The transaction-level ledger invariants of DESIGN.md §4.3 (see ``ledger.checks``), registered
with ``ledger_check``:

* ``escrow-hold-matches-state``: a transaction's escrow hold equals the amount received while it is
  in a held state (verified, shipped, disputed) and is zero in every other state;
* ``escrow-liability-total``: all escrow holds together equal the money held for open transactions;
* ``paid-equals-accounted``: paid (including return shipping INTRASA advanced to the buyer, less a
  unique-code discount a refund took back and no refused refund restored) =
  disbursed + refunded (by INTRASA, or by the payment provider taking the payment back) + fees + still
  held + still payable;
* ``no-negative-accounts``: no per-transaction account is negative.
"""
from django.db.models import Sum

from ledger.checks import Breach, flows_by_kind, per_transaction_balances
from ledger.models import AccountCategory, EntryKind, Posting
from ledger.selectors import SIGNED, normal_balance

from .models import HELD_STATES, EscrowTransaction


def money_figures(flow: dict, bal: dict) -> tuple[int, int, int, int, int]:
    """One transaction's (paid, disbursed, refunded, fees, still payable), from its ``flows_by_kind``
    and ``per_transaction_balances``: paid must equal the others plus what is still held."""
    paid = (flow.get((EntryKind.PAYMENT_VERIFIED, AccountCategory.ESCROW_HOLD, "C"), 0)
            + flow.get((EntryKind.PAYMENT_UNMATCHED, AccountCategory.BUYER_REFUND_PAYABLE, "C"), 0)
            # Return shipping INTRASA advanced to the buyer (refunds.policy: seller's fault, PP).
            + flow.get((EntryKind.RETURN_SHIPPING_ADVANCED, AccountCategory.BUYER_REFUND_PAYABLE, "C"), 0)
            # ... less an advance taken back when the refund was refused (refunds.policy: refused returns),
            - flow.get((EntryKind.REVERSAL, AccountCategory.BUYER_PROTECTION_COST, "C"), 0)
            # ... and less a bank transfer's unique-code discount taken back by a refund in full (the buyer
            # gets what they paid: ``transactions.services.transaction_refund``), unless a refused refund's
            # release restored it.
            - flow.get((EntryKind.ESCROW_REFUND, AccountCategory.PAYMENT_DISCOUNT, "C"), 0)
            + flow.get((EntryKind.ESCROW_RELEASE, AccountCategory.PAYMENT_DISCOUNT, "D"), 0)
            # ... and less the discount a payment the provider took back returned to INTRASA.
            - flow.get((EntryKind.PAYMENT_TAKEN_BACK, AccountCategory.PAYMENT_DISCOUNT, "C"), 0))
    fees = (flow.get((EntryKind.ESCROW_RELEASE, AccountCategory.FEE_REVENUE, "C"), 0)
            - flow.get((EntryKind.REVERSAL, AccountCategory.FEE_REVENUE, "D"), 0))
    disbursed = (flow.get((EntryKind.PAYOUT, AccountCategory.SELLER_PAYABLE, "D"), 0)
                 - flow.get((EntryKind.PAYOUT_REVERSED, AccountCategory.SELLER_PAYABLE, "C"), 0))
    refunded = (flow.get((EntryKind.REFUND_SENT, AccountCategory.BUYER_REFUND_PAYABLE, "D"), 0)
                - flow.get((EntryKind.PAYOUT_REVERSED, AccountCategory.BUYER_REFUND_PAYABLE, "C"), 0)
                # Returned to the buyer by the payment provider itself (a reversal staff booked): from the hold,
                # or what was owed back to the buyer and not yet sent.
                + flow.get((EntryKind.PAYMENT_TAKEN_BACK, AccountCategory.ESCROW_HOLD, "D"), 0)
                + flow.get((EntryKind.PAYMENT_TAKEN_BACK, AccountCategory.BUYER_REFUND_PAYABLE, "D"), 0)
                - flow.get((EntryKind.PAYMENT_TAKEN_BACK, AccountCategory.PAYMENT_DISCOUNT, "C"), 0))
    payable = bal.get(AccountCategory.SELLER_PAYABLE, 0) + bal.get(AccountCategory.BUYER_REFUND_PAYABLE, 0)
    return paid, disbursed, refunded, fees, payable


def transaction_breaches() -> list[Breach]:
    breaches = []
    balances = per_transaction_balances()
    flows = flows_by_kind()
    txns = EscrowTransaction.objects.filter(pk__in=set(balances) | set(flows)).values_list(
        "pk", "reference", "status", "amount_received")
    for pk, reference, status, received in txns:
        bal = balances.get(pk, {})
        held = bal.get(AccountCategory.ESCROW_HOLD, 0)
        expected_held = (received or 0) if status in HELD_STATES else 0
        if held != expected_held:
            breaches.append(Breach("escrow-hold-matches-state", reference,
                                   f"status {status}: hold {held}, expected {expected_held}"))
        for category, amount in bal.items():
            if amount < 0:
                breaches.append(Breach("no-negative-accounts", reference, f"{category} is {amount}"))
        paid, disbursed, refunded, fees, payable = money_figures(flows.get(pk, {}), bal)
        accounted = disbursed + refunded + fees + held + payable
        if paid != accounted:
            breaches.append(Breach(
                "paid-equals-accounted", reference,
                f"paid {paid} != disbursed {disbursed} + refunded {refunded} + fees {fees} + held "
                f"{held} + payable {accounted - disbursed - refunded - fees - held}"))
    return breaches


def escrow_liability_breaches() -> list[Breach]:
    """The total of all escrow holds equals the money held for open transactions."""
    total_hold = normal_balance(AccountCategory.ESCROW_HOLD, Posting.objects.filter(
        account__category=AccountCategory.ESCROW_HOLD).aggregate(t=Sum(SIGNED))["t"] or 0)
    expected = EscrowTransaction.objects.filter(status__in=HELD_STATES).aggregate(
        t=Sum("amount_received"))["t"] or 0
    if total_hold != expected:
        return [Breach("escrow-liability-total", "all transactions",
                       f"escrow holds {total_hold} != held for open transactions {expected}")]
    return []


def transaction_ledger_breaches() -> list[Breach]:
    return escrow_liability_breaches() + transaction_breaches()
