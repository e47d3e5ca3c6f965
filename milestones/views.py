"""Pages of milestone plans. Thin: forms in, services called, messages out."""
from csp.decorators import csp_exempt
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.rendering import RenderLimitReached, cached_pdf
from intrasa.http import never_cache
from intrasa.ratelimit import minutes_to_wait
from transactions import progress
from transactions.forms import ReasonForm
from transactions.models import Status

from . import selectors, services
from .forms import MilestoneFormSet, PlanForm
from .models import MilestonePlan


@login_required
@require_GET
def plan_list(request):
    return render(request, "milestones/list.html", {"plans": selectors.plan_list_for_user(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    try:
        rows = min(max(int(request.GET.get("rows", 3)), services.MIN_MILESTONES), services.MAX_MILESTONES)
    except ValueError:
        rows = 3
    form = PlanForm(request.POST or None)
    formset = MilestoneFormSet(request.POST or None, prefix="m", initial=[{}] * rows)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        milestones = [f.cleaned_data for f in formset.forms if f.cleaned_data]
        try:
            plan = services.milestone_plan_propose(seller=request.user, milestones=milestones, **form.cleaned_data)
        except services.MilestonePlanError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Plan proposed. Share its page with the buyer."))
            return redirect(plan)
    return render(request, "milestones/create.html", {
        "form": form, "formset": formset, "rows": rows, "max_rows": services.MAX_MILESTONES})


def _rows(plan, role):
    """Each milestone with its transaction's status and the next step for the viewer."""
    milestones = list(plan.milestones.all())
    rows = []
    for index, milestone in enumerate(milestones):
        txn = milestone.escrow_transaction
        previous = milestones[index - 1] if index else None
        openable = (role is not None and (txn is None or txn.status in services.ENDED_UNPAID)
                    and services.milestone_open_refusal(plan=plan, milestone=milestone, previous=previous) is None)
        rows.append({"milestone": milestone, "txn": txn,
                     "status": progress.status_label(txn) if txn else _("Not open yet"),
                     "payable": txn is not None and role == "buyer" and txn.status == Status.CREATED,
                     "openable": openable})
    return rows


@require_GET
def plan_detail(request, token):
    plan = selectors.plan_get_for_viewer(token=token, user=request.user)
    role = plan.role_of(request.user)
    refusal = None
    if request.user.is_authenticated and plan.status == MilestonePlan.Status.PROPOSED:
        refusal = services.milestone_plan_refusal(plan=plan, user=request.user)
    rows = _rows(plan, role)
    # Up front, the buyer pays every milestone still waiting with one bill (payments: BillShare),
    # from any milestone's pay page: the plan offers it once, with its total.
    payable = [row["txn"] for row in rows if row["payable"]]
    pay_all = payable if plan.payment_schedule == MilestonePlan.Schedule.UPFRONT and len(payable) > 1 else []
    return render(request, "milestones/detail.html", {
        "plan": plan, "role": role, "rows": rows, "reason_form": ReasonForm(),
        "pay_all": pay_all[:1], "pay_all_total": sum(txn.amount_due for txn in pay_all),
        "share_url": request.build_absolute_uri(plan.get_absolute_url()),
        "refusal_code": refusal[0] if refusal else "", "refusal": refusal[1] if refusal else "",
    })


@require_POST
def plan_act(request, token, action):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': reverse('milestones:detail', args=[token])})}")
    plan = selectors.plan_get_for_viewer(token=token, user=request.user)
    try:
        if action == "accept":
            services.milestone_plan_accept(plan=plan, buyer=request.user)
            messages.success(request, _("You accepted the plan. Pay each open milestone before its deadline."))
        elif action in ("decline", "cancel"):
            form = ReasonForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Please give a reason."))
                return redirect(plan)
            if action == "decline":
                services.milestone_plan_decline(plan=plan, user=request.user, reason=form.cleaned_data["reason"])
            else:
                services.milestone_plan_cancel(plan=plan, seller=request.user, reason=form.cleaned_data["reason"])
            messages.info(request, _("The plan is closed."))
        else:
            raise Http404
    except services.MilestonePlanError as exc:
        messages.error(request, exc.message)
    return redirect(plan)


@login_required
@require_POST
def plan_open(request, token, position):
    plan = selectors.plan_get_for_viewer(token=token, user=request.user)
    try:
        txn = services.milestone_open(plan=plan, position=position, actor=request.user)
    except services.MilestonePlanError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Milestone opened for payment: %(reference)s.") % {"reference": txn.reference})
    return redirect(plan)


@csp_exempt()
@never_cache
@login_required
@require_GET
def plan_pdf(request, token):
    """The plan as a PDF for the parties: every milestone with its reference, amount, fee share and status
    (``documents.rendering``: rendered once per content, counted against the reader's limit)."""
    plan = selectors.plan_get_for_viewer(token=token, user=request.user)
    role = plan.role_of(request.user)
    if role is None:
        raise Http404
    try:
        pdf = cached_pdf("milestones/plan_pdf.html", {"plan": plan, "rows": _rows(plan, None)},
                         language=request.user.preferred_language, user=request.user)
    except RenderLimitReached as exc:
        minutes = minutes_to_wait(exc.retry_after)
        response = HttpResponse(ngettext("Too many documents at once; please try again in %(minutes)d minute.",
                                         "Too many documents at once; please try again in %(minutes)d minutes.",
                                         minutes) % {"minutes": minutes}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="INTRASA-termin-{plan.pk}.pdf"'
    return response
