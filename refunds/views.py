"""The refund page of a transaction: requests, missing documents, timelines and the account."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import BankDestinationForm, EWalletDestinationForm
from accounts.services import payout_destination_add_bank, payout_destination_add_ewallet
from intrasa.uploads import private_file_response
from transactions.selectors import transaction_get_for_party

from . import policy, selectors, services
from .forms import (
    BuyerAddressForm,
    DestinationForm,
    DocumentForm,
    InspectionForm,
    RefundRequestForm,
    ResendForm,
    ReturnAddressForm,
    ReturnShipForm,
)


def _errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, reference):
    txn = transaction_get_for_party(user=request.user, reference=reference)
    is_buyer = txn.buyer_id == request.user.pk
    is_seller = txn.seller_id == request.user.pk
    form = RefundRequestForm(request.POST or None) if is_buyer else None
    if request.method == "POST":
        if form is None:
            return redirect("refunds:detail", reference=reference)
        if form.is_valid():
            try:
                services.refund_request_submit(escrow_transaction=txn, buyer=request.user, **form.cleaned_data)
            except services.RefundError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Refund request registered. Add the documents listed below."))
                return redirect("refunds:detail", reference=reference)
        else:
            _errors(request, form)
    requests = selectors.refund_requests_visible_to(user=request.user, escrow_transaction=txn)
    for item in requests:
        missing = services.missing_documents(item)
        item.missing_kinds = list(missing)
        item.missing_from_buyer = [policy.Document(kind).label for kind in missing
                                   if policy.who_supplies(kind) == "buyer"]
        item.missing_from_intrasa = [policy.Document(kind).label for kind in missing
                                     if policy.who_supplies(kind) == "intrasa"]
        item.next_step = services.refund_next_step(item)
        # The buyer sees who at INTRASA holds the step, by first name only.
        item.handler_name = item.handler.full_name.split()[0] if item.handler and item.handler.full_name else ""
        item.window = policy.transfer_window(item.payment_family)
        item.refund_by = selectors.refund_request_due_by(item)  # the one refund-by date (policy)
        item.transfer_window = selectors.refund_transfer_window(item)  # counted from the same start
        item.sent = selectors.refund_transfers(refund_request=item)
        item.shipment = selectors.return_shipment_of(item)
        if is_buyer:
            # The return receipt is entered as the courier and number of the goods sent back, not uploaded.
            kinds = [kind for kind in services.missing_from_buyer(item)
                     if not (item.shipment and kind == policy.Document.RETURN_RECEIPT)]
            item.document_form = DocumentForm(request_kinds=kinds) if kinds else None
            item.needs_upload = bool(kinds)
    return render(request, "refunds/detail.html", {
        "txn": txn, "requests": requests, "is_buyer": is_buyer, "is_seller": is_seller, "form": form,
        "destination_form": DestinationForm(buyer=request.user) if is_buyer else None,
        "refused_accounts": selectors.refund_accounts_refused(buyer=request.user) if is_buyer else [],
        "bank_form": BankDestinationForm(prefix="bank") if is_buyer else None,
        "ewallet_form": EWalletDestinationForm(prefix="ewallet") if is_buyer else None,
        "whatsapp_link": policy.whatsapp_link(txn.reference), "whatsapp_number": policy.CUSTOMER_SERVICE_WHATSAPP,
        "whatsapp_subject": policy.whatsapp_subject(txn.reference),
        "approval_hours": policy.APPROVAL_WORKING_HOURS,
        "address_form": ReturnAddressForm(), "ship_form": ReturnShipForm(), "inspection_form": InspectionForm(),
        "buyer_address_form": BuyerAddressForm(), "resend_form": ResendForm(),
        "resend_ship_days": policy.RESEND_SHIP_WORKING_DAYS,
    })


@login_required
@require_POST
def add_document(request, pk):
    req = selectors.refund_request_get_for_buyer(user=request.user, pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.refund_document_add(refund_request=req, kind=form.cleaned_data["kind"], actor=request.user,
                                         upload=form.cleaned_data["file"], value=form.cleaned_data["value"])
        except services.RefundError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Document added."))
    else:
        _errors(request, form)
    return redirect("refunds:detail", reference=req.escrow_transaction.reference)


def _shipment_or_404(req):
    shipment = selectors.return_shipment_of(req)
    if shipment is None:
        raise Http404
    return shipment


def _return_action(request, req, form_class, call, done: str):
    """Run one step of a return (``refunds.services.return_*``) from its form (``None``: a button with
    no fields); back to the refund page."""
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        _errors(request, form)
    else:
        try:
            call(form.cleaned_data if form is not None else {})
        except services.RefundError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
    return redirect("refunds:detail", reference=req.escrow_transaction.reference)


@login_required
@require_POST
def return_address(request, pk):
    """The seller gives the address the returned goods go to."""
    req = selectors.refund_request_get_for_seller(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, ReturnAddressForm, lambda data: services.return_address_give(
        return_shipment=shipment, seller=request.user, address=data["address"]),
        _("Return address sent to the buyer."))


@login_required
@require_POST
def return_ship(request, pk):
    """The buyer enters the courier and receipt number of the goods sent back."""
    req = selectors.refund_request_get_for_buyer(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, ReturnShipForm, lambda data: services.return_ship_back(
        return_shipment=shipment, buyer=request.user, courier=data["courier"], receipt_number=data["receipt_number"]),
        _("Return receipt recorded. The seller has been told."))


@login_required
@require_POST
def return_arrived(request, pk):
    """The seller confirms the returned goods are back."""
    req = selectors.refund_request_get_for_seller(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, None, lambda data: services.return_mark_arrived(
        return_shipment=shipment, seller=request.user),
        _("Marked as back. Record the inspection result within the time shown."))


@login_required
@require_POST
def record_inspection(request, pk):
    """The seller records what they found when the returned goods arrived: accepted or rejected."""
    req = selectors.refund_request_get_for_seller(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, InspectionForm, lambda data: services.return_inspect(
        return_shipment=shipment, seller=request.user, accepted=data["result"] == "accepted", note=data["note"]),
        _("Inspection result recorded."))


@login_required
@require_POST
def resend_address(request, pk):
    """After an upheld rejection, the buyer gives the address the goods go back to."""
    req = selectors.refund_request_get_for_buyer(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, BuyerAddressForm, lambda data: services.return_resend_address_give(
        return_shipment=shipment, buyer=request.user, address=data["address"]),
        _("Address sent to the seller, who sends the goods back to you."))


@login_required
@require_POST
def resend(request, pk):
    """The seller enters the courier and receipt number of the goods sent back to the buyer."""
    req = selectors.refund_request_get_for_seller(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, ResendForm, lambda data: services.return_resend(
        return_shipment=shipment, seller=request.user, courier=data["courier"], receipt_number=data["receipt_number"]),
        _("Receipt recorded. The buyer has been told."))


@login_required
@require_POST
def resend_received(request, pk):
    """The buyer has the goods back."""
    req = selectors.refund_request_get_for_buyer(user=request.user, pk=pk)
    shipment = _shipment_or_404(req)
    return _return_action(request, req, None, lambda data: services.return_resend_mark_received(
        return_shipment=shipment, buyer=request.user), _("Marked as received. This return is finished."))


@login_required
@require_POST
def choose_destination(request, pk):
    req = selectors.refund_request_get_for_buyer(user=request.user, pk=pk)
    form = DestinationForm(request.POST, buyer=request.user)
    if form.is_valid():
        try:
            services.refund_choose_destination(refund_request=req, buyer=request.user,
                                               destination=form.cleaned_data["destination"])
        except services.RefundError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The refund will be sent to this account."))
    else:
        _errors(request, form)
    return redirect("refunds:detail", reference=req.escrow_transaction.reference)


@login_required
@require_POST
def add_account(request, pk):
    """The buyer adds a bank account or e-wallet in their own name from the refund page itself, and
    it becomes the refund account at once (checked with the bank first: ``refund_choose_destination``)."""
    req = selectors.refund_request_get_for_buyer(user=request.user, pk=pk)
    kind = request.POST.get("kind")
    form_class, add = ((EWalletDestinationForm, payout_destination_add_ewallet) if kind == "ewallet"
                       else (BankDestinationForm, payout_destination_add_bank))
    form = form_class(request.POST, prefix="ewallet" if kind == "ewallet" else "bank")
    if not form.is_valid():
        _errors(request, form)
        return redirect("refunds:detail", reference=req.escrow_transaction.reference)
    try:
        destination = add(owner=request.user, **form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("refunds:detail", reference=req.escrow_transaction.reference)
    try:
        services.refund_choose_destination(refund_request=req, buyer=request.user, destination=destination)
    except services.RefundError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(label)s added: the refund will be sent to this account.")
                         % {"label": destination.label})
    return redirect("refunds:detail", reference=req.escrow_transaction.reference)


@login_required
@require_GET
def document(request, pk):
    """A document's file for whoever ``refunds.access`` lets see it (anyone else gets 404), always as
    a download that no browser renders as a page of this site."""
    doc = selectors.refund_document_get_for_user(user=request.user, pk=pk)
    return private_file_response(doc.file, content_type=doc.content_type, original_name=doc.original_name)
