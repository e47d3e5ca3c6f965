"""Staff views of payouts and their parts, the daily quota, and recorded limit changes.

Everything is read-only except two recorded staff actions that go through the services (and so
into the audit log): retrying a failed part, and changing the Daily Nominal Total.
"""
import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import PayoutDestination
from intrasa.admin import ReadOnlyAdmin, ReadOnlyInline
from intrasa.forms import RupiahField
from intrasa.money import format_rupiah
from intrasa.wib import now_wib

from . import rules
from .models import DailyLimitChange, DailyQuota, Disbursement, Payout, RetryApproval
from .services import (
    DisbursementError,
    daily_limit_change,
    disbursement_release_hold,
    disbursement_retry,
    disbursement_retry_approve,
    disbursement_retry_reject,
    disbursement_retry_request,
)

OPEN_PAYOUT = [Payout.Status.AWAITING_DESTINATION, Payout.Status.IN_PROGRESS, Payout.Status.NEEDS_ACTION]


def _link(viewname: str, pk, label):
    return format_html('<a href="{}">{}</a>', reverse(viewname, args=[pk]), label)


class DisbursementInline(ReadOnlyInline):
    model = Disbursement
    fields = ("sequence", "kind", "amount", "partner_reference_no", "status", "waiting_for", "not_before",
              "provider_reference_no", "last_response_code", "failure_reason", "completed_at")
    readonly_fields = fields


class PayoutDueFilter(admin.SimpleListFilter):
    """The FAQ's 1×24 working-hour promise (``due_at``): due soon, or already broken."""

    title = gettext_lazy("promise")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("open", _("Open, not yet due")), ("due_24h", _("Due within 24 hours")),
                ("overdue", _("Overdue"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_PAYOUT, due_at__gt=now)
        if self.value() == "due_24h":
            return queryset.filter(status__in=OPEN_PAYOUT, due_at__gt=now, due_at__lte=now + dt.timedelta(hours=24))
        if self.value() == "overdue":
            return queryset.filter(status__in=OPEN_PAYOUT, due_at__lte=now)
        return queryset


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "purpose", "recipient", "amount_display", "status", "due_at", "completed_at")
    list_filter = ("status", PayoutDueFilter, "purpose")
    search_fields = ("escrow_transaction__reference", "recipient__email")
    list_select_related = ("escrow_transaction", "recipient")
    readonly_fields = ("transaction",)
    inlines = [DisbursementInline]

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.display(description=gettext_lazy("Transaction"), ordering="escrow_transaction__reference")
    def transaction(self, obj):
        return _link("admin:transactions_escrowtransaction_change", obj.escrow_transaction_id,
                     obj.escrow_transaction.reference)


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyAdmin):
    list_display = ("partner_reference_no", "payout_link", "transaction", "kind", "amount_display", "status",
                    "waiting_for", "not_before", "quota_day", "last_response_code", "completed_at", "next_step_link")
    list_filter = ("status", "waiting_for", "kind", "quota_day")
    search_fields = ("partner_reference_no", "provider_reference_no", "payout__escrow_transaction__reference")
    list_select_related = ("payout", "payout__escrow_transaction")
    readonly_fields = ("payout_link", "transaction")
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.display(description=gettext_lazy("Next step"))
    def next_step_link(self, obj):
        if obj.status not in (Disbursement.Status.FAILED, Disbursement.Status.REVERSED, Disbursement.Status.HELD):
            return ""
        return _link("admin:disbursements_disbursement_next_step", obj.pk, _("Decide"))

    @admin.display(description=gettext_lazy("Payout"), ordering="payout_id")
    def payout_link(self, obj):
        return _link("admin:disbursements_payout_change", obj.payout_id,
                     f"#{obj.payout_id} {obj.payout.get_purpose_display()}")

    @admin.display(description=gettext_lazy("Transaction"), ordering="payout__escrow_transaction__reference")
    def transaction(self, obj):
        txn = obj.payout.escrow_transaction
        return _link("admin:transactions_escrowtransaction_change", txn.pk, txn.reference)

    @admin.action(description=gettext_lazy("Retry failed transfers (same reference, same account)"),
                  permissions=["retry"])
    def retry_failed(self, request, queryset):
        for part in queryset:
            try:
                disbursement_retry(disbursement=part, actor=request.user)
            except DisbursementError as exc:
                messages.error(request, f"{part.partner_reference_no}: {exc.message}")
            else:
                messages.success(request, _("%(ref)s: queued again under the same reference.")
                                 % {"ref": part.partner_reference_no})

    def has_retry_permission(self, request):
        return request.user.has_perm("disbursements.change_disbursement")

    def get_urls(self):
        return [path("<int:pk>/next-step/", self.admin_site.admin_view(self.next_step_view),
                     name="disbursements_disbursement_next_step"), *super().get_urls()]

    def next_step_view(self, request, pk):
        """A failed, reversed or held part: what a person decides (each through a service)."""
        if not self.has_retry_permission(request):
            raise PermissionDenied
        part = get_object_or_404(Disbursement.objects.select_related("payout__recipient"), pk=pk)
        form = NextStepForm(request.POST or None, part=part)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["step"] == "retry_same":
                    disbursement_retry(disbursement=part, actor=request.user)
                    messages.success(request, _("%(ref)s: queued again under the same reference.")
                                     % {"ref": part.partner_reference_no})
                elif data["step"] == "request_new":
                    disbursement_retry_request(disbursement=part, actor=request.user,
                                               destination=data["destination"], reason=data["reason"])
                    messages.success(request, _("Requested: a second person approves it under retries with a new "
                                                "reference."))
                else:
                    disbursement_release_hold(disbursement=part, actor=request.user, reason=data["reason"])
                    messages.success(request, _("Released: a status inquiry under the same reference decides."))
            except DisbursementError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(reverse("admin:disbursements_disbursement_change", args=[part.pk]))
        return render(request, "admin/disbursements/next_step.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "original": part,
            "title": _("Failed or held transfer: next step"),
        })


class NextStepForm(forms.Form):
    step = forms.ChoiceField(label=gettext_lazy("Next step"), widget=forms.RadioSelect, choices=[
        ("retry_same", gettext_lazy("Retry to the same account under the same reference (terms A)")),
        ("request_new", gettext_lazy("Pay another account under a new reference (a second person approves)")),
        ("release_hold", gettext_lazy("Faspay clarified an unlisted answer: release the hold (status inquiry)")),
    ])
    destination = forms.ModelChoiceField(label=gettext_lazy("Other account"), required=False,
                                         queryset=PayoutDestination.objects.none())
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=255,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, part: Disbursement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = PayoutDestination.objects.filter(
            owner_id=part.payout.recipient_id, is_archived=False)

    def clean(self):
        data = super().clean()
        step = data.get("step")
        if step == "request_new" and not data.get("destination"):
            self.add_error("destination", _("Choose the other account."))
        if step in ("request_new", "release_hold") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Please give a reason."))
        return data


@admin.register(RetryApproval)
class RetryApprovalAdmin(ReadOnlyAdmin):
    """Retries under a new reference wait here for a second person."""

    list_display = ("failed", "destination", "reason", "status", "requested_by", "requested_at", "decided_by",
                    "decided_at")
    list_filter = ("status",)
    list_select_related = ("failed", "destination", "requested_by", "decided_by")
    actions = ["approve", "reject"]

    @admin.action(description=gettext_lazy("Approve (as the second person)"), permissions=["decide"])
    def approve(self, request, queryset):
        for approval in queryset:
            try:
                disbursement_retry_approve(approval=approval, actor=request.user)
            except DisbursementError as exc:
                messages.error(request, f"{approval.failed}: {exc.message}")
            else:
                messages.success(request, _("Approved: the new transfer is on its way."))

    @admin.action(description=gettext_lazy("Reject"), permissions=["decide"])
    def reject(self, request, queryset):
        for approval in queryset:
            try:
                disbursement_retry_reject(approval=approval, actor=request.user,
                                          note=_("Rejected by %(name)s") % {"name": request.user.get_full_name()
                                                                            or request.user.email})
            except DisbursementError as exc:
                messages.error(request, f"{approval.failed}: {exc.message}")

    def has_decide_permission(self, request):
        return request.user.has_perm("disbursements.change_disbursement")


@admin.register(DailyQuota)
class DailyQuotaAdmin(ReadOnlyAdmin):
    list_display = ("day", "limit_display", "used_display", "remaining_display")

    @admin.display(description=gettext_lazy("daily limit"), ordering="limit")
    def limit_display(self, obj):
        return format_rupiah(obj.limit)

    @admin.display(description=gettext_lazy("used"), ordering="used")
    def used_display(self, obj):
        return format_rupiah(obj.used)

    @admin.display(description=gettext_lazy("remaining"))
    def remaining_display(self, obj):
        return format_rupiah(obj.remaining)


class DailyLimitChangeForm(forms.ModelForm):
    """The Daily Nominal Total agreed in writing with Faspay (terms A), from a day on, with why."""

    limit = RupiahField(label=gettext_lazy("New daily limit"))  # its minimum and help are set per form
    reason = forms.CharField(label=gettext_lazy("Reason"), min_length=10, max_length=255,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Quote Faspay's written approval (date, reference)."))

    class Meta:
        model = DailyLimitChange
        fields = ("effective_from", "limit", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service's own bound (``daily_limit_change``): the admin must never pass it a refusal. Said
        # before typing, and again by the field's own range message for any amount below it.
        smallest = rules.smallest_daily_limit()
        self.fields["limit"].min_value = smallest
        self.fields["limit"].help_text = _(
            "Whole Rupiah, e.g. 75.000.000 — as agreed in writing with Faspay. At least %(min)s: a payout is split "
            "into parts of at least %(part)s, and every part must fit one day.") % {
            "min": format_rupiah(smallest), "part": format_rupiah(smallest // 2)}

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        if day < now_wib().date():
            raise forms.ValidationError(_("A limit cannot change in the past."))
        return day


@admin.register(DailyLimitChange)
class DailyLimitChangeAdmin(admin.ModelAdmin):
    """Changing the Daily Nominal Total is a recorded staff action (goes through the service, which
    writes the audit row)."""

    form = DailyLimitChangeForm
    list_display = ("effective_from", "limit_display", "changed_by", "reason", "created_at")
    list_select_related = ("changed_by",)

    @admin.display(description=gettext_lazy("daily limit"), ordering="limit")
    def limit_display(self, obj):
        return format_rupiah(obj.limit)

    def get_changeform_initial_data(self, request):
        return {"effective_from": now_wib().date(), **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form validated everything the service checks, so a refusal here is unexpected.
        saved = daily_limit_change(limit=form.cleaned_data["limit"], effective_from=form.cleaned_data["effective_from"],
                                   actor=request.user, reason=form.cleaned_data["reason"])
        obj.pk = saved.pk
        obj.changed_by = saved.changed_by
        obj.created_at = saved.created_at

    def save_related(self, request, form, formsets, change):
        pass  # nothing related; the service saved the row
