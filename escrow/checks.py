"""No money without an owner: every Rupiah the ledger says is owed has the object that carries it
to its person (run by ``ledger_check`` and the nightly ledger job).

* ``refund-payable-has-request``: a transaction whose buyer refund payable is positive has a refund
  request that is open (awaiting documents, in review, or being paid) — else the buyer's money sits
  owed with nobody working to return it. A rejected request carries nothing: a rejection never leaves
  booked money behind (``refunds.policy``: rejections).
* ``seller-payable-has-payout``: a transaction whose seller payable is positive has a seller payout
  that is not completed — else the seller's money sits owed with no transfer planned.

These are what a flow that forgot a step leaves behind (the bug class of signal-driven follow-ups),
so they are checked on the books themselves, whatever path moved the money.
"""
from django.db.models import Sum

from disbursements.models import Payout
from ledger.checks import Breach
from ledger.models import AccountCategory, Posting
from ledger.selectors import SIGNED, normal_balance
from refunds.models import RefundRequest
from transactions.models import EscrowTransaction

OWED = {AccountCategory.BUYER_REFUND_PAYABLE: "refund-payable-has-request",
        AccountCategory.SELLER_PAYABLE: "seller-payable-has-payout"}


def _positive_balances(category: str) -> dict[int, int]:
    rows = (Posting.objects.filter(account__category=category, account__escrow_transaction__isnull=False)
            .values("account__escrow_transaction").annotate(total=Sum(SIGNED)))
    balances = {row["account__escrow_transaction"]: normal_balance(category, row["total"]) for row in rows}
    return {pk: amount for pk, amount in balances.items() if amount > 0}


def owed_money_breaches() -> list[Breach]:
    owed_buyers = _positive_balances(AccountCategory.BUYER_REFUND_PAYABLE)
    owed_sellers = _positive_balances(AccountCategory.SELLER_PAYABLE)
    with_request = set(RefundRequest.objects.filter(
        escrow_transaction__in=owed_buyers, status__in=RefundRequest.OPEN_STATUSES)
                       .values_list("escrow_transaction", flat=True))
    with_payout = set(Payout.objects.filter(escrow_transaction__in=owed_sellers,
                                            purpose=Payout.Purpose.SELLER_PAYOUT)
                      .exclude(status=Payout.Status.COMPLETED).values_list("escrow_transaction", flat=True))
    orphans = [(pk, amount, AccountCategory.BUYER_REFUND_PAYABLE) for pk, amount in owed_buyers.items()
               if pk not in with_request]
    orphans += [(pk, amount, AccountCategory.SELLER_PAYABLE) for pk, amount in owed_sellers.items()
                if pk not in with_payout]
    references = dict(EscrowTransaction.objects.filter(pk__in=[pk for pk, _a, _c in orphans])
                      .values_list("pk", "reference"))
    return [Breach(OWED[category], references.get(pk, f"#{pk}"),
                   f"{amount} owed ({category}) with nothing carrying it to its person")
            for pk, amount, category in orphans]
