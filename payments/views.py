"""The buyer's payment page and Faspay's notification endpoint."""
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from intrasa.qr import qr_svg
from transactions.models import Status

from . import faspay, selectors, services
from .channels import CHANNELS, METHOD_LABELS, Method, channels_for

logger = logging.getLogger(__name__)


@login_required
@require_http_methods(["GET", "POST"])
def pay(request, reference):
    txn = selectors.transaction_get_for_buyer(user=request.user, reference=reference)
    if request.method == "POST":
        try:
            services.payment_start(escrow_transaction=txn, buyer=request.user,
                                   channel_code=request.POST.get("channel", ""))
        except services.PaymentError as exc:
            messages.error(request, exc.message)
        return redirect("payments:pay", reference=txn.reference)
    bill = selectors.bill_current(escrow_transaction=txn)
    groups = {}
    for channel in channels_for(txn.amount_due):
        groups.setdefault(channel.method, []).append(channel)
    return render(request, "payments/pay.html", {
        "txn": txn, "bill": bill, "groups": [(METHOD_LABELS[m], cs) for m, cs in groups.items()],
        "payable": txn.status == Status.CREATED,
        # QRIS: the provider's QR content; when it sends none, a QR of its payment page instead.
        "qr": qr_svg(bill.qr_content or bill.redirect_url) if bill and bill.method == Method.QRIS
        and (bill.qr_content or bill.redirect_url) else "",
        "bill_steps": CHANNELS[bill.channel_code].steps if bill and bill.channel_code in CHANNELS else (),
        "bank": {"name": settings.INTRASA_ESCROW_BANK_NAME, "account": settings.INTRASA_ESCROW_BANK_ACCOUNT,
                 "holder": settings.INTRASA_ESCROW_BANK_HOLDER},
        "bank_transfer": Method.BANK_TRANSFER,
        "sandbox": settings.FASPAY_SANDBOX_ENABLED,
    })


def _notification_answer(body: dict, fmt: str, status: int = 200) -> HttpResponse:
    content, content_type = faspay.render_notification_reply(body, fmt)
    return HttpResponse(content, content_type=content_type, status=status)


def _error(code: str, description: str, status: int, fmt: str = faspay.FORMAT_JSON) -> HttpResponse:
    return _notification_answer({"response": "Payment Notification", "response_code": code,
                                 "response_desc": description}, fmt, status)


def _notification_body(request) -> bytes:
    """The body, refused unread when it announces more than a notification can be."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > faspay.MAX_NOTIFICATION_BYTES:
        raise faspay.NotificationTooLarge()
    try:
        return request.body
    except RequestDataTooBig:
        raise faspay.NotificationTooLarge() from None


@csrf_exempt
@require_POST
def faspay_notification(request):
    """Faspay → INTRASA, in JSON, XML or form encoding; answered in the same format (form bodies
    in JSON). Bad signatures, unknown or non-Faspay bills and malformed bodies change nothing."""
    content_type = request.META.get("CONTENT_TYPE", "")
    fmt = faspay.notification_format(content_type, b"")
    try:
        body = _notification_body(request)
        fmt, payload = faspay.decode_notification(body, content_type)
        reply = services.notification_receive(payload=payload)
    except faspay.InvalidNotification as exc:
        logger.warning("rejected Faspay notification (%s, %s bytes): %s", fmt,
                       request.META.get("CONTENT_LENGTH") or "?", exc)
        return _error(exc.code, str(exc), 413 if isinstance(exc, faspay.NotificationTooLarge) else 400, fmt)
    except services.UnknownBill as exc:
        logger.warning("Faspay notification for an unknown or non-Faspay bill %s", str(exc)[:40])
        return _error("14", "Unknown bill", 404, fmt)
    return _notification_answer(reply, fmt)
