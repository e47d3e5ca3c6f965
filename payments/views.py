"""The buyer's payment page. (Faspay's notification endpoint starts the collection flow: ``escrow.views``.)"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from intrasa.barcodes import code128_svg
from intrasa.money import rupiah_on_one_line
from intrasa.qr import qr_png, qr_svg
from transactions import progress
from transactions.models import Status
from transactions.selectors import live_token

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
    # A milestone plan paid up front is one bill: the page shows what it pays and its total.
    if txn.status == Status.CREATED:
        together = selectors.payable_together(escrow_transaction=txn)
    else:  # paid: what the bill that was paid covered
        together = [share.escrow_transaction for share in selectors.bill_shares(bill=bill)] if bill else []
        together = together or [txn]
    total = sum(item.amount_due for item in together)
    groups = {}
    for channel in channels_for(total):
        groups.setdefault(channel.method, []).append(channel)
    channel = CHANNELS.get(bill.channel_code) if bill else None
    return render(request, "payments/pay.html", {
        "txn": txn, "bill": bill, "together": together, "total": total,
        "groups": [(METHOD_LABELS[m], cs) for m, cs in groups.items()],
        "payable": txn.status == Status.CREATED,
        "status_label": progress.status_label(txn),
        "next_step": progress.next_step(txn, "buyer"),
        "live_token": live_token(txn),
        # The bill's own channel names its bank or store ("BCA Virtual Account", "Indomaret").
        "channel_name": channel.name if channel else "",
        # QRIS: the provider's QR content; when it sends none, a QR of its payment page instead.
        "qr": qr_svg(_qris_content(bill)) if _qris_content(bill) else "",
        "barcode": code128_svg(bill.pay_code, label=_("Barcode of the payment code %(code)s") % {"code": bill.pay_code})
        if bill and bill.method == Method.RETAIL and bill.pay_code else "",
        "amount_parts": _amount_parts(bill),
        "bill_steps": channel.steps if channel else (),
        "bank": {"name": settings.INTRASA_ESCROW_BANK_NAME, "account": settings.INTRASA_ESCROW_BANK_ACCOUNT,
                 "holder": settings.INTRASA_ESCROW_BANK_HOLDER},
        "bank_transfer": Method.BANK_TRANSFER,
        "sandbox": settings.FASPAY_SANDBOX_ENABLED,
    })


def _qris_content(bill) -> str:
    if bill is None or bill.method != Method.QRIS:
        return ""
    return bill.qr_content or bill.redirect_url or ""


def _amount_parts(bill) -> tuple[str, str, str]:
    """The amount to pay split for display: formatted head, the digits that identify a bank transfer
    (its unique code lowers the last three), and the plain digits for the copy button."""
    if bill is None:
        return "", "", ""
    formatted = rupiah_on_one_line(bill.amount)
    if bill.method == Method.BANK_TRANSFER and bill.unique_code and bill.amount >= 1000:
        return formatted[:-3], formatted[-3:], str(bill.amount)
    return formatted, "", str(bill.amount)


@login_required
@require_GET
def qris_image(request, reference):
    """The open QRIS bill's code as a PNG to save (download) and open in a payment app."""
    txn = selectors.transaction_get_for_buyer(user=request.user, reference=reference)
    bill = selectors.bill_current(escrow_transaction=txn)
    content = _qris_content(bill)
    if not content or bill.status != bill.Status.PENDING:
        raise Http404
    response = HttpResponse(qr_png(content), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="QRIS-{txn.reference}.png"'
    response["Cache-Control"] = "private, no-store"
    return response
