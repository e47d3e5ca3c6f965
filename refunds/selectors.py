"""Reading refund requests with a constant number of queries per page."""

from django.db.models import CharField, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from accounts.models import PayoutDestination
from accounts.selectors import payout_destination_default
from audit.models import AuditEntry
from disbursements.models import Disbursement, Payout
from intrasa.prepared import Prepared
from workdays.calendar import working_calendar

from . import access, policy
from .models import RefundDocument, RefundRequest, ReturnShipment


def refund_requests_for(*, escrow_transaction):
    return (RefundRequest.objects.filter(escrow_transaction=escrow_transaction)
            .select_related("destination", "payout", "handler", "return_shipment", "bill")
            .prefetch_related("documents", "payout__parts__destination").order_by("created_at"))


def refund_requests_on_transaction_page(*, escrow_transaction) -> list[RefundRequest]:
    """The requests the transaction page's dispute card lists, each with its return shipment (if any),
    in one query whose SQL is compiled once per process (``intrasa.prepared``). Each request's
    ``escrow_transaction`` is the one given (no query)."""
    requests = _ON_TRANSACTION_PAGE.rows(transaction_pk=escrow_transaction.pk)
    for request in requests:
        request.escrow_transaction = escrow_transaction
    return requests


def _on_transaction_page(*, transaction_pk: int):
    return (RefundRequest.objects.filter(escrow_transaction_id=transaction_pk)
            .select_related("return_shipment").order_by("created_at"))


_ON_TRANSACTION_PAGE = Prepared(_on_transaction_page, transaction_pk=int)


def refund_transfers(*, refund_request) -> list:
    """The transfers that actually reached the buyer for this request (SendMe reported them paid):
    amount, when, and where (``destination.label``, masked). Uses the prefetched parts."""
    if refund_request.payout_id is None:
        return []
    return [part for part in refund_request.payout.parts.all() if part.status == Disbursement.Status.SUCCEEDED]


# An account whose holder name was found to be someone else's (by the bank's inquiry, or by Finance for
# an e-wallet), or that cannot receive at all: no refund can go there (``policy``: substitute accounts).
REFUSED_FOR_REFUNDS = ("name_mismatch", "invalid")


def refund_accounts_usable(*, buyer):
    """The buyer's accounts a refund may still be sent to: the refund page offers these and no others."""
    return buyer.payout_destinations.filter(is_archived=False).exclude(verification__in=REFUSED_FOR_REFUNDS)


# The audit row Finance's e-wallet check writes (``accounts.services.payout_destination_review_ewallet``):
# its ``reason`` is what Finance said, and the only place those words are kept.
EWALLET_REVIEW_ACTION = "payout_destination.ewallet_review"


def refund_accounts_refused(*, buyer) -> list:
    """The buyer's accounts no refund can go to, with the name found on them and, for an e-wallet Finance
    refused, Finance's own words (``refusal_reason``, from their latest refusal in the audit trail): the
    refund page says why they are not offered, so a buyer whose account was refused knows what to add
    instead. One query."""
    refusals = (AuditEntry.objects.filter(action=EWALLET_REVIEW_ACTION, object_type=PayoutDestination._meta.label,
                                          object_id=Cast(OuterRef("pk"), CharField()), data__confirmed=False)
                .order_by("-created_at", "-id").values("reason")[:1])
    return list(buyer.payout_destinations.filter(is_archived=False, verification__in=REFUSED_FOR_REFUNDS)
                .annotate(refusal_reason=Subquery(refusals)).order_by("created_at"))


def return_shipment_of(refund_request):
    """The request's return shipment (``None`` when the goods do not come back); a 404 for a step
    posted to a request without one."""
    from .models import ReturnShipment

    try:
        return refund_request.return_shipment
    except ReturnShipment.DoesNotExist:
        return None


def return_shipments_in_motion():
    """Returns on which someone still has a step (the steps ``services.refund_next_step`` gives): the
    goods going to the seller while the refund request is open (address, shipping, arrival,
    inspection, INTRASA's decision on a rejection), or going back to the buyer after an upheld
    rejection (``ReturnShipment.RESEND_OPEN_STATUSES``), when the request itself is already closed
    as rejected. A return whose request closed otherwise has no step left: the goods stay where they
    are. When a finished return ended is the privacy rules' question (``privacy.obligations``)."""
    statuses = ReturnShipment.Status
    still_moving = (Q(status__in=ReturnShipment.RESEND_OPEN_STATUSES)
                    | Q(refund_request__status__in=RefundRequest.OPEN_STATUSES)
                    & ~Q(status__in=[statuses.ACCEPTED, statuses.BACK_WITH_BUYER]))
    return ReturnShipment.objects.filter(still_moving)


def refund_request_get_for_buyer(*, user, pk: int) -> RefundRequest:
    try:
        return RefundRequest.objects.select_related("escrow_transaction").get(pk=pk, buyer=user)
    except RefundRequest.DoesNotExist:
        raise Http404 from None


def refund_request_get_for_seller(*, user, pk: int) -> RefundRequest:
    try:
        return RefundRequest.objects.select_related("escrow_transaction").get(pk=pk, escrow_transaction__seller=user)
    except RefundRequest.DoesNotExist:
        raise Http404 from None


def refund_document_get_for_user(*, user, pk: int) -> RefundDocument:
    """A document's file for whoever ``refunds.access`` lets see it; anyone else gets 404."""
    doc = RefundDocument.objects.select_related("request__escrow_transaction").filter(pk=pk).first()
    if doc is None or not doc.file or not access.may_see_refund_document(user, doc):
        raise Http404
    return doc


def refund_requests_visible_to(*, user, escrow_transaction) -> list[RefundRequest]:
    """The requests of a transaction ``user`` may see, each with ``shown_documents`` (the documents
    ``user`` may see) and ``shown_destination`` (the refund account, or ``None`` if not theirs to
    see): the refund page and the transaction page show nothing else."""
    shown = []
    for req in refund_requests_for(escrow_transaction=escrow_transaction):
        req.escrow_transaction = escrow_transaction  # already loaded: the checks need no query
        if not access.may_see_refund_request(user, req):
            continue
        documents = list(req.documents.all())
        for doc in documents:
            doc.request = req
        req.shown_documents = [doc for doc in documents if access.may_see_refund_document(user, doc)]
        req.shown_destination = req.destination if access.may_see_refund_account(user, req) else None
        shown.append(req)
    return shown


def refund_transfer_destination(refund_request):
    """The account an approval would pay now: the one the buyer chose for this refund, otherwise
    the buyer's default (``disbursements.services.payout_plan`` picks it the same way); ``None``
    when the buyer has none yet (the payout then waits for one)."""
    return refund_request.destination or payout_destination_default(owner=refund_request.buyer)


# --- The refund-by date (``policy``: the refund-by date) ---------------------------------------------
#
# The one place that reads where a refund stands and turns it into ``policy.RefundClock``; every page,
# email and document that says when a refund arrives asks ``refund_request_due_by`` (one request) or
# ``refund_due_by`` (a transaction: its latest open refund), and Cek Transaksi keeps the clocks in its
# public facts (``pages.selectors``), so all of them show the same date.

def _payout_readiness(refund_request) -> str:
    """What INTRASA knows of the account the refund would be paid to (``policy.PAYOUT_STEPS``)."""
    destination = refund_request.destination or payout_destination_default(owner=refund_request.buyer_id)
    if destination is None or destination.verification in REFUSED_FOR_REFUNDS:
        return "none"
    if not policy.ewallet_name_confirmed(kind=destination.kind, verification=destination.verification):
        return "ewallet"
    return "ready"


_RETURN_STEPS = {
    # A return's status → (when its current step started, the return steps from it on).
    "awaiting_address": ("created_at", (policy.RefundStep.RETURN_ADDRESS, policy.RefundStep.RETURN_SHIPMENT,
                                        policy.RefundStep.RETURN_TRANSIT, policy.RefundStep.INSPECTION)),
    "awaiting_shipment": ("address_given_at", (policy.RefundStep.RETURN_SHIPMENT, policy.RefundStep.RETURN_TRANSIT,
                                               policy.RefundStep.INSPECTION)),
    "shipped_back": ("shipped_back_at", (policy.RefundStep.RETURN_TRANSIT, policy.RefundStep.INSPECTION)),
    "arrived": ("arrived_at", (policy.RefundStep.INSPECTION,)),
    "rejected": ("inspected_at", (policy.RefundStep.INSPECTION_DECISION,)),
}


def refund_transfer_starts_at(refund_request):
    """When the request's transfer window starts (``policy.transfer_starts_at``): the latest of its approval,
    the buyer naming the refund account, and its payout setting off to an account. Reads the loaded payout."""
    req = refund_request
    payout = req.payout if req.payout_id is not None else None
    return policy.transfer_starts_at(approved_at=req.approved_at or req.created_at,
                                     account_named_at=req.account_named_at,
                                     sent_at=payout.sending_since if payout is not None else None)


def refund_transfer_window(refund_request, *, calendar=None):
    """``(earliest, latest)`` the transfer reaches the buyer once it is on its way — approved and its payout
    paying an account (``policy.transfer_arrives_between`` from ``refund_transfer_starts_at``) — else ``None``:
    the window has not started."""
    req = refund_request
    if req.status != RefundRequest.Status.PAYING or req.payout_id is None \
            or req.payout.status != Payout.Status.IN_PROGRESS:
        return None
    return policy.transfer_arrives_between(refund_transfer_starts_at(req), req.payment_family,
                                           calendar or working_calendar())


def refund_clock(refund_request) -> "policy.RefundClock | None":
    """Where ``refund_request`` stands (``policy.RefundClock``), or ``None`` when no refund is on its way
    to the buyer any more (refunded, rejected, or the transfer already arrived). Reads the request's
    return shipment, payout, destination and documents (``refund_requests_for`` loads them with it), and
    the buyer's default account when the request names none."""
    req = refund_request
    family = req.payment_family
    statuses = RefundRequest.Status
    if req.status in (statuses.COMPLETED, statuses.REJECTED):
        return None
    if req.status == statuses.PAYING:
        payout, approved = req.payout, req.approved_at or req.created_at
        if payout is not None and payout.status == Payout.Status.COMPLETED:
            return None
        if payout is None or payout.status == Payout.Status.AWAITING_DESTINATION:
            readiness = _payout_readiness(req) if req.destination is not None else "none"
            if readiness == "none":  # the buyer's step: counted from the approval (``ACCOUNT_STALL_WORKING_DAYS``)
                return policy.RefundClock(approved, policy.PAYOUT_STEPS["none"], family)
            # An account named, not paid yet (Finance's e-wallet check): its steps start when it was named.
            return policy.RefundClock(policy.transfer_starts_at(approved_at=approved,
                                                                account_named_at=req.account_named_at),
                                      policy.PAYOUT_STEPS[readiness], family)
        if payout.status == Payout.Status.NEEDS_ACTION:
            # Finance resolve the failed transfer from the failure, or from the new account the buyer named
            # after it (a transfer to a wrong account): then the transfer's window.
            # Since the payout came to need a person: a transfer failed, was reversed or was held
            # (``Payout.needs_action_since``), never a failure already retried.
            failed_at = payout.needs_action_since or refund_transfer_starts_at(req)
            return policy.RefundClock(max(failed_at, req.account_named_at or failed_at),
                                      (policy.RefundStep.FAILED_TRANSFER, policy.RefundStep.TRANSFER), family)
        return policy.RefundClock(refund_transfer_starts_at(req), policy.PAYOUT_STEPS["ready"], family)
    after_approval = (policy.RefundStep.APPROVAL, *policy.PAYOUT_STEPS[_payout_readiness(req)])
    if req.status == statuses.IN_REVIEW:
        return policy.RefundClock(req.documents_complete_at or req.created_at, after_approval, family)
    # Waiting for the documents: first for the goods to come back, when they do.
    shipment = return_shipment_of(req) if req.goods_return else None
    if shipment is not None and shipment.status in _RETURN_STEPS:
        field, steps = _RETURN_STEPS[shipment.status]
        return policy.RefundClock(getattr(shipment, field) or req.created_at, (*steps, *after_approval), family)
    documents = list(req.documents.all())
    since = max([req.created_at, *(d.created_at for d in documents if d.source == RefundDocument.Source.BUYER)])
    missing = policy.missing_documents(req.case, {d.kind for d in documents}, goods_return=req.goods_return)
    step = (policy.RefundStep.DOCUMENTS if any(policy.who_supplies(kind) == "buyer" for kind in missing)
            else policy.RefundStep.RECORD_DOCUMENTS)
    return policy.RefundClock(since, (step, *after_approval), family)


def refund_references_for_account(*, owner_id) -> list[str]:
    """The references of the transactions whose open refunds an account of ``owner_id`` may be an input of
    (``refund_clock`` reads the account a refund names, and the buyer's default account when it names none):
    those whose refund-by date may move when that person's accounts change. One query."""
    return list(RefundRequest.objects.filter(buyer_id=owner_id, status__in=RefundRequest.OPEN_STATUSES)
                .values_list("escrow_transaction__reference", flat=True).distinct())


def refund_request_due_by(refund_request, *, now=None, calendar=None):
    """The latest ``refund_request`` reaches the buyer (``policy.refund_reaches_buyer_by``), or ``None``."""
    clock = refund_clock(refund_request)
    if clock is None:
        return None
    return policy.refund_reaches_buyer_by(clock, now=now or timezone.now(), calendar=calendar or working_calendar())


def refund_clocks(*, escrow_transaction) -> list:
    """The clocks of the transaction's open refunds (those still on their way to the buyer)."""
    requests = (RefundRequest.objects.filter(escrow_transaction=escrow_transaction,
                                             status__in=RefundRequest.OPEN_STATUSES)
                .select_related("destination", "payout", "return_shipment").prefetch_related("documents"))
    return [clock for clock in map(refund_clock, requests) if clock is not None]


def refund_due_by(*, escrow_transaction, now=None, calendar=None):
    """The latest the transaction's open refunds all reach the buyer, or ``None`` when none is on its way."""
    clocks = refund_clocks(escrow_transaction=escrow_transaction)
    return latest_refund_due_by(clocks, now=now, calendar=calendar)


def latest_refund_due_by(clocks, *, now=None, calendar=None):
    """The latest of ``clocks``' refund-by dates (``None`` without a clock)."""
    if not clocks:
        return None
    now, calendar = now or timezone.now(), calendar or working_calendar()
    return max(policy.refund_reaches_buyer_by(clock, now=now, calendar=calendar) for clock in clocks)
