"""Pages and endpoints that start the escrow's money flows (``escrow.services``): Faspay's payment
notification, the buyer's confirmation of receipt, the seller's cancellation after payment. Thin:
check who asks, call the flow, answer."""
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from faspay import debit
from payments import services as payment_services
from transactions import selectors as transaction_selectors
from transactions.forms import ReasonForm
from transactions.services import TransactionActionError

from . import services, tasks

logger = logging.getLogger(__name__)


# --- the buyer and the seller ----------------------------------------------------------------

@login_required
@require_POST
def confirm(request, reference):
    """The buyer confirms receipt: the money is released and the seller's payout planned."""
    txn = transaction_selectors.transaction_get_for_party(user=request.user, reference=reference)
    try:
        services.escrow_confirm(escrow_transaction=txn, buyer=request.user)
    except TransactionActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you, receipt confirmed. The seller will be paid."))
    return redirect(txn)


@login_required
@require_POST
def cancel_and_refund(request, reference):
    """The seller cannot deliver after payment: everything held goes back to the buyer."""
    txn = transaction_selectors.transaction_get_for_party(user=request.user, reference=reference)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(txn)
    try:
        services.escrow_cancel_and_refund(escrow_transaction=txn, actor=request.user,
                                          reason=form.cleaned_data["reason"])
    except TransactionActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Transaction cancelled; the buyer will be refunded."))
    return redirect(txn)


# --- Faspay's payment notification ----------------------------------------------------------

def _notification_answer(body: dict, fmt: str, status: int = 200) -> HttpResponse:
    content, content_type = debit.render_notification_reply(body, fmt)
    return HttpResponse(content, content_type=content_type, status=status)


def _error(code: str, description: str, status: int, fmt: str = debit.FORMAT_JSON) -> HttpResponse:
    return _notification_answer({"response": "Payment Notification", "response_code": code,
                                 "response_desc": description}, fmt, status)


def _notification_body(request) -> bytes:
    """The body, refused unread when it announces more than a notification can be."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > debit.MAX_NOTIFICATION_BYTES:
        raise debit.NotificationTooLarge()
    try:
        return request.body
    except RequestDataTooBig:
        raise debit.NotificationTooLarge() from None


@csrf_exempt
@require_POST
def faspay_notification(request):
    """Faspay → INTRASA, in JSON, XML or form encoding; answered in the same format (form bodies
    in JSON). Bad signatures, unknown or non-Faspay bills and malformed bodies change nothing."""
    content_type = request.META.get("CONTENT_TYPE", "")
    fmt = debit.notification_format(content_type, b"")
    try:
        body = _notification_body(request)
        fmt, payload = debit.decode_notification(body, content_type)
        receipt = payment_services.notification_receive(payload=payload)
    except debit.InvalidNotification as exc:
        logger.warning("rejected Faspay notification (%s, %s bytes): %s", fmt,
                       request.META.get("CONTENT_LENGTH") or "?", exc)
        return _error(exc.code, str(exc), 413 if isinstance(exc, debit.NotificationTooLarge) else 400, fmt)
    except payment_services.UnknownBill as exc:
        logger.warning("Faspay notification for an unknown or non-Faspay bill %s", str(exc)[:40])
        return _error("14", "Unknown bill", 404, fmt)
    # Recorded and committed: verify it with the provider now (the status inquiry decides).
    tasks.check_bill.delay_on_commit(receipt.bill_id)
    return _notification_answer(receipt.reply, fmt)
