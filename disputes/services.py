"""Every change to a dispute goes through a function here (DESIGN.md §3).

Opening a dispute freezes the money through ``transactions.services.transaction_open_dispute``
(state ``disputed``: the escrow hold stays, auto-confirm skips it). The parties then talk, upload
evidence and propose settlements; an accepted offer resolves the dispute without staff. Without an
answer in time (``refunds.policy`` deadlines, working days, WIB) the beat job hands the dispute to
staff, who resolve it in the admin through ``dispute_resolve`` — the same resolution path as an
agreement, so the ledger, timeline and refund request are identical whoever decided.
"""
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from disbursements.services import seller_payout_plan
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import check_rupiah_range, format_rupiah
from intrasa.uploads import check_upload, private_path
from intrasa.wib import format_wib
from notifications.services import notify
from payments.selectors import payment_reversed
from refunds import policy
from refunds import services as refund_services
from refunds.policy import DisputeReason, RefundCase, ReturnShippingPayer
from transactions import services as transaction_services
from transactions.models import EscrowTransaction, can_resolve_disputes
from transactions.selectors import refundable_in_full
from workdays.calendar import working_calendar

from .models import Dispute, DisputeMessage, Evidence, PartyRole, SettlementOffer

if TYPE_CHECKING:
    from refunds.models import RefundRequest


class DisputeError(ServiceError):
    """A refused dispute action; the message is meant for the person who tried it."""


# --- helpers --------------------------------------------------------------------------------

def _lock(dispute) -> Dispute:
    """The dispute, locked after its transaction (``intrasa.locks``' order): resolving moves the
    transaction's money, and the transaction is always locked first."""
    pk = dispute.pk if isinstance(dispute, Dispute) else dispute
    locks.lock_transaction(Dispute.objects.values_list("escrow_transaction_id", flat=True).get(pk=pk))
    return locks.lock(Dispute, pk, related=("escrow_transaction", "escrow_transaction__seller",
                                            "escrow_transaction__buyer"))


def role_of(dispute: Dispute, user) -> str | None:
    txn = dispute.escrow_transaction
    if user is None or not user.is_authenticated:
        return None
    if user.pk == txn.buyer_id:
        return PartyRole.BUYER
    if user.pk == txn.seller_id:
        return PartyRole.SELLER
    if user.is_staff:
        return PartyRole.STAFF
    return None


def _notify(dispute: Dispute, user, kind: str, key: str, **extra) -> None:
    if user is None:
        return
    txn = dispute.escrow_transaction
    notify(event_key=f"dispute:{dispute.pk}:{key}:{user.pk}", kind=kind, recipient=user,
           context={"reference": txn.reference, "title": txn.title, **extra}, link=dispute.get_absolute_url())


def _others(dispute: Dispute, role: str) -> list:
    txn = dispute.escrow_transaction
    return [user for r, user in ((PartyRole.BUYER, txn.buyer), (PartyRole.SELLER, txn.seller)) if r != role]


def _check_file(upload, purpose: str):
    if purpose not in Evidence.Purpose.values:
        raise DisputeError(_("Say what the file shows."), code="purpose_required")
    try:
        return check_upload(upload)
    except ValidationError as exc:
        raise DisputeError(exc.messages[0], code=exc.code or "invalid_file") from None


def _store_evidence(dispute, *, uploader, role, upload, checked, purpose, message=None) -> Evidence:
    evidence = Evidence(dispute=dispute, message=message, uploaded_by=uploader, role=role, purpose=purpose,
                        original_name=(upload.name or "")[:200], content_type=checked.content_type,
                        size=checked.size, sha256=checked.sha256, original_sha256=checked.original_sha256)
    # The cleaned bytes (intrasa.uploads), never the upload itself.
    evidence.file.save(private_path(f"disputes/{dispute.escrow_transaction.reference}", checked.extension),
                       checked.content, save=False)
    evidence.save()
    return evidence


def offer_summary(outcome: str, buyer_amount: int, held: int) -> str:
    if outcome == SettlementOffer.Outcome.RELEASE:
        return _("release everything to the seller")
    if outcome == SettlementOffer.Outcome.REFUND:  # the amount a refund in full gives the buyer
        return _("refund the buyer in full (%(amount)s)") % {"amount": format_rupiah(buyer_amount)}
    return _("%(buyer)s to the buyer, %(seller)s to the seller before the service fee") % {
        "buyer": format_rupiah(buyer_amount), "seller": format_rupiah(held - buyer_amount)}


def _escalate(dispute: Dispute, why: str, now) -> None:
    """Hand the dispute to staff (locked row); their decision is due within the SLA."""
    if dispute.status != Dispute.Status.OPEN:
        return
    dispute.escalate()
    dispute.escalated_at = now
    dispute.escalation_reason = why[:255]
    dispute.staff_due_at = working_calendar().add_working_hours(now, policy.STAFF_DECISION_WORKING_HOURS)
    dispute.save(update_fields=["status", "escalated_at", "escalation_reason", "staff_due_at"])
    DisputeMessage.objects.create(dispute=dispute, role=PartyRole.SYSTEM,
                                  body=_("Handed to INTRASA staff: %(why)s") % {"why": why})
    audit_record(actor=None, action="dispute.escalate", target=dispute, reason=why)
    txn = dispute.escrow_transaction
    for party in (txn.buyer, txn.seller):
        _notify(dispute, party, "dispute_escalated", f"escalated:{now.timestamp():.0f}", why=why,
                deadline=format_wib(dispute.staff_due_at))


# --- opening --------------------------------------------------------------------------------

def dispute_open(*, escrow_transaction, buyer, reason: str, description: str, upload=None,
                 evidence_purpose: str = Evidence.Purpose.PHOTO, missing_items: str = "",
                 missing_value: int | None = None) -> Dispute:
    """The buyer opens a claim before confirming receipt: the money freezes at once. A short shipment
    states what was missing and its value (``missing_items``, ``missing_value``; ``refunds.policy``)."""
    description = (description or "").strip()
    if reason not in DisputeReason.values:
        raise DisputeError(_("Choose what went wrong."), code="reason_required")
    if not description:
        raise DisputeError(_("Describe the problem."), code="description_required")
    checked = _check_file(upload, evidence_purpose) if upload else None
    now = timezone.now()
    with transaction.atomic():
        txn = locks.lock_transaction(escrow_transaction)
        if reason == DisputeReason.RETURN_NO_DEFECT and not policy.non_defect_return_allowed(
                accepts_returns=txn.accepts_returns, shipped=txn.shipped_at is not None):
            raise DisputeError(_("The seller does not accept returns of items as described for this transaction "
                                 "(or nothing was shipped yet). For a defect or a wrong item choose that reason."),
                               code="returns_not_accepted")
        if reason == DisputeReason.NOT_SHIPPED and not policy.not_shipped_claim_allowed(
                shipped=txn.shipped_at is not None, shipping_deadline=txn.shipping_deadline, now=now):
            raise DisputeError(_("A “not shipped” claim is possible only after the shipping deadline (%(deadline)s) "
                                 "has passed without a shipment.") % {"deadline": format_wib(txn.shipping_deadline)},
                               code="deadline_not_passed")
        label = DisputeReason(reason).label
        try:
            transaction_services.transaction_open_dispute(escrow_transaction=txn, buyer=buyer,
                                                          reason=f"{label}: {description}")
        except transaction_services.TransactionActionError as exc:
            raise DisputeError(exc.message, code=exc.code) from None
        dispute = Dispute.objects.create(
            escrow_transaction=txn, reason=reason, description=description, opened_by=buyer,
            seller_reply_due_at=working_calendar().add_working_days(now, policy.SELLER_FIRST_REPLY_WORKING_DAYS))
        message = DisputeMessage.objects.create(dispute=dispute, author=buyer, role=PartyRole.BUYER,
                                                body=description)
        if checked is not None:
            _store_evidence(dispute, uploader=buyer, role=PartyRole.BUYER, upload=upload, checked=checked,
                            purpose=evidence_purpose, message=message)
        if reason == DisputeReason.SHORT_SHIPMENT:
            try:
                refund_services.short_shipment_claim_record(dispute=dispute, price=txn.price,
                                                            missing_items=missing_items, missing_value=missing_value)
            except refund_services.RefundError as exc:
                raise DisputeError(exc.message, code=exc.code) from None
        audit_record(actor=buyer, action="dispute.open", target=dispute, reason=description, data={"reason": reason})
        if reason in policy.STAFF_VERIFIED_REASONS:
            _escalate(dispute, _("the seller did not ship by the deadline; INTRASA verifies the claim"), now)
        return dispute


# --- talking --------------------------------------------------------------------------------

def dispute_post_message(*, dispute, author, body: str, upload=None,
                         evidence_purpose: str = Evidence.Purpose.PHOTO) -> DisputeMessage:
    """A party (or customer service) writes in the thread, optionally with one file."""
    body = (body or "").strip()
    if not body and upload is None:
        raise DisputeError(_("Write a message or attach a file."), code="empty")
    checked = _check_file(upload, evidence_purpose) if upload else None
    with transaction.atomic():
        dispute = _lock(dispute)
        role = role_of(dispute, author)
        if role is None or (role == PartyRole.STAFF and not author.has_perm("disputes.add_disputemessage")):
            raise DisputeError(_("You are not allowed to do this."), code="forbidden")
        if not dispute.is_open:
            raise DisputeError(_("This dispute is resolved."), code="resolved")
        message = DisputeMessage.objects.create(dispute=dispute, author=author, role=role,
                                                body=body or _("(file attached)"))
        if checked is not None:
            _store_evidence(dispute, uploader=author, role=role, upload=upload, checked=checked,
                            purpose=evidence_purpose, message=message)
        if role == PartyRole.SELLER and dispute.seller_replied_at is None:
            dispute.seller_replied_at = timezone.now()
            dispute.save(update_fields=["seller_replied_at"])
        for user in _others(dispute, role):
            _notify(dispute, user, "dispute_message", f"message:{message.pk}", author=author.full_name,
                    excerpt=message.body[:200])
        return message


# --- settling -------------------------------------------------------------------------------

def _validate_outcome(dispute: Dispute, outcome: str, buyer_amount: int | None, *, seller_agrees: bool) -> int:
    """``seller_agrees``: a settlement offer takes effect only with the seller's consent (they propose
    or accept it), and the licence/voucher exclusion never applies when the seller agrees. A refund is
    of what the buyer paid (``refundable_in_full``: a bank transfer's unique-code discount stays INTRASA's)."""
    if outcome == SettlementOffer.Outcome.RELEASE:
        return 0
    if refund_services.refund_excluded(dispute.escrow_transaction, dispute_reason=dispute.reason,
                                       seller_agrees=seller_agrees):
        raise DisputeError(_("Delivered or activated digital licences and voucher codes are not refundable."),
                           code="excluded")
    in_full = refundable_in_full(escrow_transaction=dispute.escrow_transaction)
    if outcome == SettlementOffer.Outcome.REFUND:
        return in_full
    if outcome != SettlementOffer.Outcome.SPLIT:
        raise DisputeError(_("Choose an outcome."), code="outcome_required")
    if not check_rupiah_range(buyer_amount, minimum=1, maximum=in_full - 1):
        raise DisputeError(_("In a split the buyer's amount must be more than %(min)s and less than %(max)s.")
                           % {"min": format_rupiah(0), "max": format_rupiah(in_full)}, code="invalid_split")
    return buyer_amount


def offer_propose(*, dispute, proposer, outcome: str, buyer_amount: int | None = None,
                  return_shipping_payer: str = ReturnShippingPayer.NONE, note: str = "") -> SettlementOffer:
    """A party proposes how to end the dispute; the other has until ``respond_by`` to answer."""
    if return_shipping_payer not in ReturnShippingPayer.values:
        raise DisputeError(_("Say who pays the return shipping."), code="return_shipping")
    with transaction.atomic():
        dispute = _lock(dispute)
        role = role_of(dispute, proposer)
        if role not in (PartyRole.BUYER, PartyRole.SELLER):
            raise DisputeError(_("Only the buyer or the seller can propose a settlement."), code="forbidden")
        if not dispute.is_open:
            raise DisputeError(_("This dispute is resolved."), code="resolved")
        amount = _validate_outcome(dispute, outcome, buyer_amount, seller_agrees=True)
        now = timezone.now()
        dispute.offers.filter(status=SettlementOffer.Status.PENDING).update(status=SettlementOffer.Status.SUPERSEDED)
        offer = SettlementOffer.objects.create(
            dispute=dispute, proposed_by=proposer, role=role, outcome=outcome, buyer_amount=amount,
            return_shipping_payer=return_shipping_payer, note=(note or "").strip(),
            respond_by=working_calendar().add_working_days(now, policy.OFFER_REPLY_WORKING_DAYS))
        if role == PartyRole.SELLER and dispute.seller_replied_at is None:
            dispute.seller_replied_at = now
            dispute.save(update_fields=["seller_replied_at"])
        held = dispute.escrow_transaction.amount_received or 0
        DisputeMessage.objects.create(
            dispute=dispute, author=proposer, role=role,
            body=_("Proposed settlement: %(offer)s. %(shipping)s. %(note)s") % {
                "offer": offer_summary(outcome, amount, held), "shipping": offer.get_return_shipping_payer_display(),
                "note": offer.note})
        audit_record(actor=proposer, action="dispute.offer", target=dispute,
                     data={"outcome": outcome, "buyer_amount": amount, "offer": offer.pk})
        for user in _others(dispute, role):
            _notify(dispute, user, "offer_proposed", f"offer:{offer.pk}", author=proposer.full_name,
                    offer=offer_summary(outcome, amount, held), deadline=format_wib(offer.respond_by))
        return offer


def _pending_offer_for_answer(offer, user) -> tuple[Dispute, SettlementOffer, str]:
    dispute = _lock(offer.dispute_id)
    offer = locks.lock(SettlementOffer, offer.pk)
    role = role_of(dispute, user)
    if role not in (PartyRole.BUYER, PartyRole.SELLER) or role == offer.role:
        raise DisputeError(_("Only the other party can answer this offer."), code="forbidden")
    if offer.status != SettlementOffer.Status.PENDING or not dispute.is_open:
        raise DisputeError(_("This offer can no longer be answered."), code="not_pending")
    if offer.respond_by < timezone.now():
        raise DisputeError(_("The time to answer this offer has passed; INTRASA staff will decide."),
                           code="expired")
    return dispute, offer, role


def offer_accept(*, offer, user) -> Dispute:
    """The other party accepts: the dispute is resolved by agreement, without staff."""
    with transaction.atomic():
        dispute, offer, role = _pending_offer_for_answer(offer, user)
        now = timezone.now()
        offer.accept()
        offer.responded_by, offer.responded_at = user, now
        offer.save(update_fields=["status", "responded_by", "responded_at"])
        held = dispute.escrow_transaction.amount_received or 0
        summary = offer_summary(offer.outcome, offer.buyer_amount, held)
        reason = _("Settlement by agreement: %(offer)s; proposed by %(proposer)s (%(proposer_role)s), accepted by "
                   "%(accepter)s (%(accepter_role)s).") % {
            "offer": summary, "proposer": offer.proposed_by.full_name, "proposer_role": offer.get_role_display(),
            "accepter": user.full_name, "accepter_role": PartyRole(role).label}
        _resolve(dispute, outcome=offer.outcome, buyer_amount=offer.buyer_amount, actor=user, reason=reason,
                 by_agreement=True, return_shipping_payer=offer.return_shipping_payer)
        _notify(dispute, offer.proposed_by, "offer_accepted", f"offer:{offer.pk}:accepted", author=user.full_name,
                offer=summary)
        return dispute


def offer_reject(*, offer, user, note: str = "") -> SettlementOffer:
    with transaction.atomic():
        dispute, offer, role = _pending_offer_for_answer(offer, user)
        offer.reject()
        offer.responded_by, offer.responded_at = user, timezone.now()
        offer.response_note = (note or "").strip()
        offer.save(update_fields=["status", "responded_by", "responded_at", "response_note"])
        held = dispute.escrow_transaction.amount_received or 0
        summary = offer_summary(offer.outcome, offer.buyer_amount, held)
        DisputeMessage.objects.create(dispute=dispute, author=user, role=role,
                                      body=_("Rejected the settlement (%(offer)s). %(note)s")
                                      % {"offer": summary, "note": offer.response_note})
        if role == PartyRole.SELLER and dispute.seller_replied_at is None:
            dispute.seller_replied_at = offer.responded_at
            dispute.save(update_fields=["seller_replied_at"])
        _notify(dispute, offer.proposed_by, "offer_rejected", f"offer:{offer.pk}:rejected", author=user.full_name,
                offer=summary, note=offer.response_note)
        return offer


# --- resolving ------------------------------------------------------------------------------

def dispute_resolve(*, dispute, staff, outcome: str, reason: str, buyer_amount: int | None = None,
                    refund_case: str = RefundCase.SETTLEMENT, return_shipping: int = 0) -> Dispute:
    """Staff decide (admin actions): release, full refund or split, with their reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DisputeError(_("Please give a reason."), code="reason_required")
    if not check_rupiah_range(return_shipping, minimum=0, maximum=settings.INTRASA_MAX_TRANSACTION_AMOUNT):
        raise DisputeError(_("The return shipping must be between %(min)s and %(max)s.")
                           % {"min": format_rupiah(0), "max": format_rupiah(settings.INTRASA_MAX_TRANSACTION_AMOUNT)},
                           code="return_shipping")
    with transaction.atomic():
        dispute = _lock(dispute)
        if not can_resolve_disputes(dispute.escrow_transaction, staff):
            raise DisputeError(_("You are not allowed to resolve disputes."), code="forbidden")
        if not dispute.is_open:
            raise DisputeError(_("This dispute is resolved."), code="resolved")
        if return_shipping and policy.dispute_refund_case(dispute.reason) != RefundCase.RETURN_SELLER_FAULT:
            # Refund policy §2: return shipping (PP) only "jika sudah mengirim balik" — goods the seller got
            # wrong that the buyer sent back. Not shipped, not received, cancelled: there were none.
            raise DisputeError(_("Return shipping is refunded only for goods the buyer sent back because of the "
                                 "seller's fault (defective, wrong or not as described); this dispute has none."),
                               code="return_shipping")
        amount = _validate_outcome(dispute, outcome, buyer_amount, seller_agrees=False)
        if RefundCase.RETURN_NON_DEFECT in (policy.dispute_refund_case(dispute.reason), refund_case):
            _within_the_non_defect_refund(dispute.escrow_transaction, outcome, amount)
        _resolve(dispute, outcome=outcome, buyer_amount=amount, actor=staff, reason=reason, by_agreement=False,
                 refund_case=refund_case, return_shipping=return_shipping)
        return dispute


def _resolve(dispute: Dispute, *, outcome: str, buyer_amount: int, actor, reason: str, by_agreement: bool,
             refund_case: str = RefundCase.SETTLEMENT, return_shipping: int = 0,
             return_shipping_payer: str = "", restocking_fee: int = 0) -> None:
    """The dispute's money flow, every step by name, in the caller's database transaction (the
    transaction and the dispute are locked):

    1. the escrow money moves (``transactions.services``): released to seller payable, returned to
       buyer refund payable, or split between them (who bears the fee: ``refunds.policy``);
    2. what is owed to the buyer gets its refund request (``refunds.services``);
    3. what is owed to the seller gets its payout (``disbursements.services.seller_payout_plan``);
    4. the dispute records the outcome.
    Money is released only if the provider has not reversed the payment.
    """
    txn = dispute.escrow_transaction
    held = txn.amount_received or 0
    # What the buyer paid, which a refund in full gives back: read before the refund posts (it takes the
    # unique-code discount back, after which the ledger no longer shows it).
    in_full = refundable_in_full(escrow_transaction=txn) if outcome == SettlementOffer.Outcome.REFUND else 0
    if outcome == SettlementOffer.Outcome.SPLIT and dispute.reason == DisputeReason.SHORT_SHIPMENT:
        # The missing part of a short shipment, and nothing more; the buyer keeps what arrived.
        try:
            if refund_services.short_shipment_claim_settle(dispute=dispute, amount=buyer_amount,
                                                           by_agreement=by_agreement) is not None:
                refund_case, return_shipping_payer = RefundCase.SHORT_SHIPMENT, ReturnShippingPayer.NONE
        except refund_services.RefundError as exc:
            raise DisputeError(exc.message, code=exc.code) from None
    # Whatever the outcome: a reversed payment is back with the buyer already, so neither the seller nor
    # (again) the buyer is paid from it until staff settle the reversal with Faspay.
    if payment_reversed(escrow_transaction=txn):
        raise DisputeError(_("The payment was reversed by the provider; INTRASA staff will contact you before "
                             "anything is released."), code="payment_reversed")
    try:
        if outcome == SettlementOffer.Outcome.RELEASE and not by_agreement:
            transaction_services.transaction_resolve_release(escrow_transaction=txn, staff=actor, reason=reason)
            seller_amount = txn.seller_receives
        elif outcome == SettlementOffer.Outcome.REFUND:
            # By agreement both parties consented; the timeline records who accepted.
            transaction_services.transaction_refund(escrow_transaction=txn, actor=actor, reason=reason,
                                                    by_agreement=by_agreement)
            seller_amount = 0
        else:  # a split, or a release by agreement (a split with nothing for the buyer)
            amount = buyer_amount if outcome == SettlementOffer.Outcome.SPLIT else 0
            split = policy.split_allocation(held=held, buyer_amount=amount, fee_amount=txn.fee_amount)
            transaction_services.transaction_resolve_split(
                escrow_transaction=txn, actor=actor, buyer_amount=split.buyer, seller_amount=split.seller,
                fee=split.fee, reason=reason, by_agreement=by_agreement)
            seller_amount = split.seller
    except transaction_services.TransactionActionError as exc:
        raise DisputeError(exc.message, code=exc.code) from None
    # A fresh instance rather than refresh_from_db(): django-fsm's refresh lifts the protection
    # of the status field for every thread while it runs.
    txn = type(txn).objects.get(pk=txn.pk)
    request: RefundRequest | None
    if outcome == SettlementOffer.Outcome.SPLIT:
        request = refund_services.refund_request_create(
            escrow_transaction=txn, case=refund_case, amount=buyer_amount, source_key=f"dispute-split:{dispute.pk}",
            requested_by=actor, dispute=dispute, description=reason, restocking_fee=restocking_fee,
            return_agreed=return_shipping_payer != policy.ReturnShippingPayer.NONE)
    elif outcome == SettlementOffer.Outcome.REFUND:
        request = refund_services.refund_request_for_escrow_refund(
            escrow_transaction=txn, amount=in_full, reason=reason, dispute=dispute,
            return_agreed=return_shipping_payer != policy.ReturnShippingPayer.NONE)
    else:
        request = None
    if seller_amount:
        seller_payout_plan(escrow_transaction=txn, amount=seller_amount, actor=actor)
    if request is not None and return_shipping:
        case = policy.dispute_refund_case(dispute.reason)
        if case == RefundCase.RETURN_SELLER_FAULT:  # goods sent back (``dispute_resolve`` refuses it otherwise)
            figure = policy.refund_amount(case, price=txn.price,
                                          shipping_cost=txn.shipping_cost, buyer_fee=txn.buyer_fee,
                                          held=txn.amount_received or 0, return_shipping=return_shipping,
                                          item_sent_back=True)
            refund_services.refund_advance_return_shipping(refund_request=request, amount=figure.uncovered_amount,
                                                           actor=actor)
    now = timezone.now()
    dispute.resolve()
    dispute.outcome = outcome
    dispute.buyer_amount = buyer_amount
    dispute.resolution_reason = reason
    dispute.resolved_by = actor
    dispute.by_agreement = by_agreement
    dispute.resolved_at = now
    dispute.return_shipping_payer = return_shipping_payer
    dispute.save()
    dispute.offers.filter(status=SettlementOffer.Status.PENDING).update(status=SettlementOffer.Status.CLOSED)
    DisputeMessage.objects.create(dispute=dispute, role=PartyRole.SYSTEM,
                                  body=_("Resolved: %(outcome)s. %(reason)s") % {
                                      "outcome": dispute.get_outcome_display(), "reason": reason})
    audit_record(actor=actor, action="dispute.resolve", target=dispute, reason=reason,
                 data={"outcome": outcome, "buyer_amount": buyer_amount, "by_agreement": by_agreement})


def _within_the_non_defect_refund(txn, outcome: str, buyer_amount: int) -> None:
    """Refund policy §2: a return without a defect refunds the item value only (shipping is not refunded),
    less the seller's restocking fee — whoever decides it, staff included."""
    in_full = refundable_in_full(escrow_transaction=txn)
    most = policy.refund_amount(RefundCase.RETURN_NON_DEFECT, price=txn.price, shipping_cost=txn.shipping_cost,
                                buyer_fee=txn.buyer_fee, held=in_full,
                                restocking_fee_basis_points=txn.restocking_fee_basis_points).amount
    if outcome == SettlementOffer.Outcome.REFUND and most < in_full or (
            outcome == SettlementOffer.Outcome.SPLIT and buyer_amount > most):
        raise DisputeError(_("A return without a defect refunds at most the item value less the restocking fee "
                             "(%(amount)s); shipping is not refunded.") % {"amount": format_rupiah(most)},
                           code="non_defect_limit")


def _lock_for_seller_or_officer(dispute, actor) -> tuple[Dispute, EscrowTransaction, bool]:
    """Inside a service's transaction: lock ``dispute`` for a step the seller agrees to, or a dispute
    officer decides; ``(dispute, its transaction, whether the actor is the seller)``."""
    dispute = _lock(dispute)
    txn = dispute.escrow_transaction
    is_seller = actor.pk == txn.seller_id
    if not (is_seller or can_resolve_disputes(txn, actor)):
        raise DisputeError(_("You are not allowed to do this."), code="forbidden")
    return dispute, txn, is_seller


def dispute_accept_return(*, dispute, actor, note: str = "") -> Dispute:
    """The seller (or staff) accepts a return without a defect (``refunds.policy``: non-defect
    returns): the buyer gets the item value less the seller's stated restocking fee — shipping not
    refunded — once the goods are back (RMA, return receipt, inspection); the seller keeps the rest,
    less INTRASA's fee."""
    with transaction.atomic():
        dispute, txn, is_seller = _lock_for_seller_or_officer(dispute, actor)
        if dispute.reason != DisputeReason.RETURN_NO_DEFECT:
            raise DisputeError(_("Only a return without a defect is accepted this way."), code="not_a_return")
        if not dispute.is_open:
            raise DisputeError(_("This dispute is resolved."), code="resolved")
        in_full = refundable_in_full(escrow_transaction=txn)
        figure = policy.refund_amount(RefundCase.RETURN_NON_DEFECT, price=txn.price, shipping_cost=txn.shipping_cost,
                                      buyer_fee=txn.buyer_fee, held=in_full,
                                      restocking_fee_basis_points=txn.restocking_fee_basis_points)
        outcome = SettlementOffer.Outcome.SPLIT if figure.amount < in_full else SettlementOffer.Outcome.REFUND
        reason = (_("Return without a defect accepted: %(amount)s back to the buyer (item value %(price)s less "
                    "restocking fee %(fee)s; shipping not refunded) when the goods are back.")
                  % {"amount": format_rupiah(figure.amount), "price": format_rupiah(txn.price),
                     "fee": format_rupiah(figure.restocking_fee)})
        if note.strip():
            reason = f"{reason} {note.strip()}"
        _resolve(dispute, outcome=outcome, buyer_amount=figure.amount, actor=actor, reason=reason,
                 by_agreement=is_seller, refund_case=RefundCase.RETURN_NON_DEFECT,
                 return_shipping_payer=ReturnShippingPayer.BUYER, restocking_fee=figure.restocking_fee)
        _notify(dispute, txn.buyer, "dispute_resolved_return", f"return:{dispute.pk}",
                amount=format_rupiah(figure.amount))
        return dispute


def dispute_accept_short_shipment(*, dispute, actor) -> Dispute:
    """The seller (or staff) agree to the buyer's short-shipment claim: the buyer gets the value of the
    missing part back (``refunds.policy``: short shipment), keeps what arrived, and the seller is paid
    the rest, less INTRASA's fee."""
    with transaction.atomic():
        dispute, txn, is_seller = _lock_for_seller_or_officer(dispute, actor)
        claim = getattr(dispute, "short_shipment", None) if dispute.reason == DisputeReason.SHORT_SHIPMENT else None
        if claim is None:
            raise DisputeError(_("Only a short-shipment claim is agreed this way."), code="not_short_shipment")
        if not dispute.is_open:
            raise DisputeError(_("This dispute is resolved."), code="resolved")
        reason = (_("Short shipment agreed: %(amount)s back to the buyer for the missing part (%(items)s); the buyer "
                    "keeps what arrived.") % {"amount": format_rupiah(claim.missing_value), "items": claim.missing_items})
        _resolve(dispute, outcome=SettlementOffer.Outcome.SPLIT, buyer_amount=claim.missing_value, actor=actor,
                 reason=reason, by_agreement=True, refund_case=RefundCase.SHORT_SHIPMENT,
                 return_shipping_payer=ReturnShippingPayer.NONE)
        return dispute


# --- clocks ---------------------------------------------------------------------------------

def dispute_escalate_overdue() -> int:
    """Beat job: offers nobody answered in time, and sellers who never replied, go to staff."""
    now = timezone.now()
    escalated = 0
    overdue_offers = SettlementOffer.objects.filter(status=SettlementOffer.Status.PENDING, respond_by__lt=now,
                                                    dispute__status=Dispute.Status.OPEN)
    for offer_id, dispute_id in overdue_offers.values_list("pk", "dispute_id")[:200]:
        with transaction.atomic():
            dispute = _lock(dispute_id)
            updated = SettlementOffer.objects.filter(pk=offer_id, status=SettlementOffer.Status.PENDING).update(
                status=SettlementOffer.Status.EXPIRED)
            if updated and dispute.status == Dispute.Status.OPEN:
                _escalate(dispute, _("a settlement offer was not answered in time"), now)
                escalated += 1
    silent = Dispute.objects.filter(status=Dispute.Status.OPEN, seller_replied_at__isnull=True,
                                    seller_reply_due_at__lt=now)
    for dispute_id in silent.values_list("pk", flat=True)[:200]:
        with transaction.atomic():
            dispute = _lock(dispute_id)
            if dispute.status == Dispute.Status.OPEN and dispute.seller_replied_at is None:
                _escalate(dispute, _("the seller did not reply in time"), now)
                escalated += 1
    return escalated


def dispute_close_payment_taken_back(*, escrow_transaction: EscrowTransaction, actor, reason: str) -> Dispute | None:
    """The provider took the disputed payment back and staff booked it (``escrow.services``'
    ``escrow_book_provider_reversal``, which ended the transaction refunded): the buyer has the money, so
    nothing is left to decide. The dispute ends with that outcome; pending offers close, and both parties
    read why in the dispute. ``None`` when the transaction has no dispute still open."""
    dispute_id = Dispute.objects.filter(escrow_transaction=escrow_transaction,
                                        status__in=[Dispute.Status.OPEN, Dispute.Status.ESCALATED]) \
        .values_list("pk", flat=True).first()
    if dispute_id is None:
        return None
    dispute = _lock(dispute_id)
    if dispute.status not in (Dispute.Status.OPEN, Dispute.Status.ESCALATED):
        return None
    dispute.resolve()
    dispute.outcome = Dispute.Outcome.TAKEN_BACK
    dispute.resolution_reason = reason
    dispute.resolved_by = actor
    dispute.resolved_at = timezone.now()
    dispute.save()
    dispute.offers.filter(status=SettlementOffer.Status.PENDING).update(status=SettlementOffer.Status.CLOSED)
    DisputeMessage.objects.create(dispute=dispute, role=PartyRole.SYSTEM, body=_(
        "Closed: the payment provider returned the payment to the buyer, so INTRASA no longer holds any money "
        "for this transaction. %(reason)s") % {"reason": reason})
    audit_record(actor=actor, action="dispute.close_payment_taken_back", target=dispute, reason=reason,
                 data={"outcome": Dispute.Outcome.TAKEN_BACK})
    return dispute
