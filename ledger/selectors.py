"""Reading balances. Every balance is derived from postings."""
from django.db.models import Case, F, Sum, When
from django.db.models import BigIntegerField

from .models import DEBIT_NORMAL, Account, Posting

SIGNED = Case(
    When(side=Posting.Side.DEBIT, then=F("amount")),
    default=-F("amount"),
    output_field=BigIntegerField(),
)


def normal_balance(category: str, debit_minus_credit: int) -> int:
    """Balances are shown on the account's normal side: assets as debits, the rest as credits."""
    return debit_minus_credit if category in DEBIT_NORMAL else -debit_minus_credit


def account_balance(*, account: Account) -> int:
    total = account.postings.aggregate(total=Sum(SIGNED))["total"] or 0
    return normal_balance(account.category, total)


def category_balance(*, category: str) -> int:
    """Sum over every account of ``category`` (e.g. all escrow holds together)."""
    total = Posting.objects.filter(account__category=category).aggregate(total=Sum(SIGNED))["total"] or 0
    return normal_balance(category, total)


def transaction_balances(*, escrow_transaction) -> dict[str, int]:
    """Balances of the per-transaction accounts of one transaction, in one query."""
    rows = (
        Posting.objects.filter(account__escrow_transaction=escrow_transaction)
        .values("account__category").annotate(total=Sum(SIGNED))
    )
    return {row["account__category"]: normal_balance(row["account__category"], row["total"]) for row in rows}


def transaction_postings(*, escrow_transaction):
    """The ledger lines that concern one transaction (for its timeline and documents)."""
    return (
        Posting.objects.filter(entry__escrow_transaction=escrow_transaction)
        .select_related("entry", "account").order_by("entry__posted_at", "entry_id", "id")
    )
