"""Treasury records in the admin: withdrawal instructions (with a preview step showing the fee and
processing day before anything is recorded) and reconciliation items (with their evidence).
The treasury page and the exports are in ``treasury.views`` (mounted under /admin/treasury/)."""
import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.money import format_rupiah

from . import rules, services
from .forms import DecideWithdrawalForm, FaspayInvoiceForm, ResolveForm, WithdrawalForm
from .models import FaspayInvoice, ReconciliationItem, WithdrawalInstruction


@admin.register(WithdrawalInstruction)
class WithdrawalInstructionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "amount_display", "fee_display", "vat_display", "balance_display",
                    "processing_date", "status", "created_by", "decide_link")
    list_filter = ("status", "kind", "processing_date")
    search_fields = ("bank_name", "account_number", "account_holder", "reason")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.display(description=gettext_lazy("fee"), ordering="fee")
    def fee_display(self, obj):
        return format_rupiah(obj.fee)

    @admin.display(description=gettext_lazy("VAT"), ordering="vat")
    def vat_display(self, obj):
        return format_rupiah(obj.vat)

    @admin.display(description=gettext_lazy("from the deposit"), ordering="balance_needed")
    def balance_display(self, obj):
        return format_rupiah(obj.balance_needed)

    @admin.display(description=gettext_lazy("next step"))
    def decide_link(self, obj):
        if obj.status != WithdrawalInstruction.Status.PREPARED:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:treasury_withdrawal_decide", args=[obj.pk]),
                           _("Given / cancel"))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_change_permission(self, request, obj=None):
        return False  # records are changed only by the decide view (through the services)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="treasury_withdrawal_decide"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        """Two steps: the form, then a preview of the fee and processing day, then record."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = WithdrawalForm(request.POST or None, initial=WithdrawalForm.initial_for_own_account())
        quote = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if "_confirm" in request.POST:
                    instruction = services.withdrawal_instruction_create(actor=request.user, **data)
                    messages.success(request, _("Withdrawal instruction recorded: give it to Faspay for processing "
                                                "on %(day)s.") % {"day": instruction.processing_date})
                    return redirect(reverse("admin:treasury_withdrawalinstruction_change", args=[instruction.pk]))
                quote = services.withdrawal_quote(kind=data["kind"], amount=data["amount"],
                                                  instructed_at=timezone.now())
            except services.TreasuryError as exc:
                field = ("amount" if exc.code in ("domestic_maximum", "overseas_minimum", "amount_not_positive",
                                                  "amount_out_of_range")
                         else "kind" if exc.code == "overseas_not_applicable" else None)
                form.add_error(field, exc.message)
        return render(request, "admin/treasury/withdrawalinstruction/add.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "quote": quote,
            "title": _("New withdrawal instruction"), "vat_percent": rules.vat_basis_points() / 100,
            "is_overseas": form.is_bound and form.is_valid()
            and form.cleaned_data["kind"] == WithdrawalInstruction.Kind.OVERSEAS,
        })

    def decide_view(self, request, pk):
        if not request.user.has_perm("treasury.change_withdrawalinstruction"):
            raise PermissionDenied
        instruction = get_object_or_404(WithdrawalInstruction, pk=pk)
        form = DecideWithdrawalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["decision"] == "given":
                    services.withdrawal_instruction_mark_given(instruction=instruction, actor=request.user,
                                                               exchange_rate=data["exchange_rate"],
                                                               reason=data["reason"])
                else:
                    services.withdrawal_instruction_cancel(instruction=instruction, actor=request.user,
                                                           reason=data["reason"])
            except services.TreasuryError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Recorded."))
                return redirect(reverse("admin:treasury_withdrawalinstruction_changelist"))
        return render(request, "admin/treasury/withdrawalinstruction/decide.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "original": instruction,
            "title": _("Withdrawal instruction: next step"),
        })


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(admin.ModelAdmin):
    list_display = ("day", "source", "code", "reference_link", "local_status", "provider_status", "amount_display",
                    "state", "last_seen_at")
    list_filter = ("state", "source", "code", "day")
    search_fields = ("reference", "code", "object_id", "resolution")
    date_hierarchy = "day"
    readonly_fields = ("reference_link", "evidence_pretty")
    exclude = ("evidence",)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount) if obj.amount is not None else "-"

    @admin.display(description=gettext_lazy("reference"), ordering="reference")
    def reference_link(self, obj):
        if obj.object_type and obj.object_id:
            app_label, _dot, model = obj.object_type.partition(".")
            try:
                url = reverse(f"admin:{app_label}_{model.lower()}_change", args=[obj.object_id])
            except NoReverseMatch:
                return obj.reference
            return format_html('<a href="{}">{}</a>', url, obj.reference)
        return obj.reference

    @admin.display(description=gettext_lazy("evidence"))
    def evidence_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.evidence, indent=2, ensure_ascii=False, default=str))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "evidence"] + list(self.readonly_fields)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # resolving goes through the resolve view (service + audit)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view),
                     name="treasury_reconciliation_resolve"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "resolve_url": reverse("admin:treasury_reconciliation_resolve", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request, pk):
        if not request.user.has_perm("treasury.change_reconciliationitem"):
            raise PermissionDenied
        item = get_object_or_404(ReconciliationItem, pk=pk)
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.reconciliation_item_resolve(item=item, actor=request.user,
                                                 resolution=form.cleaned_data["resolution"])
            messages.success(request, _("Marked as resolved."))
            return redirect(reverse("admin:treasury_reconciliationitem_changelist"))
        return render(request, "admin/treasury/reconciliationitem/resolve.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "original": item,
            "title": _("Resolve a reconciliation item"),
        })


@admin.register(FaspayInvoice)
class FaspayInvoiceAdmin(admin.ModelAdmin):
    """Finance enters Faspay's monthly invoice; the service reconciles it (terms C)."""

    list_display = ("invoice_number", "month", "transactions", "penalty_display", "entered_by", "entered_at")
    list_select_related = ("entered_by",)
    readonly_fields = [f.name for f in FaspayInvoice._meta.fields]

    @admin.display(description=gettext_lazy("penalty invoiced"), ordering="penalty")
    def penalty_display(self, obj):
        return format_rupiah(obj.penalty)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = FaspayInvoiceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                _invoice, items = services.faspay_invoice_record(actor=request.user, **form.cleaned_data)
            except services.TreasuryError as exc:
                form.add_error(None, exc.message)
            else:
                if items:
                    messages.warning(request, _("Invoice recorded with %(count)d difference(s): see the open "
                                                "reconciliation items.") % {"count": len(items)})
                else:
                    messages.success(request, _("Invoice recorded: it matches INTRASA's figures."))
                return redirect(reverse("admin:treasury_faspayinvoice_changelist"))
        return render(request, "admin/treasury/faspayinvoice/add.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form,
            "title": _("Enter a Faspay invoice"),
        })
