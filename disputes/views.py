"""Dispute pages for the buyer and the seller. Thin: forms in, services called, messages out."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from intrasa.uploads import private_file_response
from transactions.selectors import transaction_get_for_party

from . import selectors, services
from .forms import DisputeOpenForm, MessageForm, OfferForm, RejectForm
from .models import SettlementOffer


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_POST
def open_dispute(request, reference):
    txn = transaction_get_for_party(user=request.user, reference=reference)
    form = DisputeOpenForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(txn)
    data = form.cleaned_data
    try:
        dispute = services.dispute_open(escrow_transaction=txn, buyer=request.user, reason=data["reason"],
                                        description=data["description"], upload=data["evidence"],
                                        evidence_purpose=data["evidence_purpose"] or "photo",
                                        missing_items=data["missing_items"], missing_value=data["missing_value"])
    except services.DisputeError as exc:
        messages.error(request, exc.message)
        return redirect(txn)
    messages.success(request, _("Dispute opened. The funds stay frozen until it is resolved."))
    return redirect(dispute)


@login_required
@require_GET
def detail(request, reference):
    dispute = selectors.dispute_get_for_party(user=request.user, reference=reference)
    role = services.role_of(dispute, request.user)
    offers = list(dispute.offers.all())
    pending = next((o for o in offers if o.status == SettlementOffer.Status.PENDING), None)
    return render(request, "disputes/detail.html", {
        "dispute": dispute, "txn": dispute.escrow_transaction, "role": role, "offers": offers,
        "pending_offer": pending, "can_answer": pending is not None and pending.role != role,
        "message_form": MessageForm(), "offer_form": OfferForm(), "reject_form": RejectForm(),
        "held": dispute.escrow_transaction.amount_received or 0,
    })


@login_required
@require_POST
def post_message(request, reference):
    dispute = selectors.dispute_get_for_party(user=request.user, reference=reference)
    form = MessageForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(dispute)
    data = form.cleaned_data
    try:
        services.dispute_post_message(dispute=dispute, author=request.user, body=data["body"],
                                      upload=data["evidence"], evidence_purpose=data["evidence_purpose"] or "photo")
    except services.DisputeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Message sent."))
    return redirect(dispute)


@login_required
@require_POST
def propose(request, reference):
    dispute = selectors.dispute_get_for_party(user=request.user, reference=reference)
    form = OfferForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(dispute)
    try:
        services.offer_propose(dispute=dispute, proposer=request.user, **form.cleaned_data)
    except services.DisputeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Settlement proposed. The other party has been told."))
    return redirect(dispute)


@login_required
@require_POST
def accept_return(request, reference):
    """The seller accepts a return without a defect (their stated return policy)."""
    dispute = selectors.dispute_get_for_party(user=request.user, reference=reference)
    try:
        services.dispute_accept_return(dispute=dispute, actor=request.user)
    except services.DisputeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Return accepted. The buyer sends the goods back with the RMA number; the "
                                    "refund follows your inspection."))
    return redirect(dispute)


@login_required
@require_POST
def accept_short_shipment(request, reference):
    """The seller agrees to refund the missing part of a short shipment."""
    dispute = selectors.dispute_get_for_party(user=request.user, reference=reference)
    try:
        services.dispute_accept_short_shipment(dispute=dispute, actor=request.user)
    except services.DisputeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Agreed. The buyer gets the value of the missing part back; you are paid the rest."))
    return redirect(dispute)


@login_required
@require_POST
def answer(request, reference, pk, action):
    dispute = selectors.dispute_get_for_party(user=request.user, reference=reference)
    offer = get_object_or_404(SettlementOffer, pk=pk, dispute=dispute)
    try:
        if action == "terima":
            services.offer_accept(offer=offer, user=request.user)
            messages.success(request, _("Settlement accepted. The dispute is resolved."))
        elif action == "tolak":
            form = RejectForm(request.POST)
            services.offer_reject(offer=offer, user=request.user,
                                  note=form.cleaned_data["note"] if form.is_valid() else "")
            messages.success(request, _("Settlement rejected."))
        else:
            raise Http404
    except services.DisputeError as exc:
        messages.error(request, exc.message)
    return redirect(dispute)


@login_required
@require_GET
def evidence(request, pk):
    """A private file, for whoever ``refunds.access`` lets see it (anyone else gets 404), always as a
    download that no browser renders as a page of this site."""
    item = selectors.evidence_get_for_user(user=request.user, pk=pk)
    return private_file_response(item.file, content_type=item.content_type, original_name=item.original_name)
