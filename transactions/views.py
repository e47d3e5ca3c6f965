"""Pages of the escrow transaction. Thin: forms in, services called, messages out."""
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from intrasa.money import format_rupiah, rupiah_on_one_line
from ledger.selectors import money_statement, transaction_money_lines

from . import page_cache, progress, selectors, services
from .fees import FeeScheduleError, fee_quote
from .forms import FeeQuoteForm, ReasonForm, ShipForm, TransactionCreateForm
from .models import Status

logger = logging.getLogger(__name__)


@login_required
@require_GET
def dashboard(request):
    role = request.GET.get("role") if request.GET.get("role") in ("buyer", "seller") else None
    status = request.GET.get("status") if request.GET.get("status") in Status.values else None
    qs = selectors.transaction_list_for_user(user=request.user, role=role, status=status)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "transactions/dashboard.html", {
        "page": page, "role": role, "status": status, "statuses": Status.choices,
        "invitations": selectors.pending_invitations_for(user=request.user)[:10],
        "live_token": selectors.dashboard_live_token(user=request.user),
    })


# The live status of open pages. A page polls its fragment every few seconds with the token of what
# it shows; an unchanged transaction costs one query and answers 204 (htmx swaps nothing). On a
# change the answer is one sentence for the page's polite live region and the ``intrasa:changed``
# event, on which the page fetches itself again and swaps in its live part (hx-select): status,
# stepper, next step and the actions that are possible now.
LIVE_EVENT = "intrasa:changed"


def _changed(sentence: str) -> HttpResponse:
    response = HttpResponse(sentence, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return trigger_client_event(response, LIVE_EVENT)


def _unchanged() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def live_status(request, reference):
    txn, token = selectors.transaction_live_token(user=request.user, reference=reference)
    if request.GET.get("seen") == token:
        return _unchanged()
    return _changed(_("Updated: %(status)s.") % {"status": progress.status_label(txn)})


@login_required
@require_GET
def dashboard_live_status(request):
    if request.GET.get("seen") == selectors.dashboard_live_token(user=request.user):
        return _unchanged()
    return _changed(_("Your transactions were updated."))


_CREATE_ERROR_FIELDS = {"amount_out_of_range": "price", "invalid_shipping": "shipping_cost"}


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    form = TransactionCreateForm(request.POST or None)
    quote = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            quote = fee_quote(price=data["price"], shipping_cost=data["shipping_cost"],
                              fee_payer=data["fee_payer"])
        except FeeScheduleError as exc:
            form.add_error("price", str(exc))
        if quote and "preview" not in request.POST:
            try:
                txn = services.transaction_create(seller=request.user, **data)
            except services.TransactionActionError as exc:
                # At the field it is about when there is one (the price, the shipping cost).
                form.add_error(_CREATE_ERROR_FIELDS.get(exc.code), exc.message)
            else:
                messages.success(request, _("Transaction %(reference)s created. Share the invitation "
                                            "link with the buyer.") % {"reference": txn.reference})
                return redirect(txn)
    return render(request, "transactions/create.html", {
        "form": form, "quote": quote,
        # Inviting by email needs a verified address (services.transaction_create); say so up front.
        "needs_verification": not request.user.is_email_verified,
    })


@require_GET
def quote(request):
    """The live fee breakdown of the create form (JSON)."""
    form = FeeQuoteForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    try:
        q = fee_quote(**{**form.cleaned_data, "shipping_cost": form.cleaned_data["shipping_cost"] or 0})
    except FeeScheduleError as exc:
        return JsonResponse({"errors": {"price": [str(exc)]}}, status=400)
    return JsonResponse({key: {"amount": value, "formatted": format_rupiah(value)}
                         for key, value in q.as_dict().items()})


@login_required
@require_GET
def detail(request, reference):
    """The transaction page. Kept whole between requests while nothing it shows changed (``page_cache``):
    a request then costs the access check with the page's version (one query) and one cache read."""
    version = None
    if page_cache.enabled():
        try:
            version = selectors.transaction_page_version_for_party(user=request.user, reference=reference)
        except page_cache.PageVersionUnavailable:
            logger.exception("transaction page version unavailable (migrations not run?): rendering the page")
    if version is None:
        return _render_detail(request, selectors.transaction_detail_for_party(user=request.user, reference=reference))
    csrf_token = get_token(request)
    keep = page_cache.keepable(request)
    page = page_cache.kept_page(version, request, csrf_token=csrf_token) if keep else None
    if page is None:
        # Read after the version: what is kept is at least as new as the version it is kept under.
        txn = selectors.transaction_detail_for_party(user=request.user, reference=reference)
        stand_in, shown_deadlines = page_cache.csrf_stand_in(), _deadlines_shown(txn)
        rendered = render_to_string(DETAIL, {
            **_detail_context(request, txn), "csrf_token": stand_in, page_cache.SHOWN_DEADLINES: shown_deadlines,
            "unread_notification_count": version.unread_notification_count}, request)
        if keep:
            page_cache.keep_page(version, request, page=rendered, stand_in=stand_in, deadlines=shown_deadlines)
        page = rendered.replace(stand_in, csrf_token)
    return HttpResponse(page)


DETAIL = "transactions/detail.html"


def _render_detail(request, txn, *, ship_form=None, status=200):
    """The page rendered now, not kept: with a refused form's errors, or where pages are not kept."""
    context = _detail_context(request, txn, ship_form=ship_form)
    count = getattr(txn, "viewer_unread_notifications", None)
    if count is not None:  # the page's query counted; otherwise the context processor does
        context["unread_notification_count"] = count
    return render(request, DETAIL, context, status=status)


def _deadlines_shown(txn) -> list:
    """Every time the page may change by the clock alone (an action allowed until a deadline, a deadline
    shown as ahead): the transaction's dates and its dispute's. Its cards add theirs while it renders
    (``page_cache.SHOWN_DEADLINES``); a kept page expires at the first of them still to come."""
    from django.db.models import DateTimeField

    dates = [getattr(txn, field.attname) for field in txn._meta.concrete_fields if isinstance(field, DateTimeField)]
    dispute = txn._state.fields_cache.get("dispute")
    if dispute is not None:
        dates += [getattr(dispute, field.attname) for field in dispute._meta.concrete_fields
                  if isinstance(field, DateTimeField)]
    return dates


def _detail_context(request, txn, *, ship_form=None) -> dict:
    role = txn.role_of(request.user)
    postings = list(transaction_money_lines(escrow_transaction=txn))
    actions = selectors.available_actions(escrow_transaction=txn, user=request.user)
    statement = money_statement(postings)
    return {
        "txn": txn,
        "role": role,
        "status_label": progress.status_label(txn),
        "steps": progress.steps(txn),
        "next_step": progress.next_step(txn, role, refund_pending=statement["refund_pending"]),
        "live_token": selectors.live_token(txn),
        "timeline": progress.timeline(selectors.transaction_timeline(escrow_transaction=txn)),
        "actions": actions,
        "postings": postings,
        # The forms of the actions shown, and only those.
        "reason_form": ReasonForm() if "refund" in actions else None,
        # What cancel-and-refund gives the buyer: the hold, less INTRASA's bank-transfer discount
        # (``transactions.selectors.refundable_in_full``, read here from the lines already loaded).
        "refund_in_full": statement["held"] - statement["discount"] if "refund" in actions else None,
        "ship_form": ship_form or (ShipForm() if "ship" in actions else None),
        "clock": selectors.inspection_clock(escrow_transaction=txn, user=request.user),
        # The invitation card: for the seller, until the buyer accepts.
        **(_invitation_share(request, txn) if role == "seller" and txn.status == Status.CREATED
           and not txn.accepted_at else {}),
    }


def _invitation_share(request, txn) -> dict:
    """The invitation as the seller shares it: the link, and a message that says what it is (item,
    amount, seller, what INTRASA is, the reference to check on Cek Transaksi), so that it does not
    read like a bare phishing link."""
    url = request.build_absolute_uri(services.invitation_path(txn))
    check_url = request.build_absolute_uri(reverse("pages:check_transaction"))
    facts = {"seller": txn.seller.full_name, "title": txn.title, "amount": rupiah_on_one_line(txn.amount_due),
             "reference": txn.reference, "url": url, "check_url": check_url}
    short = _("%(seller)s invites you to pay for \"%(title)s\" (%(amount)s) through INTRASA, an escrow service "
              "that holds your payment until you receive the item. Reference %(reference)s.") % facts
    message = short + "\n\n" + _("Review and accept: %(url)s") % facts + "\n" + _(
        "Check that the transaction is genuine by its reference at %(check_url)s") % facts
    return {"invitation_url": url, "invitation_message": message, "invitation_message_short": short}


ACTION_SERVICES = {
    "ship": lambda txn, user, data: services.transaction_ship(escrow_transaction=txn, seller=user, **data),
    "cancel": lambda txn, user, data: services.transaction_cancel(
        escrow_transaction=txn, actor=user, reason=data["reason"]),
    "received": lambda txn, user, data: services.transaction_mark_received(escrow_transaction=txn, buyer=user),
    "extend": lambda txn, user, data: services.transaction_extend_inspection(
        escrow_transaction=txn, buyer=user, reason=data["reason"]),
}
# Confirming receipt and cancelling after payment move money onward: they are flows
# (``escrow.views``), at the same addresses.
# Disputes are opened on the disputes app's page (reason, description, evidence), not here.
ACTION_FORMS = {"ship": ShipForm, "cancel": ReasonForm, "extend": ReasonForm}
ACTION_DONE = {
    "received": gettext_lazy("Marked as received. Your inspection period starts now."),
    "extend": gettext_lazy("Inspection period extended. The seller has been told."),
    "ship": gettext_lazy("Marked as shipped. The buyer has been told."),
    "cancel": gettext_lazy("Transaction cancelled."),
}


# What a refused shipment lacks, said at the field that lacks it.
_SHIP_FIELD_ERRORS = {
    "courier": gettext_lazy("Choose the courier."),
    "tracking_number": gettext_lazy("Enter the receipt (resi) number."),
    "delivery_note": gettext_lazy("Describe how the service or digital goods were delivered."),
}


def _ship_error_at_its_field(form, exc) -> None:
    fields = {"shipment_required": ("courier", "tracking_number"),
              "delivery_note_required": ("delivery_note",)}.get(exc.code, ())
    empty = [name for name in fields if not str(form.cleaned_data.get(name) or "").strip()]
    for name in empty:
        form.add_error(name, str(_SHIP_FIELD_ERRORS[name]))
    if not empty:
        form.add_error(None, exc.message)


@login_required
@require_POST
def act(request, reference, action):
    txn = selectors.transaction_get_for_party(user=request.user, reference=reference)
    if action not in ACTION_SERVICES:
        raise Http404
    form_class = ACTION_FORMS.get(action)
    data = {}
    form = None
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            if action == "ship":  # errors at the fields, with what was chosen (the courier) kept
                return _render_detail(request, txn, ship_form=form, status=400)
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(txn)
        data = form.cleaned_data
    try:
        ACTION_SERVICES[action](txn, request.user, data)
    except services.TransactionActionError as exc:
        if action == "ship":
            _ship_error_at_its_field(form, exc)
            return _render_detail(request, txn, ship_form=form, status=400)
        messages.error(request, exc.message)
    else:
        messages.success(request, str(ACTION_DONE[action]))
    return redirect(txn)


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The buyer's invitation: review the terms, then accept or decline (login required to act).

    Who may answer is decided by ``services.invitation_refusal`` (the services enforce it too);
    anyone else sees the terms and why they cannot answer, and nothing changes."""
    txn = selectors.transaction_get_by_invitation(token=token)
    refusal = None
    if request.user.is_authenticated and txn.status == Status.CREATED and not txn.buyer_id:
        refusal = services.invitation_refusal(escrow_transaction=txn, user=request.user)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': request.path})}")
        if refusal is not None:
            return _render_invitation(request, txn, refusal, status=403)
        try:
            if "accept" in request.POST:
                services.transaction_accept(escrow_transaction=txn, buyer=request.user)
                messages.success(request, _("You accepted the transaction. Please pay before the deadline."))
                return redirect(txn)
            form = ReasonForm(request.POST)
            if form.is_valid():
                services.transaction_decline(escrow_transaction=txn, user=request.user,
                                             reason=form.cleaned_data["reason"])
                messages.info(request, _("You declined the transaction."))
                return redirect("transactions:dashboard")
            if not request.POST.get("reason", "").strip():
                messages.error(request, _("Please give a reason."))
            for error in form.errors.get("reason", []) if request.POST.get("reason", "").strip() else []:
                messages.error(request, error)
        except services.TransactionActionError as exc:
            messages.error(request, exc.message)
        return redirect(request.path)
    if request.user.is_authenticated and txn.role_of(request.user):
        return redirect(txn)
    return _render_invitation(request, txn, refusal)


def _render_invitation(request, txn, refusal, status=200):
    return render(request, "transactions/invitation.html", {
        "txn": txn, "reason_form": ReasonForm(),
        "refusal_code": refusal[0] if refusal else "", "refusal": refusal[1] if refusal else "",
    }, status=status)
