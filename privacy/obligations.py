"""What still needs the people of a transaction: every obligation that can still be in motion when
the retention clock says the transaction's records are old enough.

This is the one place the retention job (``privacy.purge``) asks before it removes anything around
an escrow transaction — its own fields and timeline, its refund requests and their documents, its
dispute conversations, its return shipments, its payout accounts. While any obligation below is
in motion, someone still has to act with the parties' names, addresses, contacts or accounts
(UU PDP Pasal 20 ayat (2) huruf b and c: a contract being performed, a legal obligation), so
nothing of the transaction is removed. A retention period then counts from the moment the last
of them finished, not from the day the transaction closed: ``in_motion(since=cutoff)`` also names
the transactions whose obligation finished after the cutoff.

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
milestone's transaction); a partner's webhook carries only the reference and the statuses, written
when the event happened (``partners.services.webhook_event_record``); a payment link starts new transactions and needs nothing from
old ones; an erasure request is refused while any obligation of the person's is in motion
(``privacy.selectors.erasure_blockers``, which names the same ones to the person).
"""
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from disbursements.models import Disbursement, Payout
from disputes.models import Dispute
from payments.models import Bill
from refunds.models import RefundRequest
from refunds.selectors import return_shipments_in_motion
from transactions.models import CLOSED_STATES, EscrowTransaction
from treasury.selectors import transactions_with_open_reconciliation


@dataclass(frozen=True)
class Obligation:
    key: str
    # ``transactions(since)``: the primary keys of the transactions on which this obligation is in
    # motion, or (``since`` given) finished after ``since``.
    transactions: Callable[[dt.datetime | None], QuerySet]


def _finished_after(field: str, since: dt.datetime | None) -> Q:
    return Q(**{f"{field}__gt": since}) if since is not None else Q(pk__in=[])


def _transaction_open(since):
    closed = Q(status__in=CLOSED_STATES, closed_at__isnull=False)
    return EscrowTransaction.objects.filter(~closed | _finished_after("closed_at", since)).values("pk")


def _payment_unverified(since):
    # Only the waiting is an obligation: once verified, money that is not the transaction's (a late or
    # double payment) is owed back through a refund request, an obligation of its own; a payment
    # verified before the transaction closed ended with it.
    return Bill.objects.filter(status=Bill.Status.PAID).values("escrow_transaction_id")


def _refund_request(since):
    return (RefundRequest.objects.filter(Q(status__in=RefundRequest.OPEN_STATUSES)
                                         | _finished_after("completed_at", since))
            .values("escrow_transaction_id"))


def _return_shipment(since):
    return return_shipments_in_motion(finished_after=since).values("refund_request__escrow_transaction_id")


def _payout(since):
    return (Payout.objects.filter(~Q(status=Payout.Status.COMPLETED) | _finished_after("completed_at", since))
            .values("escrow_transaction_id"))


def _transfer(since):
    # Disbursement.is_open decides which states are not final; asked per state so it stays the one rule.
    open_states = [status for status in Disbursement.Status.values if Disbursement(status=status).is_open]
    return (Disbursement.objects.filter(Q(status__in=open_states) | _finished_after("completed_at", since))
            .values("payout__escrow_transaction_id"))


def _dispute(since):
    # A resolution moves the transaction on (release, refund or split), so it never ends after the
    # transaction closes: only an unresolved dispute is in motion.
    return Dispute.objects.exclude(status=Dispute.Status.RESOLVED).values("escrow_transaction_id")


def _reconciliation(since):
    return transactions_with_open_reconciliation(resolved_after=since)


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("transaction", _transaction_open),
    Obligation("payment_unverified", _payment_unverified),
    Obligation("refund_request", _refund_request),
    Obligation("return_shipment", _return_shipment),
    Obligation("payout", _payout),
    Obligation("transfer", _transfer),
    Obligation("dispute", _dispute),
    Obligation("reconciliation", _reconciliation),
)


def in_motion(*, since: dt.datetime | None = None, via: str = "pk") -> Q:
    """A filter for rows whose transaction (reached through ``via``: ``"pk"`` on transactions,
    ``"escrow_transaction"`` on a refund request, ...) still has an obligation in motion, or (with
    ``since``) one that finished after ``since``. The retention job excludes these rows."""
    condition = Q(pk__in=[])
    for obligation in OBLIGATIONS:
        condition |= Q(**{f"{via}__in": obligation.transactions(since)})
    return condition
