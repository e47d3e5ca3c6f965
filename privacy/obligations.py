"""What still needs the people of a transaction: every obligation that can still be in motion when
the retention clock says the transaction's records are old enough.

This is the one place the retention job (``privacy.purge``) asks before it removes anything around
an escrow transaction — its own fields and timeline, its refund requests and their documents, its
dispute conversations, its return shipments, its payout accounts. While any obligation below is
in motion, someone still has to act with the parties' names, addresses, contacts or accounts
(UU PDP Pasal 20 ayat (2) huruf b and c: a contract being performed, a legal obligation), so
nothing of the transaction is removed. A retention period then counts from the moment the last
of them finished, not from the day the transaction closed: ``in_motion(since=cutoff)`` also names
the transactions whose obligation finished after the cutoff, and ``last_finished`` reads that
moment for the people told how long their records stay (``privacy.selectors.erasure_kept``). Both
are built from the same two halves of each obligation below — what is in motion now, and when a
finished one ended — so the purge and what a person is told cannot disagree.

The obligations (each read from the app that owns it, in its own words of "not finished"):

* the transaction itself is not closed (``transactions.models.CLOSED_STATES``);
* a payment arrived and is not verified yet (a late or double payment is owed back, refund policy:
  "pembayaran ganda/berulang atau transaksi gagal namun terpotong");
* a refund request is being handled (``RefundRequest.OPEN_STATUSES``);
* returned goods are on their way or waiting for someone's step
  (``refunds.selectors.return_shipments_in_motion``) — including the way back to the buyer after an
  upheld rejection, when the refund request itself is already closed as rejected;
* a payout is not completed, or one of its SendMe transfers is not final (``Disbursement.is_open``;
  the SendMe terms: an unknown outcome is asked again, never sent again);
* a dispute is not resolved;
* Finance have an open reconciliation difference on the transaction, its bills or its transfers
  (``treasury.selectors.transactions_with_open_reconciliation``).

Looked at and not obligations of a closed transaction: a milestone plan keeps its own copy of what
its next milestones need (``milestones.services`` opens them from the plan, never from an earlier
milestone's transaction), and its own personal data go when every milestone's transaction is past its
period (``milestones.selectors.plans_past_their_period``, asking ``privacy.purge`` the same
question); a partner's webhook carries only the reference and the statuses, written
when the event happened (``partners.services.webhook_event_record``); a payment link starts new transactions and needs nothing from
old ones; an erasure request is refused while any obligation of the person's is in motion
(``privacy.selectors.erasure_blockers``, which names the same ones to the person).
"""
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import BigIntegerField, BooleanField, Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast

from disbursements.models import Disbursement, Payout
from disputes.models import Dispute
from payments.models import Bill
from refunds.models import RefundRequest, ReturnShipment
from refunds.selectors import return_shipments_in_motion
from transactions.models import CLOSED_STATES, EscrowTransaction
from treasury.models import ReconciliationItem
from treasury.selectors import transactions_with_open_reconciliation


@dataclass(frozen=True)
class Obligation:
    key: str
    # ``moving()``: the primary keys of the transactions on which this obligation is in motion now.
    moving: Callable[[], QuerySet]
    # ``ends()``: when a finished one ended — querysets of rows annotated with their transaction's
    # primary key (``transaction_pk``) and the moment it ended (``finished_at``, never null). Empty
    # for an obligation that cannot end after its transaction closed.
    ends: Callable[[], tuple[QuerySet, ...]] = lambda: ()


def _ended(queryset: QuerySet, *, transaction: str, at: str) -> QuerySet:
    return queryset.filter(**{f"{at}__isnull": False}).annotate(transaction_pk=F(transaction), finished_at=F(at))


_CLOSED = Q(status__in=CLOSED_STATES, closed_at__isnull=False)


def _transaction_open():
    return EscrowTransaction.objects.exclude(_CLOSED).values("pk")


def _transaction_closed():
    return (_ended(EscrowTransaction.objects.filter(_CLOSED), transaction="pk", at="closed_at"),)


def _payment_unverified():
    # Only the waiting is an obligation: once verified, money that is not the transaction's (a late or
    # double payment) is owed back through a refund request, an obligation of its own; a payment
    # verified before the transaction closed ended with it.
    return Bill.objects.filter(status=Bill.Status.PAID).values("escrow_transaction_id")


def _refund_request_open():
    return RefundRequest.objects.filter(status__in=RefundRequest.OPEN_STATUSES).values("escrow_transaction_id")


def _refund_request_closed():
    return (_ended(RefundRequest.objects.all(), transaction="escrow_transaction_id", at="completed_at"),)


def _return_shipment_moving():
    return return_shipments_in_motion().values("refund_request__escrow_transaction_id")


def _return_shipment_ended():
    # Where ``refunds.selectors.return_shipments_in_motion`` leaves a return: its goods accepted at
    # the seller (at inspection, or by INTRASA's decision on a rejection), or back with the buyer
    # after an upheld rejection.
    statuses = ReturnShipment.Status
    transaction = "refund_request__escrow_transaction_id"
    accepted = ReturnShipment.objects.filter(status=statuses.ACCEPTED)
    return (_ended(ReturnShipment.objects.filter(status=statuses.BACK_WITH_BUYER), transaction=transaction,
                   at="back_with_buyer_at"),
            _ended(accepted, transaction=transaction, at="inspected_at"),
            _ended(accepted, transaction=transaction, at="decided_at"))


def _payout_open():
    return Payout.objects.exclude(status=Payout.Status.COMPLETED).values("escrow_transaction_id")


def _payout_completed():
    return (_ended(Payout.objects.all(), transaction="escrow_transaction_id", at="completed_at"),)


def _transfer_open():
    # Disbursement.is_open decides which states are not final; asked per state so it stays the one rule.
    open_states = [status for status in Disbursement.Status.values if Disbursement(status=status).is_open]
    return Disbursement.objects.filter(status__in=open_states).values("payout__escrow_transaction_id")


def _transfer_final():
    return (_ended(Disbursement.objects.all(), transaction="payout__escrow_transaction_id", at="completed_at"),)


def _dispute_unresolved():
    # A resolution moves the transaction on (release, refund or split), so it never ends after the
    # transaction closes: only an unresolved dispute is in motion.
    return Dispute.objects.exclude(status=Dispute.Status.RESOLVED).values("escrow_transaction_id")


def _reconciliation_open():
    return transactions_with_open_reconciliation()


def _reconciliation_resolved():
    # The items ``treasury.selectors.transactions_with_open_reconciliation`` reads, once resolved: on
    # the transaction itself, on one of its bills or on one of its SendMe transfers (named generically,
    # by label and primary key as text).
    def on(model):
        return (ReconciliationItem.objects.filter(object_type=model._meta.label).exclude(object_id="")
                .annotate(target=Cast("object_id", BigIntegerField())))

    def owner(model, field):
        return Subquery(model.objects.filter(pk=OuterRef("target")).values(field)[:1])

    return (_ended(on(EscrowTransaction), transaction="target", at="resolved_at"),
            _ended(on(Bill).annotate(owner=owner(Bill, "escrow_transaction_id")), transaction="owner",
                   at="resolved_at"),
            _ended(on(Disbursement).annotate(owner=owner(Disbursement, "payout__escrow_transaction_id")),
                   transaction="owner", at="resolved_at"))


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("transaction", _transaction_open, _transaction_closed),
    Obligation("payment_unverified", _payment_unverified),
    Obligation("refund_request", _refund_request_open, _refund_request_closed),
    Obligation("return_shipment", _return_shipment_moving, _return_shipment_ended),
    Obligation("payout", _payout_open, _payout_completed),
    Obligation("transfer", _transfer_open, _transfer_final),
    Obligation("dispute", _dispute_unresolved),
    Obligation("reconciliation", _reconciliation_open, _reconciliation_resolved),
)


def in_motion(*, since: dt.datetime | None = None, via: str = "pk") -> Q:
    """A filter for rows whose transaction (reached through ``via``: ``"pk"`` on transactions,
    ``"escrow_transaction"`` on a refund request, ...) still has an obligation in motion, or (with
    ``since``) one that finished after ``since``. The retention job excludes these rows."""
    condition = Q(pk__in=[])
    for obligation in OBLIGATIONS:
        condition |= Q(**{f"{via}__in": obligation.moving()})
        if since is not None:
            for ended in obligation.ends():
                condition |= Q(**{f"{via}__in": ended.filter(finished_at__gt=since).values("transaction_pk")})
    return condition


def last_finished(transactions: QuerySet) -> dict[int, dt.datetime | None]:
    """For each of ``transactions``, the moment its last obligation finished — the anchor its
    retention periods count from, as ``in_motion(since=...)`` counts it: a transaction is out of
    ``in_motion(since=s)`` exactly when this moment is at or before ``s``. ``None`` when an obligation
    is still in motion (no period has started yet). One query, whatever the number of transactions."""
    latest = {}
    for obligation in OBLIGATIONS:
        for number, ended in enumerate(obligation.ends()):
            latest[f"_finished_{obligation.key}_{number}"] = Subquery(
                ended.filter(transaction_pk=OuterRef("pk")).order_by("-finished_at").values("finished_at")[:1])
    moving = Case(When(in_motion(), then=Value(True)), default=Value(False), output_field=BooleanField())
    rows = transactions.order_by().annotate(_moving=moving, **latest).values("pk", "_moving", *latest)
    return {row["pk"]: None if row["_moving"] else max((row[name] for name in latest if row[name] is not None),
                                                        default=None)
            for row in rows}
