"""The refund engine: every change to a refund request goes through a function here.

A request starts automatically when money becomes owed back to a buyer — the escrow is refunded
(``transactions.signals.escrow_refunded``: a seller's cancellation after payment or a dispute
decided for the buyer), a dispute ends in a split (``disputes.services``), a payment is owed back
(``payments.signals.payment_owed_back``: double, short or excess) — or from the buyer's refund page
for a charged payment INTRASA has not matched yet. Then:

1. documents: the policy's list per case (``refunds.policy.REQUIRED_DOCUMENTS``); INTRASA's own
   records count where it has them (the reference number, the verified payment, the provider's
   confirmation of a double payment); the rest come from the buyer or staff;
2. complete documents start the 2×24 working-hour verification clock (``approval_due_at``);
3. finance approves (``refunds.approve_refund``): the refund is planned as a SendMe payout from the
   transaction's buyer refund payable to the buyer's own account (policy: refund route);
4. SendMe's success posts REFUND_SENT (disbursements); ``refund_complete_paid`` closes the request,
   the documents app renders the refund receipt from that ledger line, both parties are told.
"""
import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from accounts.models import PayoutDestination
from audit.services import audit_record
from disbursements.models import Disbursement, Payout
from disbursements.rules import names_match
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import RUPIAH_CEILING, check_rupiah_range, format_rupiah
from intrasa.uploads import check_upload, private_path
from intrasa.wib import format_wib
from ledger.models import AccountCategory, EntryKind
from ledger.selectors import transaction_balances, transaction_discount
from ledger.services import credit, debit, entry_post
from notifications.services import notify
from payments.models import Bill
from payments.selectors import bill_funding, payment_reversed
from transactions.models import Category, Courier
from workdays.calendar import working_calendar

from . import policy
from .models import RefundDocument, RefundRequest, ReturnShipment, ShortShipmentClaim
from .policy import Document, PaymentFamily, RefundCase
from .selectors import (
    refund_request_due_by,
    refund_transfer_destination,
    refund_transfer_window,
)

METHOD_FAMILY = {"va": PaymentFamily.VIRTUAL_ACCOUNT, "retail": PaymentFamily.RETAIL, "qris": PaymentFamily.QRIS,
                 "bank_transfer": PaymentFamily.BANK_TRANSFER}


class RefundError(ServiceError):
    """A refused refund action; the message is meant for the person who tried it."""


# --- helpers --------------------------------------------------------------------------------

def payment_family(escrow_transaction, bill=None) -> str:
    """The buyer's original payment method (decides the transfer time, policy section 3)."""
    if bill is None:
        bill = bill_funding(escrow_transaction=escrow_transaction)  # a milestone plan's shared bill too
    # Without a bill (a payment verified by other means) assume the slowest domestic transfer time.
    return METHOD_FAMILY.get(getattr(bill, "method", ""), PaymentFamily.BANK_TRANSFER)


def _lock(refund_request) -> RefundRequest:
    """The request, locked after its transaction (``intrasa.locks``' order)."""
    pk = refund_request.pk if isinstance(refund_request, RefundRequest) else refund_request
    locks.lock_transaction(RefundRequest.objects.values_list("escrow_transaction_id", flat=True).get(pk=pk))
    return locks.lock(RefundRequest, pk, related=("escrow_transaction", "buyer", "escrow_transaction__seller"))


def _labels(kinds) -> str:
    labels = dict(Document.choices)
    return ", ".join(str(labels[kind]) for kind in kinds)


def missing_documents(refund_request: RefundRequest) -> list[str]:
    """What the request still needs for its case and facts (a waived document counts as present)."""
    present = {doc.kind for doc in refund_request.documents.all()}
    return policy.missing_documents(refund_request.case, present, goods_return=refund_request.goods_return)


def missing_from_buyer(refund_request: RefundRequest) -> list[str]:
    """The missing documents only the buyer can give: the buyer's page asks for these and no others."""
    return [kind for kind in missing_documents(refund_request) if policy.who_supplies(kind) == "buyer"]


def _context(req: RefundRequest, **extra) -> dict:
    txn = req.escrow_transaction
    return {"reference": txn.reference, "title": txn.title, "amount": format_rupiah(req.amount),
            "case": req.get_case_display(), **extra}


def _notify(req: RefundRequest, user, kind: str, **extra) -> None:
    notify(event_key=f"refund:{req.pk}:{kind}:{user.pk}", kind=kind, recipient=user,
           context=_context(req, **extra), link=req.get_absolute_url())


def _system_documents(req: RefundRequest) -> None:
    """Record the documents INTRASA itself holds, so nobody is asked for them: the reference, the
    verified payment, and for a return the RMA number INTRASA issues as it authorises the return."""
    txn = req.escrow_transaction
    docs = [(Document.ORDER_NUMBER, txn.reference)]
    if req.goods_return:
        docs.append((Document.RMA_NUMBER, policy.rma_number(txn.reference, req.pk)))
    bill = req.bill
    line = req.statement_line
    if line is not None:
        # INTRASA's own bank statement shows the credit: it is both the proof and the debit proof.
        proof = (_("Credit of %(amount)s on INTRASA's escrow account on %(date)s (bank reference %(ref)s)")
                 % {"amount": format_rupiah(line.amount), "date": line.booked_on.isoformat(), "ref": line.bank_reference})
        docs += [(Document.PROOF_OF_PAYMENT, proof), (Document.BANK_STATEMENT, proof)]
    elif bill is not None and bill.status == Bill.Status.VERIFIED:
        # The provider's status inquiry (or our bank statement) confirmed this very payment.
        docs.append((Document.PROOF_OF_PAYMENT, _("Payment %(bill)s confirmed by the provider") % {"bill": bill.bill_no}))
        if req.case in policy.PAYMENT_CASES:
            docs.append((Document.BANK_STATEMENT,
                         _("Provider confirmation of %(bill)s (%(amount)s)")
                         % {"bill": bill.bill_no, "amount": format_rupiah(bill.paid_amount or 0)}))
    elif txn.verified_at is not None:
        # What the buyer paid: the amount received less INTRASA's bank-transfer discount (the unique code),
        # as funded (a refund in full has taken the discount back by now).
        paid = (txn.amount_received or 0) - transaction_discount(escrow_transaction=txn, as_funded=True)
        docs.append((Document.PROOF_OF_PAYMENT, _("Payment of %(amount)s verified on %(at)s")
                     % {"amount": format_rupiah(paid), "at": format_wib(txn.verified_at)}))
    RefundDocument.objects.bulk_create([
        RefundDocument(request=req, kind=kind, source=RefundDocument.Source.SYSTEM, value=str(value)[:255])
        for kind, value in docs
    ])


def _after_documents_changed(req: RefundRequest) -> None:
    missing = missing_documents(req)
    if not missing and req.status == RefundRequest.Status.AWAITING_DOCUMENTS:
        now = timezone.now()
        req.start_review()
        req.documents_complete_at = now
        req.approval_due_at = working_calendar().add_working_hours(now, policy.APPROVAL_WORKING_HOURS)
        req.save(update_fields=["status", "documents_complete_at", "approval_due_at"])
        _notify(req, req.buyer, "refund_in_review", deadline=format_wib(req.approval_due_at))
    refund_task_refresh(refund_request=req)


def refund_excluded(escrow_transaction, *, dispute_reason: str = "", seller_agrees: bool = False) -> bool:
    """Policy section 6 for this transaction: delivered licences and voucher codes, unless the
    seller agrees to refund."""
    delivered = escrow_transaction.shipped_at is not None and dispute_reason not in policy.UNDELIVERED_REASONS
    return policy.is_excluded(licence_or_voucher=escrow_transaction.category == Category.DIGITAL
                              and escrow_transaction.is_licence_or_voucher,
                              delivered_or_activated=delivered, seller_agrees=seller_agrees)


# --- starting a request ---------------------------------------------------------------------

def refund_request_create(
    *, escrow_transaction, case: str, amount: int, source_key: str, requested_by=None, dispute=None,
    bill=None, description: str = "", uncovered_amount: int = 0, restocking_fee: int = 0,
    return_agreed: bool = True, statement_line=None,
) -> RefundRequest:
    """Open the request for money owed back to the buyer (idempotent on ``source_key``).

    Whether the goods come back first (and so the return documents are asked) follows from the case
    and the facts (``policy.goods_come_back``): never when nothing was shipped. ``return_agreed``
    is ``False`` when the dispute was settled with the buyer keeping the goods."""
    with transaction.atomic():
        existing = RefundRequest.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
        txn = escrow_transaction
        buyer = txn.buyer
        if buyer is None:
            raise RefundError(_("This transaction has no buyer to refund."), code="no_buyer")
        req = RefundRequest.objects.create(
            escrow_transaction=txn, buyer=buyer, case=case, amount=amount, source_key=source_key,
            requested_by=requested_by, dispute=dispute, bill=bill, description=description,
            statement_line=statement_line,
            uncovered_amount=uncovered_amount, restocking_fee=restocking_fee,
            payment_family=(PaymentFamily.BANK_TRANSFER if statement_line is not None
                            else payment_family(txn, bill)),
            goods_return=policy.goods_come_back(case, shipped=txn.shipped_at is not None,
                                                return_agreed=return_agreed),
        )
        _system_documents(req)
        audit_record(actor=requested_by, action="refund.request", target=req,
                     data={"case": case, "amount": amount, "source": source_key})
        if req.goods_return:
            _return_shipment_open(req, now=req.created_at)
        missing = missing_documents(req)
        if missing:
            from_buyer = missing_from_buyer(req)
            _notify(req, buyer, "refund_requested",
                    missing=_labels(from_buyer) if from_buyer else _("none from you (INTRASA records the rest)"))
            refund_task_refresh(refund_request=req)
        else:
            _after_documents_changed(req)
        return req


def refund_request_limit(escrow_transaction) -> int:
    """The most a buyer may ask back in one request from the refund page.

    Buyers ask there for a double or repeated payment, or a failed payment that was charged
    (``policy.BUYER_REQUESTABLE_CASES``): a charge INTRASA has not matched. Such a charge repeats
    one payment of this transaction, so it is at most what INTRASA billed the buyer for it (the
    amount due, or a larger bill). What INTRASA already owes back or has refunded for payment
    problems on the transaction (requests of the payment cases, rejected ones aside) is taken off,
    so the same charge cannot be claimed twice.
    """
    # A bill shared by a milestone plan's transactions billed this one its share, not the plan.
    billed = max(escrow_transaction.amount_due,
                 escrow_transaction.bills.filter(shares__isnull=True).aggregate(largest=Max("amount"))["largest"] or 0,
                 escrow_transaction.bill_shares.aggregate(largest=Max("amount"))["largest"] or 0)
    owed = (RefundRequest.objects.filter(escrow_transaction=escrow_transaction, case__in=policy.PAYMENT_CASES)
            .exclude(status=RefundRequest.Status.REJECTED).aggregate(total=Sum("amount"))["total"] or 0)
    return max(billed - owed, 0)


def refund_request_submit(*, escrow_transaction, buyer, case: str, amount: int, description: str) -> RefundRequest:
    """The buyer asks from the refund page (a charged payment INTRASA has not matched yet).

    One open request of the buyer's own per transaction, for at most ``refund_request_limit``.
    The transaction row is locked first (lock order: transaction, then request), so two requests
    sent at the same moment are decided one after the other: the second sees the first.
    """
    if escrow_transaction.buyer_id != buyer.pk:
        raise RefundError(_("Only the buyer can ask for a refund."), code="forbidden")
    if case not in policy.BUYER_REQUESTABLE_CASES:
        raise RefundError(_("Open a dispute on the transaction page for this kind of refund."), code="use_dispute")
    if not check_rupiah_range(amount, minimum=1, maximum=RUPIAH_CEILING):
        raise RefundError(_("Enter the amount that was charged."), code="invalid_amount")
    if not description.strip():
        raise RefundError(_("Describe what happened (the chronology)."), code="description_required")
    with transaction.atomic():
        txn = locks.lock_transaction(escrow_transaction)
        own = RefundRequest.objects.filter(escrow_transaction=txn, requested_by=buyer)
        if own.filter(status__in=RefundRequest.OPEN_STATUSES).exists():
            raise RefundError(_("You already have a refund request in progress for this transaction. Add its "
                                "documents below, or wait for its decision before asking again."),
                              code="request_open")
        limit = refund_request_limit(txn)
        if limit <= 0:
            raise RefundError(_("INTRASA already owes you back or has refunded what you were billed for this "
                                "transaction. If you were charged more, contact Customer Service on WhatsApp."),
                              code="nothing_to_claim")
        if amount > limit:
            raise RefundError(_("A refund request for this transaction can be at most %(max)s: what you were "
                                "billed for it, less what INTRASA already owes you back or has refunded for "
                                "payment problems.") % {"max": format_rupiah(limit)}, code="over_limit")
        return refund_request_create(escrow_transaction=txn, case=case, amount=amount,
                                     source_key=f"buyer:{txn.pk}:{own.count() + 1}", requested_by=buyer,
                                     description=description.strip())


def refund_request_for_escrow_refund(*, escrow_transaction, amount: int, reason: str = "",
                                     dispute=None, return_agreed: bool = True) -> RefundRequest | None:
    """The whole hold went back to the buyer (the seller cancelled after payment, or a dispute
    ended for the buyer): open the request that carries it to the buyer. Called by the flow that
    refunded the escrow, in its database transaction."""
    if amount <= 0:
        return None
    case = policy.dispute_refund_case(dispute.reason) if dispute else RefundCase.CANCELLATION
    return refund_request_create(escrow_transaction=escrow_transaction, case=case, amount=amount,
                                 source_key=f"escrow-refund:{escrow_transaction.pk}", dispute=dispute,
                                 description=reason, return_agreed=return_agreed)


def refund_request_for_owed_payment(*, escrow_transaction, bill, amount: int, why: str) -> RefundRequest | None:
    """A payment was owed back to the buyer (double, late, short or excess; ``payments.services``
    posted it): open the request that carries it to the buyer. Called by the collection flow that
    placed the payment, in its database transaction."""
    if escrow_transaction.buyer_id is None or amount <= 0:
        return None
    # A shared bill owes back on each transaction it paid: one request per transaction.
    scope = "" if escrow_transaction.pk == bill.escrow_transaction_id else f"txn:{escrow_transaction.pk}:"
    return refund_request_create(escrow_transaction=escrow_transaction, case=policy.OWED_BACK_CASES[why],
                                 amount=amount, source_key=f"bill:{bill.pk}:{scope}{why}", bill=bill,
                                 description=_("Detected by INTRASA: %(bill)s") % {"bill": bill.bill_no})


def refund_advance_return_shipping(*, refund_request: RefundRequest, amount: int, actor) -> RefundRequest:
    """The seller was at fault and the buyer already sent the goods back: the policy refunds shipping
    both ways (PP). What the escrow hold cannot cover, INTRASA pays with the refund and recovers from
    the seller (``policy``: return shipping): it is booked as buyer-protection cost, owed to the buyer,
    and added to the request — paid, not only recorded. Called by the flow that decided the refund,
    in its database transaction, before the refund is approved."""
    if amount <= 0:
        return refund_request
    req = _lock(refund_request)
    if req.status not in (RefundRequest.Status.AWAITING_DOCUMENTS, RefundRequest.Status.IN_REVIEW) \
            or req.case not in policy.SELLER_FAULT_CASES:
        raise RefundError(_("Return shipping is added only to an open refund for the seller's fault."),
                          code="not_seller_fault")
    txn = req.escrow_transaction
    entry_post(idempotency_key=f"refund:{req.pk}:return-shipping", kind=EntryKind.RETURN_SHIPPING_ADVANCED,
               memo=f"{txn.reference} return shipping paid to the buyer by INTRASA", escrow_transaction=txn,
               actor=actor, lines=[debit(AccountCategory.BUYER_PROTECTION_COST, amount),
                                   credit(AccountCategory.BUYER_REFUND_PAYABLE, amount)])
    req.amount += amount
    req.uncovered_amount = amount
    req.save(update_fields=["amount", "uncovered_amount"])
    audit_record(actor=actor, action="refund.return_shipping", target=req, data={"amount": amount})
    return req


def refund_request_for_statement_line(*, escrow_transaction, line, actor, reason: str) -> RefundRequest:
    """Staff matched an unmatched bank-statement credit to this transaction's buyer (``payments``
    moved it from suspense to the buyer's refund payable): open the request that returns it. Called
    by the flow that matched it, in its database transaction."""
    # The buyer may have asked first, from the refund page, for this very charge: that request is the
    # one that now carries the money (never a second request for the same Rupiah).
    asked = (RefundRequest.objects.filter(
        escrow_transaction=escrow_transaction, requested_by=escrow_transaction.buyer_id, case__in=policy.PAYMENT_CASES,
        status__in=[RefundRequest.Status.AWAITING_DOCUMENTS, RefundRequest.Status.IN_REVIEW], amount=line.amount,
        statement_line__isnull=True, bill__isnull=True).order_by("created_at").first())
    if asked is not None:
        req = _lock(asked)
        req.statement_line = line
        req.save(update_fields=["statement_line"])
        proof = (_("Credit of %(amount)s on INTRASA's escrow account on %(date)s (bank reference %(ref)s)")
                 % {"amount": format_rupiah(line.amount), "date": line.booked_on.isoformat(), "ref": line.bank_reference})
        present = {doc.kind for doc in req.documents.all()}
        RefundDocument.objects.bulk_create([
            RefundDocument(request=req, kind=kind, source=RefundDocument.Source.SYSTEM, value=proof[:255])
            for kind in (Document.PROOF_OF_PAYMENT, Document.BANK_STATEMENT) if kind not in present])
        audit_record(actor=actor, action="refund.statement_line", target=req, reason=reason, data={"line": line.pk})
        _after_documents_changed(req)
        return req
    case = policy.unmatched_transfer_case(transaction_funded=escrow_transaction.verified_at is not None)
    return refund_request_create(escrow_transaction=escrow_transaction, case=case, amount=line.amount,
                                 source_key=f"statement-line:{line.pk}", requested_by=actor, description=reason,
                                 statement_line=line)


# --- documents ------------------------------------------------------------------------------

def refund_document_add(*, refund_request, kind: str, actor, upload=None, value: str = "") -> RefundDocument:
    """The buyer (or staff) adds a document; complete documents start the approval clock."""
    if kind not in Document.values:
        raise RefundError(_("Unknown document."), code="invalid_document")
    is_staff = actor.is_staff and actor.has_perm("refunds.add_refunddocument")
    # The seller inspects the goods that come back to them (policy: returns) and records the result.
    is_inspecting_seller = (kind == Document.INSPECTION_RESULT and refund_request.goods_return
                            and actor.pk == refund_request.escrow_transaction.seller_id)
    if kind in policy.STAFF_DOCUMENTS and not (is_staff or is_inspecting_seller):
        raise RefundError(_("Only INTRASA staff record this document."), code="forbidden")
    if kind == Document.RETURN_RECEIPT and not is_staff and _shipment_of(refund_request) is not None:
        # A return's receipt is its courier and number (``return_ship_back``), which the seller can follow.
        raise RefundError(_("Enter the courier and receipt number of the goods you sent back in the return "
                            "section."), code="use_return_form")
    value = (value or "").strip()
    checked = None
    if kind in policy.TEXT_DOCUMENTS:
        if not value:
            raise RefundError(_("Enter the number."), code="value_required")
    elif upload is None:
        if not ((is_staff or is_inspecting_seller) and value):
            raise RefundError(_("Choose a file to upload."), code="file_required")
    else:
        from django.core.exceptions import ValidationError

        try:
            checked = check_upload(upload, allowed_kinds=("image", "document"))
        except ValidationError as exc:
            raise RefundError(exc.messages[0], code=exc.code or "invalid_file") from None
    with transaction.atomic():
        req = _lock(refund_request)
        if actor.pk != req.buyer_id and not (is_staff or is_inspecting_seller):
            raise RefundError(_("You are not allowed to do this."), code="forbidden")
        if req.status not in (RefundRequest.Status.AWAITING_DOCUMENTS, RefundRequest.Status.IN_REVIEW):
            raise RefundError(_("This request no longer takes documents."), code="closed")
        doc = RefundDocument(request=req, kind=kind, value=value[:255], uploaded_by=actor,
                             source=(RefundDocument.Source.BUYER if actor.pk == req.buyer_id
                                     else RefundDocument.Source.SELLER if is_inspecting_seller
                                     else RefundDocument.Source.STAFF))
        if checked is not None:
            doc.original_name = (upload.name or "")[:200]
            doc.content_type, doc.size, doc.sha256 = checked.content_type, checked.size, checked.sha256
            doc.original_sha256 = checked.original_sha256
            # The cleaned bytes (intrasa.uploads), never the upload itself.
            doc.file.save(private_path(f"refunds/{req.escrow_transaction.reference}", checked.extension),
                          checked.content, save=False)
        doc.save()
        audit_record(actor=actor, action="refund.document", target=req, data={"kind": kind, "sha256": doc.sha256})
        _after_documents_changed(req)
        return doc


# --- deciding -------------------------------------------------------------------------------

def _committed_to_refund_payouts(txn) -> int:
    """Buyer refund money already promised to payouts that have not finished paying."""
    open_payouts = Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND).exclude(
        status=Payout.Status.COMPLETED)
    planned = open_payouts.aggregate(t=Sum("amount"))["t"] or 0
    sent = Disbursement.objects.filter(payout__in=open_payouts, status=Disbursement.Status.SUCCEEDED).aggregate(
        t=Sum("amount"))["t"] or 0
    return planned - sent


def _default_destination_of(buyer) -> PayoutDestination | None:
    return (PayoutDestination.objects.filter(owner=buyer, is_archived=False, is_default=True).first()
            or PayoutDestination.objects.filter(owner=buyer, is_archived=False).first())


def _refund_account_ok(destination: PayoutDestination, buyer_id: int) -> bool:
    """The policy's substitute-account rule for this account (``policy.substitute_account_acceptable``)."""
    return policy.substitute_account_acceptable(
        owner_id=destination.owner_id, buyer_id=buyer_id, can_receive_payouts=destination.can_receive_payouts,
        name_confirmed=policy.ewallet_name_confirmed(kind=destination.kind, verification=destination.verification))


def awaits_ewallet_review(destination: PayoutDestination | None) -> bool:
    """An e-wallet nobody has refused but whose registered name staff have not confirmed yet."""
    return (destination is not None and destination.kind == PayoutDestination.Kind.EWALLET
            and destination.can_receive_payouts
            and not policy.ewallet_name_confirmed(kind=destination.kind, verification=destination.verification))


def _require_approver(actor) -> None:
    if not (actor.is_staff and actor.has_perm("refunds.approve_refund")):
        raise RefundError(_("You are not allowed to approve or reject refunds."), code="forbidden")


def refund_approve(*, refund_request, actor, reason: str,
                   destination: PayoutDestination | None = None) -> RefundRequest:
    """Finance approves, with a reason: plan the SendMe payout to the buyer's own account (policy
    section 4). Money leaves on this decision, so the admin shows the amount and the account
    first and asks for the reason; the audit row keeps both."""
    from disbursements.services import payout_plan

    _require_approver(actor)
    reason = (reason or "").strip()
    if not reason:
        raise RefundError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        # The transaction row first (``_lock``): two approvals for the same money (e.g. the buyer's
        # and the system's double-payment requests) are serialised, so the second sees the first's payout.
        req = _lock(refund_request)
        txn = req.escrow_transaction
        missing = missing_documents(req)
        if missing:
            raise RefundError(_("This refund cannot be approved: missing %(documents)s.")
                              % {"documents": _labels(missing)}, code="documents_missing")
        if req.status != RefundRequest.Status.IN_REVIEW:
            raise RefundError(_("Only a request under review can be approved."), code="not_in_review")
        if req.needs_charge_booked:
            raise RefundError(_("This charge is not in INTRASA's books yet: book it from the bank statement or "
                                "Faspay's report first."), code="charge_not_booked")
        if payment_reversed(escrow_transaction=txn):  # the buyer has this money back from the provider
            raise RefundError(_("The buyer's payment was reversed by the provider, so the money is back with the "
                                "buyer already: settle the reversal with Faspay before anything is refunded."),
                              code="payment_reversed")
        if policy.refund_route(req.payment_family) == policy.Route.ISSUER:
            raise RefundError(_("Card, instalment and paylater refunds go back through the issuer, not by "
                                "transfer."), code="issuer_route")
        available = (transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE, 0)
                     - _committed_to_refund_payouts(txn))
        if req.amount > available:
            raise RefundError(_("Only %(available)s is owed back to the buyer in the ledger; the request is "
                                "for %(amount)s.") % {"available": format_rupiah(available),
                                                      "amount": format_rupiah(req.amount)},
                              code="not_owed")
        explicit = destination or req.destination
        if explicit is not None and not (_refund_account_ok(explicit, req.buyer_id)
                                         or awaits_ewallet_review(explicit)):
            raise RefundError(_("The refund account must be the buyer's own account, verified in the buyer's "
                                "name."), code="destination")
        # Without a chosen account, the buyer's default is used — but never an e-wallet whose name
        # staff have not confirmed: the payout then waits, and the review is a staff task.
        destination = explicit or _default_destination_of(req.buyer)
        held_for_review = awaits_ewallet_review(destination)
        now = timezone.now()
        calendar = working_calendar()
        # At the earliest, the window starts now (``policy.transfer_starts_at``). The payout queue orders a
        # refund by its own timeline: the policy's latest transfer day from when the money sets off, which
        # the payout moves itself when the account comes later (``Payout.due_working_days``).
        earliest, _latest = policy.transfer_arrives_between(now, req.payment_family, calendar)
        req.payout = payout_plan(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=req.buyer,
                                 amount=req.amount, reason=f"Refund {req.case} {txn.reference}",
                                 destination=None if held_for_review else destination, actor=actor,
                                 use_default=False, now=now,
                                 due_working_days=policy.transfer_window(req.payment_family)[1])
        req.approve()
        req.destination = destination
        req.approved_by, req.approved_at = actor, now
        req.save()
        audit_record(actor=actor, action="refund.approve", target=req, reason=reason,
                     data={"amount": req.amount, "payout": req.payout.pk,
                           "destination": getattr(refund_transfer_destination(req), "pk", None)})
        refund_task_refresh(refund_request=req)
        needs_account = req.payout.status == Payout.Status.AWAITING_DESTINATION and not held_for_review
        # The same refund-by date as every page (``policy``: the refund-by date): an account still to
        # name, or an e-wallet Finance still check, comes before the transfer window.
        refund_by = refund_request_due_by(req, now=now, calendar=calendar)
        for party in _parties(req):
            if needs_account and party == req.buyer:
                # Nothing is "being transferred" yet: the buyer is told the one step that is theirs.
                _notify(req, party, "refund_needs_account")
            else:
                _notify(req, party, "refund_approved", earliest=format_wib(earliest, with_time=False),
                        latest=format_wib(refund_by, with_time=False))
        return req


def _parties(req: RefundRequest) -> list:
    """Both parties hear about a refund; a double payment concerns only the buyer's own money."""
    if req.case in policy.PAYMENT_CASES:
        return [req.buyer]
    return [req.buyer, req.escrow_transaction.seller]


def refund_money_booked(refund_request: RefundRequest) -> bool:
    """Whether INTRASA's ledger already owes this request's money to the buyer (``policy``: no money
    without an owner). Only a payment problem the buyer reported that Finance have not booked yet
    (``needs_charge_booked``) holds no money; every other request was opened by the posting that
    moved its money to the buyer refund payable."""
    return not refund_request.needs_charge_booked


def _close_rejected(req: RefundRequest, *, actor, reason: str, action: str) -> None:
    req.reject()
    req.rejected_reason = reason
    req.closed_by = actor
    req.completed_at = timezone.now()
    req.save(update_fields=["status", "rejected_reason", "closed_by", "completed_at"])
    audit_record(actor=actor, action=action, target=req, reason=reason,
                 data={"amount": req.amount, "money_booked": refund_money_booked(req)})
    refund_task_refresh(refund_request=req)


def refund_reject(*, refund_request, actor, reason: str) -> RefundRequest:
    """Finance refuse a request, with a reason the buyer is told. Only a request whose money is not
    in INTRASA's books (a claim of a charge not booked yet) can be refused here: nothing moves.
    Money the ledger already owes the buyer is never left without an owner by a rejection
    (``policy``: rejections): it is paid to the buyer, or — the goods sent back were rejected at
    inspection and staff upheld it — released to the seller by ``escrow.services``."""
    _require_approver(actor)
    reason = (reason or "").strip()
    if not reason:
        raise RefundError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        req = _lock(refund_request)
        if req.status not in (RefundRequest.Status.AWAITING_DOCUMENTS, RefundRequest.Status.IN_REVIEW):
            raise RefundError(_("Only an open request that is not being paid can be rejected."), code="closed")
        if refund_money_booked(req):
            raise RefundError(_("This refund cannot be rejected: INTRASA's books already owe this money to the buyer, "
                                "so it is paid to the buyer. Waive or record the missing documents, or contact the "
                                "buyer. If the seller rejected the returned goods, decide the inspection instead."),
                              code="money_booked")
        _close_rejected(req, actor=actor, reason=reason, action="refund.reject")
        _notify(req, req.buyer, "refund_rejected", reason=reason)
        return req


def refund_choose_destination(*, refund_request, buyer, destination: PayoutDestination) -> RefundRequest:
    """The buyer names the account to refund to. Faspay collections cannot be reversed, so this
    is the "substitute account": it must be the buyer's own, in the buyer's name."""
    from disbursements.services import destination_verify, payout_use_destination

    if destination.owner_id != buyer.pk or refund_request.buyer_id != buyer.pk:
        raise RefundError(_("Choose one of your own accounts."), code="forbidden")
    if destination.kind == PayoutDestination.Kind.BANK and \
            destination.verification == PayoutDestination.Verification.UNVERIFIED:
        # The account inquiry is a provider call: made before any lock is taken.
        destination_verify(destination_id=destination.pk)
        destination.refresh_from_db()
    if destination.kind == PayoutDestination.Kind.EWALLET:
        if not names_match(buyer.full_name, destination.account_holder_name):
            raise RefundError(_("This e-wallet is registered to “%(name)s”, not to you. Refunds go only to an "
                                "account in the buyer's own name.") % {"name": destination.account_holder_name},
                              code="name_mismatch")
        if destination.verification == PayoutDestination.Verification.NAME_MISMATCH:
            raise RefundError(_("INTRASA staff found this e-wallet registered to “%(name)s”, not to you. Choose "
                                "another account in your own name.") % {"name": destination.verified_name or "?"},
                              code="name_mismatch")
    if not (_refund_account_ok(destination, buyer.pk) or awaits_ewallet_review(destination)):
        raise RefundError(_("This account is not verified in your name (the bank reports “%(name)s”). "
                            "Refunds go only to an account in the buyer's own name.")
                          % {"name": destination.verified_name or "?"}, code="name_mismatch")
    with transaction.atomic():
        req = _lock(refund_request)
        if not req.is_open:
            raise RefundError(_("This request is closed."), code="closed")
        # The transfer window cannot start before the account is named (``policy.transfer_starts_at``).
        req.destination, req.account_named_at = destination, timezone.now()
        req.save(update_fields=["destination", "account_named_at"])
        audit_record(actor=buyer, action="refund.destination", target=req, data={"destination": destination.pk})
        payout = req.payout
    if payout is not None and payout.status == Payout.Status.AWAITING_DESTINATION \
            and not awaits_ewallet_review(destination):
        payout_use_destination(payout=payout, destination=destination, actor=buyer)
    with transaction.atomic():
        req = _lock(req)
        refund_task_refresh(refund_request=req)
    return req


def refund_ewallet_review(*, refund_request, actor, confirmed: bool, reason: str, seen_name: str = "") -> RefundRequest:
    """Finance checked the name the buyer's e-wallet is registered to (``policy``: no provider can
    tell it). Confirmed: the held refund is sent to it. Refused: the buyer is told the name staff saw
    and asked for another account in their own name."""
    from django.core.exceptions import ValidationError

    from accounts.services import payout_destination_review_ewallet
    from disbursements.services import payout_use_destination

    _require_approver(actor)
    req = RefundRequest.objects.select_related("destination", "payout").get(pk=refund_request.pk)
    destination = req.destination
    if not req.is_open or not awaits_ewallet_review(destination):
        raise RefundError(_("This refund is not waiting for an e-wallet name check."), code="not_in_review")
    try:
        destination = payout_destination_review_ewallet(destination=destination, actor=actor, confirmed=confirmed,
                                                        reason=reason, seen_name=seen_name)
    except ValidationError as exc:
        raise RefundError(" ".join(exc.messages), code="invalid") from None
    with transaction.atomic():
        req = _lock(req)
        audit_record(actor=actor, action="refund.ewallet_review", target=req, reason=reason,
                     data={"confirmed": confirmed, "destination": destination.pk})
        if not confirmed:
            req.destination = None
            req.save(update_fields=["destination"])
            _notify(req, req.buyer, "refund_account_refused", name=destination.verified_name, reason=reason.strip())
        payout = req.payout
    if confirmed and payout is not None and payout.status == Payout.Status.AWAITING_DESTINATION:
        payout_use_destination(payout=payout, destination=destination, actor=actor)
    with transaction.atomic():
        req = _lock(req)
        refund_task_refresh(refund_request=req)
    return req


def refund_complete(*, refund_request) -> RefundRequest | None:
    """Close a request whose payout has fully succeeded (REFUND_SENT is in the ledger)."""
    with transaction.atomic():
        req = _lock(refund_request)
        if req.status != RefundRequest.Status.PAYING or req.payout is None \
                or req.payout.status != Payout.Status.COMPLETED:
            return None
        req.complete()
        req.completed_at = timezone.now()
        req.save(update_fields=["status", "completed_at"])
        audit_record(actor=None, action="refund.completed", target=req, data={"payout": req.payout_id})
        refund_task_refresh(refund_request=req)
        for party in _parties(req):
            _notify(req, party, "refund_completed")
        return req


def refund_reopen(*, refund_request) -> RefundRequest | None:
    """Open again a closed request whose transfer the bank gave back (reported paid, then reversed: SendMe
    04). The reversal's ledger entry made the money owed to the buyer again and left the payout waiting for
    Finance; the request is that debt's record (``ledger_check``: a refund payable has an open request), so
    its staff task, the buyer's refund-by date and Cek Transaksi count again, from the reversal."""
    with transaction.atomic():
        req = _lock(refund_request)
        if req.status != RefundRequest.Status.COMPLETED or req.payout is None \
                or req.payout.status != Payout.Status.NEEDS_ACTION:
            return None
        req.reopen()
        req.completed_at = None
        req.save(update_fields=["status", "completed_at"])
        given_back_at = req.payout.needs_action_since or timezone.now()
        audit_record(actor=None, action="refund.reopened", target=req, reason="the bank gave the transfer back",
                     data={"payout": req.payout_id, "given_back_at": given_back_at.isoformat()})
        refund_task_refresh(refund_request=req)
        # One email per time the bank gives the money back (the key of ``_notify`` would keep only the first).
        notify(event_key=f"refund:{req.pk}:given_back:{given_back_at.isoformat()}", kind="refund_given_back",
               recipient=req.buyer, context=_context(req), link=req.get_absolute_url())
        return req


def refund_complete_paid() -> int:
    """Beat job: close every request whose refund payout has completed, and open again every closed one
    whose transfer the bank gave back since (``refund_reopen``). Handled rows leave both sets."""
    ids = list(RefundRequest.objects.filter(status=RefundRequest.Status.PAYING,
                                            payout__status=Payout.Status.COMPLETED).values_list("pk", flat=True)[:200])
    closed = sum(1 for pk in ids if refund_complete(refund_request=pk) is not None)
    given_back = list(RefundRequest.objects.filter(status=RefundRequest.Status.COMPLETED,
                                                   payout__status=Payout.Status.NEEDS_ACTION)
                      .values_list("pk", flat=True)[:200])
    return closed + sum(1 for pk in given_back if refund_reopen(refund_request=pk) is not None)


def refund_alert_overdue_approvals() -> int:
    """Email Finance the refunds still undecided past ``approval_due_at`` (policy section 3:
    verification and approval within 2×24 working hours of complete documents) and every other staff
    task past its due date, with the name of the person holding it."""
    from accounts.roles import FINANCE, mail_group

    now = timezone.now()
    overdue = list(RefundRequest.objects.filter(
        Q(status=RefundRequest.Status.IN_REVIEW, approval_due_at__lt=now)
        | Q(handler_due_at__lt=now) & ~Q(handler_task=""))  # a task may outlive the request (RESEND_*)
        .select_related("escrow_transaction", "handler").order_by("approval_due_at", "handler_due_at"))
    if overdue:
        lines = [f"{r.escrow_transaction.reference} · {format_rupiah(r.amount)} · {r.get_case_display()} · "
                 f"{r.get_handler_task_display() or r.get_status_display()} · "
                 f"{r.handler.full_name if r.handler else 'unassigned'} · "
                 f"due {format_wib(r.handler_due_at or r.approval_due_at)}" for r in overdue]
        mail_group(FINANCE, f"{len(overdue)} refund(s) past their due time", "\n".join(lines))
    return len(overdue)


# --- waiving a document ------------------------------------------------------------------------

def refund_document_waive(*, refund_request, kind: str, actor, reason: str) -> RefundDocument:
    """Staff decide that this request does not need ``kind`` (e.g. a return receipt for goods the
    buyer keeps), with the reason: the document counts as present and the buyer is no longer asked."""
    if not (actor.is_staff and actor.has_perm("refunds.add_refunddocument")):
        raise RefundError(_("You are not allowed to do this."), code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise RefundError(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        req = _lock(refund_request)
        if req.status not in (RefundRequest.Status.AWAITING_DOCUMENTS, RefundRequest.Status.IN_REVIEW):
            raise RefundError(_("This request no longer takes documents."), code="closed")
        if kind not in missing_documents(req):
            raise RefundError(_("%(document)s is not missing from this request.")
                              % {"document": Document(kind).label if kind in Document.values else kind},
                              code="not_missing")
        shipment = ReturnShipment.objects.filter(refund_request=req).first()
        if kind == Document.INSPECTION_RESULT and shipment is not None \
                and shipment.status == ReturnShipment.Status.REJECTED:
            # The seller rejected the goods: INTRASA decides (overrule or uphold, with a reason), it is not waived.
            raise RefundError(_("The seller rejected the returned goods: decide the rejection (overrule or uphold) "
                                "instead of waiving the inspection result."), code="rejection_pending")
        doc = RefundDocument.objects.create(request=req, kind=kind, source=RefundDocument.Source.STAFF,
                                            waived_reason=reason, uploaded_by=actor)
        audit_record(actor=actor, action="refund.document_waive", target=req, reason=reason, data={"kind": kind})
        _after_documents_changed(req)
        return doc


# --- no dead ends: the next step and who holds it -----------------------------------------------

@dataclass(frozen=True)
class NextStep:
    """The one next step of a request: who holds it (``holder``: ``"buyer"``, ``"intrasa"``,
    ``"bank"``, or ``""`` when nothing is left to do), what it is, and by when."""

    holder: str
    text: str
    due_at: dt.datetime | None = None
    task: str = ""  # a policy.StaffTask when the holder is INTRASA


def _staff_step(task: str, due_at) -> NextStep:
    return NextStep("intrasa", str(policy.StaffTask(task).label), due_at, task)


def refund_next_step(refund_request: RefundRequest, *, now: dt.datetime | None = None) -> NextStep:
    """The step ``policy.StaffTask`` and its limits give this request now."""
    req = refund_request
    now = now or timezone.now()
    calendar = working_calendar()
    if req.status == RefundRequest.Status.COMPLETED:
        return NextStep("", _("Refunded."), req.completed_at)
    if req.status == RefundRequest.Status.RETURNED_BY_PROVIDER:
        return NextStep("", _("The payment provider returned this payment to you; nothing more is sent."),
                        req.completed_at)
    if req.status == RefundRequest.Status.REJECTED:
        shipment = _shipment_of(req) if req.goods_return else None
        if shipment is not None and shipment.status in ReturnShipment.RESEND_OPEN_STATUSES:
            return _resend_step(shipment, now)  # the money went to the seller; the goods still travel back
        return NextStep("", _("Rejected: %(reason)s") % {"reason": req.rejected_reason}, req.completed_at)
    if req.status == RefundRequest.Status.AWAITING_DOCUMENTS:
        shipment = _shipment_of(req) if req.goods_return else None
        if shipment is not None:
            return_step = _return_step(req, shipment, now)
            if return_step is not None:
                return return_step
        documents = list(req.documents.all())
        from_buyer = missing_from_buyer(req)
        buyer_docs = [d.created_at for d in documents if d.source == RefundDocument.Source.BUYER]
        since = max([req.created_at, *buyer_docs])
        if from_buyer:
            stall = calendar.add_working_days(since, policy.DOCUMENTS_STALL_WORKING_DAYS)
            if now < stall:
                return NextStep("buyer", _("Add these documents: %(documents)s.") % {"documents": _labels(from_buyer)},
                                stall)
            return _staff_step(policy.StaffTask.HELP_WITH_DOCUMENTS,
                               calendar.add_working_hours(stall, policy.STAFF_TASK_WORKING_HOURS))
        return _staff_step(policy.StaffTask.RECORD_INSPECTION,
                           calendar.add_working_hours(since, policy.INSPECTION_WORKING_HOURS))
    if req.status == RefundRequest.Status.IN_REVIEW:
        if req.needs_charge_booked:
            return _staff_step(policy.StaffTask.BOOK_CHARGE, req.approval_due_at)
        return _staff_step(policy.StaffTask.VERIFY_AND_APPROVE, req.approval_due_at)
    # PAYING
    payout = req.payout
    if payout is not None and payout.status == Payout.Status.AWAITING_DESTINATION \
            and req.destination is not None and awaits_ewallet_review(req.destination):
        since = policy.transfer_starts_at(approved_at=req.approved_at or now, account_named_at=req.account_named_at)
        return _staff_step(policy.StaffTask.REVIEW_EWALLET_NAME,
                           calendar.add_working_hours(since, policy.STAFF_TASK_WORKING_HOURS))
    if payout is None or payout.status == Payout.Status.AWAITING_DESTINATION:
        since = req.approved_at or now
        stall = calendar.add_working_days(since, policy.ACCOUNT_STALL_WORKING_DAYS)
        if now < stall:
            return NextStep("buyer", _("Add or choose a bank account or e-wallet in your own name below."), stall)
        return _staff_step(policy.StaffTask.GET_REFUND_ACCOUNT,
                           calendar.add_working_hours(stall, policy.STAFF_TASK_WORKING_HOURS))
    if payout.status == Payout.Status.NEEDS_ACTION:
        return _staff_step(policy.StaffTask.FIX_FAILED_TRANSFER,
                           calendar.add_working_hours(payout.needs_action_since or now,
                                                      policy.STAFF_TASK_WORKING_HOURS))
    # The bank's step: the method's window from when the transfer started (``policy.transfer_starts_at``:
    # approval, the account named, the money sent), the same count as the refund-by date.
    window = refund_transfer_window(req, calendar=calendar)
    transfer_by = window[1] if window else None
    if transfer_by is not None and now > transfer_by:
        return _staff_step(policy.StaffTask.CHASE_LATE_TRANSFER,
                           calendar.add_working_hours(transfer_by, policy.STAFF_TASK_WORKING_HOURS))
    return NextStep("bank", _("The transfer is on its way to your account."), transfer_by)


def _task_holder(current):
    """Who holds a staff task: the person who held this request's last task if still in Finance,
    else the Finance member with the fewest open refund tasks. ``None`` when Finance is empty (the
    overdue digest then goes to the site admins, ``accounts.roles.mail_group``)."""
    from django.contrib.auth import get_user_model

    from accounts.roles import FINANCE

    finance = get_user_model().objects.filter(groups__name=FINANCE, is_active=True, is_staff=True)
    if current is not None and finance.filter(pk=current.pk).exists():
        return current
    return (finance.annotate(open_tasks=Count("refund_tasks", filter=~Q(refund_tasks__handler_task="")))
            .order_by("open_tasks", "pk").first())


def refund_task_refresh(*, refund_request: RefundRequest, now: dt.datetime | None = None) -> NextStep:
    """Give the request's staff task (if its next step is INTRASA's) to a named person with its due
    date, or end the task when the step passed to someone else. Called inside the transaction of
    every change of the request, and by the beat job for steps that stall with time."""
    req = refund_request
    step = refund_next_step(req, now=now)
    if step.task == req.handler_task and step.due_at == req.handler_due_at:
        return step
    if step.task and step.task != req.handler_task:
        req.handler = _task_holder(req.handler)
        req.handler_assigned_at = now or timezone.now()
        if req.handler is not None:
            notify(event_key=f"refund:{req.pk}:task:{step.task}:{req.handler.pk}:{req.handler_assigned_at.isoformat()}",
                   kind="refund_task", recipient=req.handler, link=f"/admin/refunds/refundrequest/{req.pk}/change/",
                   context=_context(req, task=step.text, deadline=format_wib(step.due_at) if step.due_at else "—"))
    req.handler_task = step.task
    req.handler_due_at = step.due_at if step.task else None
    RefundRequest.objects.filter(pk=req.pk).update(handler=req.handler, handler_task=req.handler_task,
                                                   handler_due_at=req.handler_due_at,
                                                   handler_assigned_at=req.handler_assigned_at)
    audit_record(actor=None, action="refund.task", target=req,
                 data={"task": step.task, "holder": step.holder, "handler": req.handler_id,
                       "due": req.handler_due_at.isoformat() if req.handler_due_at else None})
    return step


# Open requests read per query by the beat job below (each is then refreshed in its own transaction).
REFRESH_BATCH = 500


def refund_tasks_refresh_all(*, now: dt.datetime | None = None) -> int:
    """Beat job: re-read the next step of every open request (steps stall with time; payouts fail or
    wait in the disbursements app), and its payout's promise on the calendar of now (staff may have
    declared a day off since it was counted); returns how many tasks changed. Every one, a batch at a time: it
    once read the 500 oldest only, and with more open a newer request's stalled step never reached
    anyone."""
    from disbursements.services import payout_promise_recount

    changed = 0
    # A rejected return whose goods are still on their way back to the buyer has steps too.
    open_requests = RefundRequest.objects.filter(
        Q(status__in=RefundRequest.OPEN_STATUSES)
        | Q(status=RefundRequest.Status.REJECTED, return_shipment__status__in=ReturnShipment.RESEND_OPEN_STATUSES))
    after = 0
    while ids := list(open_requests.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:REFRESH_BATCH]):
        for pk in ids:
            with transaction.atomic():
                req = _lock(pk)
                if req.payout_id is not None:  # a day off declared since the money set off moves its promise
                    payout_promise_recount(payout=locks.lock(Payout, req.payout_id))
                before = (req.handler_task, req.handler_due_at)
                refund_task_refresh(refund_request=req, now=now)
                changed += (req.handler_task, req.handler_due_at) != before
        after = ids[-1]
    return changed


# --- returns: RMA, address, shipping back, arrival, inspection (policy: returns) -----------------

def _shipment_of(req: RefundRequest) -> ReturnShipment | None:
    try:
        return req.return_shipment
    except ReturnShipment.DoesNotExist:
        return None


def _return_shipment_open(req: RefundRequest, *, now: dt.datetime) -> ReturnShipment:
    """The return is authorised: INTRASA issues the RMA number and the seller's address clock starts."""
    txn = req.escrow_transaction
    shipment = ReturnShipment.objects.create(
        refund_request=req, rma_number=policy.rma_number(txn.reference, req.pk),
        address_due_at=working_calendar().add_working_days(now, policy.RETURN_ADDRESS_WORKING_DAYS))
    _return_event(req, shipment, "return_authorised", actor=None, role="system",
                  data={"rma": shipment.rma_number, "address_due": shipment.address_due_at.isoformat()})
    _notify_return(req, shipment, txn.seller)
    return shipment


def _return_event(req: RefundRequest, shipment: ReturnShipment, action: str, *, actor, role: str, reason: str = "",
                  data: dict | None = None) -> None:
    """Every step of a return: audited, and on the transaction's timeline for both parties."""
    from transactions.services import transaction_record_event

    audit_record(actor=actor, action=f"refund.{action}", target=shipment, reason=reason,
                 data={"request": req.pk, "status": shipment.status, **(data or {})})
    transaction_record_event(req.escrow_transaction, action=action, actor=actor, role=role, reason=reason,
                             data={"rma": shipment.rma_number, **(data or {})})


def _notify_return(req: RefundRequest, shipment: ReturnShipment, user) -> None:
    """Tell ``user`` the return's next step (the one ``refund_next_step`` gives now)."""
    step = refund_next_step(req)
    notify(event_key=f"return:{shipment.pk}:{shipment.status}:{user.pk}", kind="return_next_step", recipient=user,
           link=req.get_absolute_url(),
           context=_context(req, rma=shipment.rma_number, step=step.text,
                            deadline=format_wib(step.due_at) if step.due_at else "—"))


def _is_finance(user) -> bool:
    return bool(user.is_staff and user.has_perm("refunds.approve_refund"))


def _role(req: RefundRequest, user) -> str:
    return "seller" if user.pk == req.escrow_transaction.seller_id else "buyer" if user.pk == req.buyer_id else "staff"


def _lock_shipment(shipment) -> tuple[RefundRequest, ReturnShipment]:
    """The request (after its transaction), then its return shipment: ``intrasa.locks``' order."""
    pk = shipment.pk if isinstance(shipment, ReturnShipment) else shipment
    req_pk = ReturnShipment.objects.values_list("refund_request_id", flat=True).get(pk=pk)
    req = _lock(req_pk)
    shipment = locks.lock(ReturnShipment, pk)
    req.return_shipment = shipment  # the next step is read from this very (locked) row
    return req, shipment


def _still_returning(req: RefundRequest) -> None:
    if req.status != RefundRequest.Status.AWAITING_DOCUMENTS:
        raise RefundError(_("This return no longer changes: the refund is past the documents step."), code="closed")


def return_address_give(*, return_shipment, seller, address: str) -> ReturnShipment:
    """The seller says where the goods go back; the buyer then has ``RETURN_SHIP_WORKING_DAYS`` to
    ship them (working days, holidays skipped)."""
    address = (address or "").strip()
    if len(address) < 10:
        raise RefundError(_("Enter the full return address (street, city, postal code and a phone number)."),
                          code="address_required")
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        # Finance may enter it for the seller (the overdue task: they got it from the seller by phone).
        if seller.pk != req.escrow_transaction.seller_id and not _is_finance(seller):
            raise RefundError(_("Only the seller gives the return address."), code="forbidden")
        _still_returning(req)
        if shipment.status != ReturnShipment.Status.AWAITING_ADDRESS:
            raise RefundError(_("The return address was already given."), code="address_given")
        now = timezone.now()
        shipment.give_address()
        shipment.address = address[:1000]
        shipment.address_given_at = now
        shipment.ship_by = working_calendar().add_working_days(now, policy.RETURN_SHIP_WORKING_DAYS)
        shipment.save()
        _return_event(req, shipment, "return_address", actor=seller, role=_role(req, seller),
                      data={"ship_by": shipment.ship_by.isoformat()})
        refund_task_refresh(refund_request=req)
        _notify_return(req, shipment, req.buyer)
        return shipment


def _checked_receipt(courier: str, receipt_number: str) -> tuple[str, str]:
    courier, receipt_number = (courier or "").strip(), (receipt_number or "").strip().upper()
    if courier not in Courier.values:
        raise RefundError(_("Choose the courier."), code="courier_required")
    if not receipt_number or not receipt_number.replace("-", "").isalnum() or len(receipt_number) > 60:
        raise RefundError(_("Enter the courier's receipt number (letters and digits)."), code="receipt_required")
    return courier, receipt_number


def return_ship_back(*, return_shipment, buyer, courier: str, receipt_number: str) -> ReturnShipment:
    """The buyer handed the goods to a courier: the courier and receipt number are the return receipt
    of the seed's documents; the seller expects the goods within ``RETURN_TRANSIT_WORKING_DAYS``."""
    courier, receipt_number = _checked_receipt(courier, receipt_number)
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        if buyer.pk != req.buyer_id:
            raise RefundError(_("Only the buyer ships the goods back."), code="forbidden")
        _still_returning(req)
        if shipment.status not in (ReturnShipment.Status.AWAITING_ADDRESS, ReturnShipment.Status.AWAITING_SHIPMENT):
            raise RefundError(_("The return receipt was already entered."), code="shipped")
        now = timezone.now()
        shipment.ship_back()
        shipment.courier, shipment.receipt_number = courier, receipt_number
        shipment.shipped_back_at = now
        shipment.arrival_expected_by = working_calendar().add_working_days(now, policy.RETURN_TRANSIT_WORKING_DAYS)
        shipment.save()
        if Document.RETURN_RECEIPT in missing_documents(req):
            RefundDocument.objects.create(request=req, kind=Document.RETURN_RECEIPT, source=RefundDocument.Source.BUYER,
                                          value=f"{shipment.get_courier_display()} {receipt_number}"[:255],
                                          uploaded_by=buyer)
        _return_event(req, shipment, "return_shipped", actor=buyer, role="buyer",
                      data={"courier": shipment.courier, "receipt": receipt_number})
        _after_documents_changed(req)
        _notify_return(req, shipment, req.escrow_transaction.seller)
        return shipment


def return_mark_arrived(*, return_shipment, seller) -> ReturnShipment:
    """The goods are back at the seller: the seller has the policy's 2×24 working hours to inspect."""
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        # Finance may confirm it after checking with the courier (the overdue arrival task).
        if seller.pk != req.escrow_transaction.seller_id and not _is_finance(seller):
            raise RefundError(_("Only the seller confirms the goods are back."), code="forbidden")
        _still_returning(req)
        if shipment.status != ReturnShipment.Status.SHIPPED_BACK:
            raise RefundError(_("The goods can be marked back only after the buyer shipped them."), code="not_shipped")
        _arrived(req, shipment, seller)
        refund_task_refresh(refund_request=req)
        return shipment


def _arrived(req: RefundRequest, shipment: ReturnShipment, seller, *, at: dt.datetime | None = None) -> None:
    """The goods are back (``at``: the courier's delivery scan; otherwise now, the seller's word)."""
    at = at or timezone.now()
    shipment.arrive()
    shipment.arrived_at = at
    shipment.inspect_by = working_calendar().add_working_hours(at, policy.INSPECTION_WORKING_HOURS)
    shipment.save()
    _return_event(req, shipment, "return_arrived", actor=seller, role=_role(req, seller) if seller else "system",
                  data={"inspect_by": shipment.inspect_by.isoformat(),
                        "source": "seller" if seller else "courier_scan"})


def return_record_tracking(*, return_shipment, result) -> ReturnShipment:
    """What the tracking source says about the goods sent back (``transactions.tracking``): the
    courier's delivery scan marks them back at the seller and starts the 2×24 working-hour inspection
    clock, never before the buyer shipped them; on the way back to the buyer after an upheld rejection
    it marks them back with the buyer. A result about another parcel than the one now travelling (an
    answer read before the leg changed) moves nothing. Called by the beat job after its network call."""
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        shipment.tracking_checked_at = timezone.now()
        shipment.save(update_fields=["tracking_checked_at"])
        delivered = result.delivered_at
        if shipment.status == ReturnShipment.Status.RESENT:
            # The way back to the buyer (``policy``: RESEND_*): only this parcel's scan counts.
            if delivered is not None and (result.courier, result.receipt_number) == (
                    shipment.resend_courier, shipment.resend_receipt_number):
                _back_with_buyer(req, shipment, at=max(delivered, shipment.resent_at or delivered),
                                 source="courier_scan", actor=None)
            return shipment
        if (delivered is not None and shipment.status == ReturnShipment.Status.SHIPPED_BACK
                and (result.courier, result.receipt_number) == (shipment.courier, shipment.receipt_number)
                and req.status == RefundRequest.Status.AWAITING_DOCUMENTS):
            _arrived(req, shipment, None, at=max(delivered, shipment.shipped_back_at or delivered))
            refund_task_refresh(refund_request=req)
            _notify_return(req, shipment, req.escrow_transaction.seller)
        return shipment


def return_inspect(*, return_shipment, seller, accepted: bool, note: str) -> ReturnShipment:
    """The seller records the inspection of the returned goods. Accepted: the inspection result is
    recorded and the refund goes to INTRASA's approval. Rejected (a reason is required): INTRASA
    staff decide (``return_inspection_decide``); the clock never decides against the buyer."""
    note = (note or "").strip()
    if not note:
        raise RefundError(_("Say what you found when the goods came back."), code="note_required")
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        if seller.pk != req.escrow_transaction.seller_id:
            raise RefundError(_("Only the seller records the inspection."), code="forbidden")
        _still_returning(req)
        if shipment.status not in (ReturnShipment.Status.SHIPPED_BACK, ReturnShipment.Status.ARRIVED):
            raise RefundError(_("The inspection is recorded once the goods are on their way back or back."),
                              code="not_back")
        if shipment.status == ReturnShipment.Status.SHIPPED_BACK:
            _arrived(req, shipment, seller)  # inspecting them says they are back
        shipment.accept() if accepted else shipment.reject()
        shipment.inspected_at = timezone.now()
        shipment.inspection_note = note[:2000]
        shipment.save()
        _return_event(req, shipment, "return_inspected", actor=seller, role="seller", reason=note,
                      data={"accepted": accepted})
        if accepted:
            _record_inspection(req, note, actor=seller, source=RefundDocument.Source.SELLER)
        else:
            refund_task_refresh(refund_request=req)
        _notify_return(req, shipment, req.buyer)
        return shipment


def _record_inspection(req: RefundRequest, note: str, *, actor, source: str) -> None:
    if Document.INSPECTION_RESULT in missing_documents(req):
        RefundDocument.objects.create(request=req, kind=Document.INSPECTION_RESULT, source=source,
                                      value=note[:255], uploaded_by=actor)
    _after_documents_changed(req)


def _decision_reason(actor, reason: str) -> str:
    _require_approver(actor)
    reason = (reason or "").strip()
    if not reason:
        raise RefundError(_("Please give a reason."), code="reason_required")
    return reason


def _decide_inspection(req: RefundRequest, shipment: ReturnShipment, actor, reason: str, *, accept: bool) -> None:
    """Record staff's decision on a rejected inspection (the request and shipment are locked)."""
    if shipment.status != ReturnShipment.Status.REJECTED or req.status != RefundRequest.Status.AWAITING_DOCUMENTS:
        raise RefundError(_("Only a rejected inspection of an open return is decided here."), code="not_rejected")
    shipment.decided_at, shipment.decided_by, shipment.decision_reason = timezone.now(), actor, reason
    if accept:
        shipment.overrule()
    shipment.save()
    _return_event(req, shipment, "return_decided", actor=actor, role="staff", reason=reason,
                  data={"accepted": accept})


def return_inspection_decide(*, return_shipment, actor, accept: bool, reason: str) -> ReturnShipment:
    """INTRASA staff decide a rejected inspection, with their reason: overrule it (the goods count as
    accepted and the refund goes on to approval). Upholding it moves the refund's money to the seller,
    so it is the escrow flow's (``escrow.services.escrow_return_rejection_uphold``), never done here."""
    if not accept:
        raise RefundError(_("Upholding the seller's rejection releases the money to the seller: it is decided with "
                            "the escrow flow that moves it."), code="uphold_through_escrow")
    reason = _decision_reason(actor, reason)
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        _decide_inspection(req, shipment, actor, reason, accept=True)
        _record_inspection(req, _("Accepted by INTRASA: %(reason)s") % {"reason": reason}, actor=actor,
                           source=RefundDocument.Source.STAFF)
        _notify_return(req, shipment, req.escrow_transaction.seller)
        return shipment


def return_inspection_uphold(*, return_shipment, actor, reason: str,
                             resend_paid_by: str = policy.RESEND_SHIPPING_PAYER_DEFAULT) -> RefundRequest | None:
    """Staff uphold the seller's rejection of the returned goods, with their reason: the refund request
    closes as rejected, and INTRASA takes back the return shipping it advanced (``refund_advance_return_shipping``:
    owed to the buyer only for the seller's fault, and never paid). Called by name only by
    ``escrow.services.escrow_return_rejection_uphold``, which releases the rest of the request's money to
    the seller in the same database transaction (``policy``: rejections). Returns the request, or
    ``None`` when this very decision was already taken (a repeated or concurrent click).

    The goods stay the buyer's: the shipment moves on to their way back (``policy``: RESEND_*), with
    ``resend_paid_by`` paying that shipping (the buyer unless staff decide the seller)."""
    from ledger.models import JournalEntry
    from ledger.services import entry_reverse

    reason = _decision_reason(actor, reason)
    if resend_paid_by not in ReturnShipment.ShippingPayer.values:
        raise RefundError(_("Choose who pays the shipping of the goods back to the buyer."), code="resend_payer")
    req, shipment = _lock_shipment(return_shipment)
    if req.status == RefundRequest.Status.REJECTED and shipment.decided_at is not None:
        return None
    _decide_inspection(req, shipment, actor, reason, accept=False)
    # The goods stay the buyer's: their way back starts with the buyer's address (``policy``: RESEND_*).
    shipment.uphold()
    shipment.resend_shipping_payer = resend_paid_by
    shipment.buyer_address_due_at = working_calendar().add_working_days(timezone.now(),
                                                                        policy.RESEND_ADDRESS_WORKING_DAYS)
    shipment.save()
    _return_event(req, shipment, "return_resend_ordered", actor=actor, role="staff",
                  data={"payer": resend_paid_by, "address_due": shipment.buyer_address_due_at.isoformat()})
    if req.uncovered_amount:
        advance = JournalEntry.objects.get(idempotency_key=f"refund:{req.pk}:return-shipping")
        entry_reverse(entry=advance, actor=actor,
                      reason=f"refund {req.pk} refused: returned goods rejected at inspection")
    _close_rejected(req, actor=actor, action="refund.reject_goods_rejected",
                    reason=_("The returned goods were rejected at inspection: %(reason)s The refund was released to "
                             "the seller.") % {"reason": reason})
    _notify_resend(req, shipment, req.buyer, "return_resend_address", deadline=format_wib(shipment.buyer_address_due_at),
                   days=policy.RESEND_SHIP_WORKING_DAYS)
    return req


# --- the goods' way back to the buyer after an upheld rejection (policy: RESEND_*) ----------------

def _notify_resend(req: RefundRequest, shipment: ReturnShipment, user, kind: str, **extra) -> None:
    """One message of the way back; the shipping payer picks the wording (``…_seller_pays``), so that
    the stored message can be said again in the reader's language from its key and parameters."""
    if kind in ("return_resend_address", "return_resend_requested") \
            and shipment.resend_shipping_payer == ReturnShipment.ShippingPayer.SELLER:
        kind = f"{kind}_seller_pays"
    notify(event_key=f"return:{shipment.pk}:{shipment.status}:{kind}:{user.pk}", kind=kind, recipient=user,
           link=req.get_absolute_url(), context=_context(req, rma=shipment.rma_number, **extra))


def _still_resending(shipment: ReturnShipment, status: str, message: str, code: str) -> None:
    if shipment.status != status:
        raise RefundError(message, code=code)


def return_resend_address_give(*, return_shipment, buyer, address: str) -> ReturnShipment:
    """The buyer says where the rejected goods go back to; the seller then has
    ``RESEND_SHIP_WORKING_DAYS`` to send them (Finance may enter it for the buyer: the overdue task)."""
    address = (address or "").strip()
    if len(address) < 10:
        raise RefundError(_("Enter the full address (street, city, postal code and a phone number)."),
                          code="address_required")
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        if buyer.pk != req.buyer_id and not _is_finance(buyer):
            raise RefundError(_("Only the buyer gives the address the goods go back to."), code="forbidden")
        _still_resending(shipment, ReturnShipment.Status.RESEND_ADDRESS,
                         _("The address for the goods' way back was already given."), "address_given")
        now = timezone.now()
        shipment.give_buyer_address()
        shipment.buyer_address, shipment.buyer_address_given_at = address[:1000], now
        shipment.resend_by = working_calendar().add_working_days(now, policy.RESEND_SHIP_WORKING_DAYS)
        shipment.save()
        _return_event(req, shipment, "return_resend_address", actor=buyer, role=_role(req, buyer),
                      data={"resend_by": shipment.resend_by.isoformat()})
        refund_task_refresh(refund_request=req)
        _notify_resend(req, shipment, req.escrow_transaction.seller, "return_resend_requested",
                       address=shipment.buyer_address, deadline=format_wib(shipment.resend_by))
        return shipment


def return_resend(*, return_shipment, seller, courier: str, receipt_number: str) -> ReturnShipment:
    """The seller handed the rejected goods to a courier for the buyer: the buyer sees the courier and
    receipt number; the tracking job or the buyer marks them delivered."""
    courier, receipt_number = _checked_receipt(courier, receipt_number)
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        if seller.pk != req.escrow_transaction.seller_id and not _is_finance(seller):
            raise RefundError(_("Only the seller sends the goods back to the buyer."), code="forbidden")
        _still_resending(shipment, ReturnShipment.Status.RESEND_PENDING,
                         _("The goods can be sent back once the buyer gave the address, and only once."), "not_pending")
        now = timezone.now()
        shipment.resend()
        shipment.resend_courier, shipment.resend_receipt_number, shipment.resent_at = courier, receipt_number, now
        shipment.resend_expected_by = working_calendar().add_working_days(now, policy.RETURN_TRANSIT_WORKING_DAYS)
        shipment.tracking_checked_at = None  # the new parcel has not been asked about yet
        shipment.save()
        _return_event(req, shipment, "return_resent", actor=seller, role=_role(req, seller),
                      data={"courier": courier, "receipt": receipt_number})
        refund_task_refresh(refund_request=req)
        _notify_resend(req, shipment, req.buyer, "return_resent", courier=shipment.get_resend_courier_display(),
                       receipt=receipt_number)
        return shipment


def _back_with_buyer(req: RefundRequest, shipment: ReturnShipment, *, at: dt.datetime, source: str, actor) -> None:
    shipment.back_with_buyer()
    shipment.back_with_buyer_at, shipment.back_with_buyer_source = at, source
    shipment.save()
    _return_event(req, shipment, "return_back_with_buyer", actor=actor, role="buyer" if actor else "system",
                  data={"source": source, "at": at.isoformat()})
    refund_task_refresh(refund_request=req)
    for party in (req.buyer, req.escrow_transaction.seller):
        _notify_resend(req, shipment, party, "return_back_with_buyer", at=format_wib(at))


def return_resend_mark_received(*, return_shipment, buyer) -> ReturnShipment:
    """The buyer has the goods back (delivered, or collected in person before any courier)."""
    with transaction.atomic():
        req, shipment = _lock_shipment(return_shipment)
        if buyer.pk != req.buyer_id:
            raise RefundError(_("Only the buyer says the goods are back with them."), code="forbidden")
        if shipment.status not in (ReturnShipment.Status.RESEND_PENDING, ReturnShipment.Status.RESENT):
            raise RefundError(_("Nothing is on its way back to you for this return."), code="not_resent")
        _back_with_buyer(req, shipment, at=timezone.now(), source="buyer", actor=buyer)
        return shipment


def refund_notify_rejection_upheld(*, refund_request: RefundRequest) -> None:
    """Tell the buyer that INTRASA upheld the seller's rejection of the returned goods when nothing of the
    escrow was left to release (the payment provider had returned the payment to the buyer already)."""
    _notify(refund_request, refund_request.buyer, "refund_rejected", reason=refund_request.rejected_reason)


def refund_notify_released(*, refund_request: RefundRequest, seller_amount: int) -> None:
    """Tell both parties that the refused refund's money went to the seller (the flow that released it
    calls this once the money moved)."""
    req = refund_request
    _notify(req, req.buyer, "refund_released_buyer", reason=req.rejected_reason,
            whatsapp=policy.CUSTOMER_SERVICE_WHATSAPP)
    _notify(req, req.escrow_transaction.seller, "refund_released_seller", reason=req.rejected_reason,
            seller_amount=format_rupiah(seller_amount), resend_days=policy.RESEND_SHIP_WORKING_DAYS)


def _return_step(req: RefundRequest, shipment: ReturnShipment, now: dt.datetime) -> NextStep | None:
    """The next step of a return that is not accepted yet (``policy``: returns), or ``None``."""
    statuses = ReturnShipment.Status
    calendar = working_calendar()

    def late(task: str, since: dt.datetime) -> NextStep:
        return _staff_step(task, calendar.add_working_hours(since, policy.STAFF_TASK_WORKING_HOURS))

    if shipment.status == statuses.AWAITING_ADDRESS:
        if now < shipment.address_due_at:
            return NextStep("seller", _("The seller gives the address the goods go back to."), shipment.address_due_at)
        return late(policy.StaffTask.RETURN_ADDRESS, shipment.address_due_at)
    # Each status has its own deadline, set by the transition that entered it (``now`` only if missing).
    if shipment.status == statuses.AWAITING_SHIPMENT:
        ship_by = shipment.ship_by or now
        if now < ship_by:
            return NextStep("buyer", _("Ship the goods back to the seller's address with the RMA number and enter "
                                       "the courier and receipt number below."), ship_by)
        return late(policy.StaffTask.RETURN_SHIPMENT, ship_by)
    if shipment.status == statuses.SHIPPED_BACK:
        expected = shipment.arrival_expected_by or now
        if now < expected:
            return NextStep("seller", _("The goods are on their way back; the seller confirms they arrived and "
                                        "inspects them."), expected)
        return late(policy.StaffTask.RETURN_ARRIVAL, expected)
    if shipment.status == statuses.ARRIVED:
        inspect_by = shipment.inspect_by or now
        if now < inspect_by:
            return NextStep("seller", _("The seller inspects the returned goods and records the result."), inspect_by)
        return _staff_step(policy.StaffTask.RECORD_INSPECTION,
                           calendar.add_working_hours(inspect_by, policy.STAFF_TASK_WORKING_HOURS))
    if shipment.status == statuses.REJECTED:
        return late(policy.StaffTask.DECIDE_INSPECTION, shipment.inspected_at or now)
    return None


def _resend_step(shipment: ReturnShipment, now: dt.datetime) -> NextStep:
    """The next step of the goods' way back to the buyer after an upheld rejection (``policy``:
    RESEND_*); a step past its deadline is a dated task of a named Finance member."""
    statuses = ReturnShipment.Status
    calendar = working_calendar()
    if shipment.status == statuses.RESEND_ADDRESS:
        due, task = shipment.buyer_address_due_at or now, policy.StaffTask.RESEND_ADDRESS
        step = NextStep("buyer", _("Enter below the address the goods you sent back go to."), due)
    elif shipment.status == statuses.RESEND_PENDING:
        due, task = shipment.resend_by or now, policy.StaffTask.RESEND_SHIPMENT
        step = NextStep("seller", _("The seller sends the goods back to the buyer's address and enters the courier and "
                                    "receipt number."), due)
    else:
        due, task = shipment.resend_expected_by or now, policy.StaffTask.RESEND_ARRIVAL
        step = NextStep("buyer", _("The goods are on their way back to you: mark them received below when they "
                                   "arrive."), due)
    if now < due:
        return step
    return _staff_step(task, calendar.add_working_hours(due, policy.STAFF_TASK_WORKING_HOURS))


# --- failed but charged: Finance book the charge the buyer proved (policy: failed but charged) ----

def refund_charge_book(*, refund_request, actor, source: str, reason: str, reference: str = "",
                       statement_line_id: int | None = None, bill_id: int | None = None, amount: int | None = None,
                       report=None) -> RefundRequest:
    """Finance found the charge the buyer proved and book it, with the reason and the evidence:

    * ``source="statement"``: an unmatched credit of INTRASA's bank statement (``statement_line_id``),
      moved from suspense to what is owed to this buyer (``payments.services.statement_line_assign``);
    * ``source="provider"``: Faspay's transaction report shows the charge on one of the transaction's
      bills (``bill_id``, the report's ``amount`` and trx_id in ``reference``), which is recorded paid
      and owed back (``payments.services.bill_record_charge_from_report``); the report itself may be
      attached (``report``, re-encoded like every upload).

    The request then carries exactly the booked money (its amount becomes what the books say) and goes
    on like any other refund: approval, then the transfer to the buyer's own account."""
    from django.core.exceptions import ValidationError

    from payments import services as payment_services

    _require_approver(actor)
    reason = (reason or "").strip()
    if not reason:
        raise RefundError(_("Please give a reason."), code="reason_required")
    if source not in policy.CHARGE_SOURCES:
        raise RefundError(_("Choose where the charge shows: the bank statement or Faspay's report."), code="source")
    checked = None
    if report is not None:
        try:
            checked = check_upload(report, allowed_kinds=("image", "document"))
        except ValidationError as exc:
            raise RefundError(exc.messages[0], code=exc.code or "invalid_file") from None
    req = RefundRequest.objects.select_related("escrow_transaction").get(pk=getattr(refund_request, "pk", refund_request))
    txn = req.escrow_transaction
    if not req.needs_charge_booked or req.status not in (RefundRequest.Status.AWAITING_DOCUMENTS,
                                                         RefundRequest.Status.IN_REVIEW):
        raise RefundError(_("This request is not waiting for a charge to be booked."), code="not_awaiting_charge")
    if not req.documents.filter(kind=Document.BANK_STATEMENT, source=RefundDocument.Source.BUYER).exists():
        raise RefundError(_("The buyer's statement or debit proof is not attached yet: it is the evidence of the "
                            "charge."), code="evidence_missing")
    try:
        with transaction.atomic():
            if source == "provider":
                if bill_id is None or not txn.bills.filter(pk=bill_id).exists():
                    raise RefundError(_("Choose the bill of this transaction that Faspay's report shows paid."),
                                      code="bill_required")
                # The bill ranks before the request in the lock order: it is booked first.
                owed = payment_services.bill_record_charge_from_report(
                    bill_id=bill_id, amount=amount if amount is not None else 0, trx_id=reference, actor=actor,
                    reason=reason)
                req = _lock(req)
                req.bill_id = bill_id
                booked = sum(item.amount for item in owed)
            else:
                if statement_line_id is None:
                    raise RefundError(_("Choose the bank statement line of the charge."), code="line_required")
                req = _lock(req)
                line = payment_services.statement_line_assign(line_id=statement_line_id, escrow_transaction_id=txn.pk,
                                                              actor=actor, reason=reason)
                req.statement_line = line
                reference, booked = line.bank_reference, line.amount
            _book_charge(req, actor=actor, source=source, reference=reference, booked=booked, reason=reason,
                         checked=checked, report=report)
            return req
    except payment_services.StaffPaymentError as exc:
        raise RefundError(exc.message, code=exc.code) from None


def _book_charge(req: RefundRequest, *, actor, source: str, reference: str, booked: int, reason: str, checked,
                 report) -> None:
    from transactions.services import transaction_record_event

    if booked <= 0:
        raise RefundError(_("Nothing of this charge is owed back to the buyer."), code="nothing_owed")
    claimed = req.amount
    req.amount = booked
    req.charge_source, req.charge_reference = source, reference[:100]
    req.charge_booked_at, req.charge_booked_by = timezone.now(), actor
    req.save(update_fields=["amount", "bill", "statement_line", "charge_source", "charge_reference",
                            "charge_booked_at", "charge_booked_by"])
    label = (_("Faspay's transaction report, trx_id %(ref)s") if source == "provider"
             else _("INTRASA's bank statement, reference %(ref)s")) % {"ref": reference}
    proof = _("Charge of %(amount)s booked from %(source)s") % {"amount": format_rupiah(booked), "source": label}
    present = {doc.kind for doc in req.documents.all()}
    if Document.PROOF_OF_PAYMENT not in present:
        RefundDocument.objects.create(request=req, kind=Document.PROOF_OF_PAYMENT, source=RefundDocument.Source.SYSTEM,
                                      value=proof[:255])
    doc = RefundDocument(request=req, kind=Document.BANK_STATEMENT, source=RefundDocument.Source.STAFF,
                         value=proof[:255], uploaded_by=actor)
    if checked is not None:
        doc.original_name = (report.name or "")[:200]
        doc.content_type, doc.size, doc.sha256 = checked.content_type, checked.size, checked.sha256
        doc.original_sha256 = checked.original_sha256
        doc.file.save(private_path(f"refunds/{req.escrow_transaction.reference}", checked.extension), checked.content,
                      save=False)
    doc.save()
    audit_record(actor=actor, action="refund.charge_booked", target=req, reason=reason,
                 data={"source": source, "reference": reference, "booked": booked, "claimed": claimed,
                       "report_sha256": doc.sha256})
    transaction_record_event(req.escrow_transaction, action="refund_charge_booked", actor=actor, role="staff",
                             reason=reason, data={"amount": booked, "source": source})
    _after_documents_changed(req)
    _notify(req, req.buyer, "refund_charge_booked", source=label)


# --- short shipment: the missing part, and nothing more (policy: short shipment) ------------------

def short_shipment_claim_record(*, dispute, price: int, missing_items: str, missing_value) -> ShortShipmentClaim:
    """What the buyer says was missing and its value, recorded with the dispute they open (called by
    ``disputes.services.dispute_open`` in its database transaction)."""
    missing_items = (missing_items or "").strip()
    if not missing_items:
        raise RefundError(_("Say which items or parts were missing."), code="missing_items_required")
    if not isinstance(missing_value, int) or isinstance(missing_value, bool) or \
            not policy.short_shipment_value_valid(missing_value=missing_value, price=price):
        raise RefundError(_("Enter the value of the missing part: more than %(min)s and less than the item price "
                            "%(max)s. If nothing arrived, choose “Not received”.")
                          % {"min": format_rupiah(0), "max": format_rupiah(price)}, code="invalid_missing_value")
    claim = ShortShipmentClaim.objects.create(dispute=dispute, missing_items=missing_items[:2000],
                                              missing_value=missing_value)
    audit_record(actor=dispute.opened_by, action="refund.short_shipment_claim", target=claim,
                 data={"dispute": dispute.pk, "missing_value": missing_value})
    return claim


def short_shipment_claim_settle(*, dispute, amount: int, by_agreement: bool) -> ShortShipmentClaim | None:
    """The dispute of a short shipment ended in a split: record what the buyer gets for the missing part.
    Staff decide at most what the buyer claimed (the missing part, and nothing more); the seller may
    agree to more."""
    claim = ShortShipmentClaim.objects.filter(dispute=dispute).first()
    if claim is None:
        return None
    if not by_agreement and amount > claim.missing_value:
        raise RefundError(_("A short shipment refunds the missing part: at most %(max)s, the value the buyer "
                            "claimed.") % {"max": format_rupiah(claim.missing_value)}, code="over_missing_value")
    ShortShipmentClaim.objects.filter(pk=claim.pk).update(agreed_at=timezone.now(), agreed_amount=amount)
    return claim


# --- a payment the provider took back ---------------------------------------------------------

def refund_requests_of_reversed_payment(*, bill, funded_transaction_ids) -> list[RefundRequest]:
    """The open requests that would return money of ``bill``, a payment Faspay took back: what the bill owed
    back (``bill``'s own requests), and — for the transactions whose escrow the bill funded
    (``funded_transaction_ids``) — the refunds of that escrow (a refund in full, a dispute's split). The
    reversal's flow (``escrow.services.escrow_book_provider_reversal``) closes them. One query."""
    carrying = Q(bill=bill) | Q(escrow_transaction__in=list(funded_transaction_ids),
                                source_key__regex=r"^(escrow-refund|dispute-split):")
    return list(RefundRequest.objects.filter(carrying, status__in=RefundRequest.OPEN_STATUSES).order_by("pk"))


def refund_returned_by_provider(refund_request: RefundRequest) -> int:
    """What of this open request Faspay returned to the buyer by reversing the payment: all of it but the
    return shipping INTRASA advanced (``uncovered_amount``), which the buyer is still owed. Refused once its
    transfer is planned (approved): that payout cannot be withdrawn yet."""
    req = refund_request
    if req.status == RefundRequest.Status.PAYING:
        raise RefundError(_("The refund for %(reference)s is already approved and its transfer planned; it is "
                            "held while the payment is reversed. Withdrawing a planned transfer is not possible "
                            "yet: ask engineering before booking the reversal.")
                          % {"reference": req.escrow_transaction.reference}, code="paying")
    return req.amount - req.uncovered_amount


def refund_request_close_returned_by_provider(*, refund_request, actor, reason: str) -> RefundRequest:
    """Faspay returned this request's money to the buyer by reversing the payment (the reversal's flow takes it
    off the buyer refund payable in the same database transaction): the request closes and nothing is sent;
    or, when it includes return shipping INTRASA advanced, it goes on for that advance alone. The buyer is
    told which."""
    with transaction.atomic():
        req = _lock(refund_request)
        returned = refund_returned_by_provider(req)
        if not can_proceed(req.close_returned_by_provider):
            raise RefundError(_("This refund request is already closed."), code="closed")
        if req.uncovered_amount:
            req.amount = req.uncovered_amount  # the return shipping INTRASA advanced: still the buyer's
            req.save(update_fields=["amount"])
            _notify(req, req.buyer, "refund_reduced_returned_by_provider",
                    returned=format_rupiah(returned), left=format_rupiah(req.amount))
        else:
            req.close_returned_by_provider()
            req.closed_by = actor
            req.completed_at = timezone.now()
            req.save(update_fields=["status", "closed_by", "completed_at"])
            _notify(req, req.buyer, "refund_returned_by_provider")
        audit_record(actor=actor, action="refund.returned_by_provider", target=req, reason=reason,
                     data={"returned": returned, "left": req.amount if req.uncovered_amount else 0,
                           "bill": req.bill_id})
        refund_task_refresh(refund_request=req)
        return req
