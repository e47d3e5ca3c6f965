"""The buyer's payment page. (Faspay's notification endpoint starts the collection flow: ``escrow.views``.)"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from intrasa.qr import qr_svg
from transactions.models import Status

from . import selectors, services
from .channels import CHANNELS, METHOD_LABELS, Method, channels_for


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
