"""Reading balances. Every balance is derived from postings."""
from django.db.models import BigIntegerField, Case, F, Sum, When

from intrasa.prepared import Prepared

from .models import DEBIT_NORMAL, Account, Posting
from .models import AccountCategory as A
from .models import EntryKind as K

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


def transaction_discount(*, escrow_transaction, as_funded: bool = False) -> int:
    """The unique-code discount INTRASA added to this transaction's escrow when a bank transfer funded
    it (the buyer transferred that much less), less what a refund took back: the part of the hold
    the buyer never paid. ``as_funded``: the discount the funding added, whatever happened since. One query."""
    postings = Posting.objects.filter(entry__escrow_transaction=escrow_transaction, account__category=A.PAYMENT_DISCOUNT)
    if as_funded:
        postings = postings.filter(entry__kind=K.PAYMENT_VERIFIED)
    return normal_balance(A.PAYMENT_DISCOUNT, postings.aggregate(total=Sum(SIGNED))["total"] or 0)


def transaction_discount_taken_back(*, escrow_transaction) -> int:
    """The unique-code discount a refund in full took back from this transaction's escrow
    (``transaction_discount``) and no later release gave back to it: what a refund refused after all
    restores, so the seller is paid as on any release. One query."""
    total = (Posting.objects.filter(entry__escrow_transaction=escrow_transaction, account__category=A.PAYMENT_DISCOUNT,
                                    entry__kind__in=[K.ESCROW_REFUND, K.ESCROW_RELEASE])
             .aggregate(total=Sum(SIGNED))["total"] or 0)
    return max(-total, 0)  # credits (taken back) less debits (restored)


def transaction_balances(*, escrow_transaction) -> dict[str, int]:
    """Balances of the per-transaction accounts of one transaction, in one query."""
    rows = (
        Posting.objects.filter(account__escrow_transaction=escrow_transaction)
        .values("account__category").annotate(total=Sum(SIGNED))
    )
    return {row["account__category"]: normal_balance(row["account__category"], row["total"]) for row in rows}


def transactions_seller_payable(*, ids) -> dict[int, int]:
    """What each of the transactions ``ids`` still owes its seller (seller payable), in one query;
    a transaction with nothing posted there is absent (0)."""
    rows = (
        Posting.objects.filter(account__escrow_transaction_id__in=ids, account__category=A.SELLER_PAYABLE)
        .values("account__escrow_transaction_id").annotate(total=Sum(SIGNED))
    )
    return {row["account__escrow_transaction_id"]: normal_balance(A.SELLER_PAYABLE, row["total"]) for row in rows}


def transaction_postings(*, escrow_transaction):
    """The ledger lines that concern one transaction (for its timeline and documents)."""
    return (
        Posting.objects.filter(entry__escrow_transaction=escrow_transaction)
        .select_related("entry", "account").order_by("entry__posted_at", "entry_id", "id")
    )


# What the transaction page reads of a ledger line: who may see it (``refunds.access.visible_postings``:
# its entry and its account's category), the money statement (``money_statement``: the entry's kind,
# the side, the amount) and which documents exist (``documents.selectors``: the account's category).
MONEY_LINE_FIELDS = ("entry_id", "side", "amount", "entry__kind", "account__category")


def transaction_money_lines(*, escrow_transaction) -> list[Posting]:
    """``transaction_postings`` with only the columns the transaction page reads (``MONEY_LINE_FIELDS``),
    for a page shown on every visit: the memo, the idempotency key and the timestamps of each line's
    entry and account are not selected. Reading any other field of these lines costs a query per line.
    Its SQL is compiled once per process (``intrasa.prepared``)."""
    return _MONEY_LINES.rows(transaction_pk=escrow_transaction.pk)


def _money_lines(*, transaction_pk: int):
    # ``transaction_postings`` itself (a primary key stands for the transaction in its lookup).
    return transaction_postings(escrow_transaction=transaction_pk).only(*MONEY_LINE_FIELDS)


_MONEY_LINES = Prepared(_money_lines, transaction_pk=int)


def money_statement(postings) -> dict[str, int]:
    """A transaction's money in plain words, from its already loaded ``postings`` (no query): what the
    buyer paid, INTRASA's bank-transfer discount (the unique code) on top of it, the service fee, what
    INTRASA still holds, what is waiting for and what has reached the seller and the buyer. The same
    flows as ``transactions.checks`` (paid + discount = paid out + refunded + returned by the payment provider
    + fees + still held), so
    the customer's statement and the ledger check cannot disagree.

    Customers see this instead of the double-entry lines, which stay for staff (admin, evidence)."""
    flow: dict[tuple[str, str, str], int] = {}
    balance: dict[str, int] = {}
    for p in postings:
        key = (p.entry.kind, p.account.category, p.side)
        flow[key] = flow.get(key, 0) + p.amount
        signed = p.amount if p.side == Posting.Side.DEBIT else -p.amount
        balance[p.account.category] = balance.get(p.account.category, 0) + signed
    owed = {category: normal_balance(category, total) for category, total in balance.items()}
    # A bank transfer's unique code: INTRASA's discount, added to the escrow when it was funded (the buyer
    # transferred that much less), taken back by a refund in full, restored if that refund was refused.
    funding_discount = flow.get((K.PAYMENT_VERIFIED, A.PAYMENT_DISCOUNT, "D"), 0)
    return {
        "paid": flow.get((K.PAYMENT_VERIFIED, A.ESCROW_HOLD, "C"), 0) - funding_discount
        + flow.get((K.PAYMENT_UNMATCHED, A.BUYER_REFUND_PAYABLE, "C"), 0),
        "discount": funding_discount - flow.get((K.ESCROW_REFUND, A.PAYMENT_DISCOUNT, "C"), 0)
        + flow.get((K.ESCROW_RELEASE, A.PAYMENT_DISCOUNT, "D"), 0)
        - flow.get((K.PAYMENT_TAKEN_BACK, A.PAYMENT_DISCOUNT, "C"), 0),
        "fee": flow.get((K.ESCROW_RELEASE, A.FEE_REVENUE, "C"), 0) - flow.get((K.REVERSAL, A.FEE_REVENUE, "D"), 0),
        "held": owed.get(A.ESCROW_HOLD, 0),
        "seller_pending": owed.get(A.SELLER_PAYABLE, 0),
        "paid_out": flow.get((K.PAYOUT, A.SELLER_PAYABLE, "D"), 0)
        - flow.get((K.PAYOUT_REVERSED, A.SELLER_PAYABLE, "C"), 0),
        "refund_pending": owed.get(A.BUYER_REFUND_PAYABLE, 0),
        "refunded": flow.get((K.REFUND_SENT, A.BUYER_REFUND_PAYABLE, "D"), 0)
        - flow.get((K.PAYOUT_REVERSED, A.BUYER_REFUND_PAYABLE, "C"), 0),
        # The payment provider took the payment back while INTRASA held it (a reversal staff booked).
        "returned_by_provider": flow.get((K.PAYMENT_TAKEN_BACK, A.ESCROW_HOLD, "D"), 0)
        + flow.get((K.PAYMENT_TAKEN_BACK, A.BUYER_REFUND_PAYABLE, "D"), 0)
        - flow.get((K.PAYMENT_TAKEN_BACK, A.PAYMENT_DISCOUNT, "C"), 0),
    }


def transaction_fee_booked(*, escrow_transaction) -> int:
    """INTRASA's service fee booked on one transaction so far (released fee less reversed fee): the
    same flows as ``transactions.checks`` count as fees."""
    rows = (Posting.objects.filter(entry__escrow_transaction=escrow_transaction, account__category=A.FEE_REVENUE)
            .values("entry__kind", "side").annotate(total=Sum("amount")))
    flow = {(row["entry__kind"], row["side"]): row["total"] for row in rows}
    return flow.get((K.ESCROW_RELEASE, Posting.Side.CREDIT), 0) - flow.get((K.REVERSAL, Posting.Side.DEBIT), 0)
