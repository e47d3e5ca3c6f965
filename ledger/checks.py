"""The ledger invariants of DESIGN.md §4.3, as functions that return every breach they find.

The ledger knows no transaction states (it sits below the transactions app), so rules 2–4 are the
transactions app's cross-checks (``transactions/checks.py``), registered here through
``register_cross_check`` like every app's; ``ledger_breaches`` runs them all.

1. Every journal entry balances (debits = credits) and has at least two postings.
2. The escrow liability equals the money held for open transactions: a transaction's escrow hold
   equals the amount received while it is in a held state (verified, shipped, disputed) and is zero
   in every other state — so the hold of a closed transaction is zero.
3. For every transaction, what was paid in (into escrow, or owed straight back to the buyer as a
   double, short or excess payment) equals what went out or is still owed:
   paid = disbursed + refunded + fees + still held + still payable (seller and buyer).
4. No per-transaction account is negative.

Queries are aggregated per transaction (a few queries in all, not one per transaction).
"""
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import BigIntegerField, Case, Count, F, Sum, When

from .models import JournalEntry, Posting
from .selectors import SIGNED, normal_balance

# SIGNED (debit positive, credit negative) seen from a journal entry through its postings.
SIGNED_POSTINGS = Case(
    When(postings__side=Posting.Side.DEBIT, then=F("postings__amount")),
    default=-F("postings__amount"),
    output_field=BigIntegerField(),
)


@dataclass(frozen=True)
class Breach:
    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.detail}"


def unbalanced_entries() -> list[Breach]:
    rows = (JournalEntry.objects.annotate(net=Sum(SIGNED_POSTINGS), lines=Count("postings"))
            .exclude(net=0, lines__gte=2).values_list("pk", "idempotency_key", "net", "lines"))
    return [Breach("balanced-entries", f"entry #{pk} {key}", f"net {net}, {lines} postings")
            for pk, key, net, lines in rows]


def per_transaction_balances() -> dict[int, dict[str, int]]:
    balances: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (Posting.objects.filter(account__escrow_transaction__isnull=False)
            .values("account__escrow_transaction", "account__category").annotate(total=Sum(SIGNED)))
    for row in rows:
        balances[row["account__escrow_transaction"]][row["account__category"]] = normal_balance(
            row["account__category"], row["total"])
    return balances


def flows_by_kind() -> dict[int, dict[tuple[str, str], int]]:
    """Per transaction: amounts per (entry kind, account category) credited or debited."""
    flows: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    rows = (Posting.objects.filter(entry__escrow_transaction__isnull=False)
            .values("entry__escrow_transaction", "entry__kind", "account__category", "side")
            .annotate(total=Sum("amount")))
    for row in rows:
        key = (row["entry__kind"], row["account__category"], row["side"])
        flows[row["entry__escrow_transaction"]][key] += row["total"]
    return flows


# Cross-checks between the ledger and the apps above it (DESIGN.md §2: the ledger imports none
# of them). Each app registers its own in ``AppConfig.ready``: payments checks that what was
# collected is what was booked, disputes that a disputed transaction has its dispute, and so on.
# ``ledger_check`` and the nightly job run them all.
_CROSS_CHECKS: list = []


def register_cross_check(check):
    """Add ``check`` (a callable returning a list of ``Breach``) to every ledger check run."""
    if check not in _CROSS_CHECKS:
        _CROSS_CHECKS.append(check)
    return check


def ledger_breaches() -> list[Breach]:
    breaches = unbalanced_entries()
    for check in _CROSS_CHECKS:
        breaches += check()
    return breaches
