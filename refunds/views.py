"""The refund page of a transaction: requests, missing documents, timelines and the account."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intrasa.uploads import private_file_response
from transactions.selectors import transaction_get_for_party

from . import policy, selectors, services
from .forms import DestinationForm, DocumentForm, RefundRequestForm


def _errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, reference):
    txn = transaction_get_for_party(user=request.user, reference=reference)
    is_buyer = txn.buyer_id == request.user.pk
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
        item.missing = [policy.Document(kind).label for kind in services.missing_documents(item)]
        item.window = policy.transfer_window(item.payment_family)
    return render(request, "refunds/detail.html", {
        "txn": txn, "requests": requests, "is_buyer": is_buyer, "form": form,
        "document_form": DocumentForm(), "destination_form": DestinationForm(buyer=request.user) if is_buyer else None,
        "whatsapp_link": policy.whatsapp_link(txn.reference), "whatsapp_number": policy.CUSTOMER_SERVICE_WHATSAPP,
        "whatsapp_subject": policy.whatsapp_subject(txn.reference),
        "approval_hours": policy.APPROVAL_WORKING_HOURS,
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
@require_GET
def document(request, pk):
    """A document's file for whoever ``refunds.access`` lets see it (anyone else gets 404), always as
    a download that no browser renders as a page of this site."""
    doc = selectors.refund_document_get_for_user(user=request.user, pk=pk)
    return private_file_response(doc.file, content_type=doc.content_type, original_name=doc.original_name)
