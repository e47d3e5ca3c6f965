"""The seller's payment links and their public page. Thin: forms in, services called, messages out.

A link that cannot start a transaction (unknown, paused, closed, used up, its seller unverified)
answers with a page that says so in the visitor's language: 404 for an unknown token, 200 with the
reason otherwise (the offer is still shown, without the button)."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intrasa import ratelimit
from intrasa.money import rupiah_on_one_line
from intrasa.qr import qr_png, qr_svg

from . import selectors, services
from .forms import LimitForm, PaymentLinkForm


@login_required
@require_GET
def link_list(request):
    return render(request, "paylinks/list.html", {"links": selectors.payment_link_list_for_seller(seller=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def link_create(request):
    form = PaymentLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.payment_link_create(seller=request.user, **form.cleaned_data)
        except services.PaymentLinkError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Payment link created. Share it in your chats or your bio."))
            return redirect("paylinks:manage", token=link.token)
    return render(request, "paylinks/create.html", {
        "form": form, "needs_verification": not request.user.is_email_verified})


def _share(request, link) -> dict:
    url = request.build_absolute_uri(link.get_absolute_url())
    quote = services.payment_link_quote(link)
    facts = {"title": link.title, "amount": rupiah_on_one_line(quote.buyer_pays if quote else link.value), "url": url,
             "seller": link.seller.full_name}
    message = _("%(title)s, %(amount)s. Pay safely through INTRASA escrow: your money is held until you receive "
                "the item. %(url)s") % facts
    return {"link_url": url, "share_message": message}


def _too_many(request, limit: ratelimit.RateLimit, ip: str):
    """429, saying when this address's window of ``limit`` ends (``Retry-After`` and the message)."""
    retry_after = limit.retry_after(ip)
    minutes = ratelimit.minutes_to_wait(retry_after)
    message = ngettext("Too many requests from your connection. For your security, please try again in "
                       "%(minutes)d minute.",
                       "Too many requests from your connection. For your security, please try again in "
                       "%(minutes)d minutes.", minutes) % {"minutes": minutes}
    response = render(request, "paylinks/unknown.html", {"rate_limited": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _public_link(request, token):
    """``(link, None)``, or ``(None, the answer)`` when ``token`` is no link's or the address has used
    up the public "unknown" budget (``ratelimit.PUBLIC_UNKNOWN``, shared with Cek Transaksi): once it
    has, even a right guess is not answered, so tokens cannot be found by trying. The look-up takes a
    place in that budget first, kept if the token is no link's, so that a burst of guesses cannot all
    pass the check before the first of them is counted."""
    ip = ratelimit.counted_address(request)
    place = ratelimit.PUBLIC_UNKNOWN.reserve(ip)
    if place is None:
        return None, _too_many(request, ratelimit.PUBLIC_UNKNOWN, ip)
    link = place.look_up(lambda: selectors.payment_link_get_public(token=token), is_guess=lambda link: link is None)
    if link is None:
        return None, render(request, "paylinks/unknown.html", status=404)
    return link, None


@require_http_methods(["GET", "POST"])
def public(request, token):
    link, answer = _public_link(request, token)
    if answer is not None:
        return answer
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': request.path})}")
        try:
            txn = services.payment_link_start(payment_link=link, buyer=request.user)
        except services.PaymentLinkError as exc:
            messages.error(request, exc.message)
            return redirect(request.path)
        messages.success(request, _("Your transaction %(reference)s has started with the seller's terms. Please pay "
                                    "before the deadline.") % {"reference": txn.reference})
        return redirect(txn)
    refusal = services.payment_link_refusal(payment_link=link, user=request.user)
    holds = (selectors.payment_link_unpaid_holds(buyer=request.user)
             if refusal and refusal[0] == "unpaid_holds" else [])
    return render(request, "paylinks/public.html", {
        "link": link, "quote": services.payment_link_quote(link),
        "refusal_code": refusal[0] if refusal else "", "refusal": refusal[1] if refusal else "",
        "unpaid_holds": holds,
    })


@login_required
@require_GET
def manage(request, token):
    link = selectors.payment_link_get_for_seller(seller=request.user, token=token)
    share = _share(request, link)
    return render(request, "paylinks/manage.html", {
        "link": link, "quote": services.payment_link_quote(link), **share,
        "qr": qr_svg(share["link_url"], size_mm=50),
        "refusal": services.payment_link_refusal(payment_link=link),
        "limit_form": LimitForm(initial={"max_transactions": link.max_transactions}),
        "transactions": selectors.payment_link_transactions(payment_link=link)[:100],
        "unpaid_per_buyer": settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER,
    })


ACTIONS = {
    "pause": (services.payment_link_pause, gettext_lazy("Link paused: nobody can start a transaction with it until you resume.")),
    "resume": (services.payment_link_resume, gettext_lazy("Link active again.")),
    "close": (services.payment_link_close, gettext_lazy("Link closed. Transactions it started go on as before.")),
}


@login_required
@require_POST
def act(request, token, action):
    link = selectors.payment_link_get_for_seller(seller=request.user, token=token)
    try:
        if action == "limit":
            form = LimitForm(request.POST)
            if not form.is_valid():
                for error in form.errors.get("max_transactions", []):
                    messages.error(request, error)
                return redirect("paylinks:manage", token=link.token)
            services.payment_link_set_limit(payment_link=link, seller=request.user,
                                            max_transactions=form.cleaned_data["max_transactions"])
            messages.success(request, _("Limit saved."))
        elif action in ACTIONS:
            service, done = ACTIONS[action]
            service(payment_link=link, seller=request.user)
            messages.success(request, str(done))
        else:
            raise Http404
    except services.PaymentLinkError as exc:
        messages.error(request, exc.message)
    return redirect("paylinks:manage", token=link.token)


@require_GET
def qr_png_download(request, token):
    """The link as a QR code (PNG) to print: a price tag, a market stall, a flyer."""
    link, answer = _public_link(request, token)
    if answer is not None:
        return answer
    ip = ratelimit.counted_address(request)
    if not ratelimit.PAYLINK_QR_IMAGES.hit(ip):
        return _too_many(request, ratelimit.PAYLINK_QR_IMAGES, ip)
    response = HttpResponse(qr_png(request.build_absolute_uri(link.get_absolute_url()), box_size=16),
                            content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="intrasa-link-{link.token}.png"'
    return response
