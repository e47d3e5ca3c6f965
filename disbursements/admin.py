"""Staff views of payouts and their parts, the daily quota, and recorded limit changes."""
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.money import format_rupiah

from .models import DailyLimitChange, DailyQuota, Disbursement, Payout
from .services import DisbursementError, daily_limit_change, disbursement_retry


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DisbursementInline(admin.TabularInline):
    model = Disbursement
    fields = ("sequence", "kind", "amount", "partner_reference_no", "status", "waiting_for", "not_before",
              "provider_reference_no", "last_response_code", "failure_reason", "completed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(ReadOnly):
    list_display = ("escrow_transaction", "purpose", "recipient", "amount_display", "status", "due_at", "completed_at")
    list_filter = ("status", "purpose")
    search_fields = ("escrow_transaction__reference", "recipient__email")
    list_select_related = ("escrow_transaction", "recipient")
    inlines = [DisbursementInline]

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnly):
    list_display = ("partner_reference_no", "payout", "kind", "amount_display", "status", "waiting_for",
                    "not_before", "quota_day", "last_response_code", "completed_at")
    list_filter = ("status", "waiting_for", "kind", "quota_day")
    search_fields = ("partner_reference_no", "provider_reference_no", "payout__escrow_transaction__reference")
    list_select_related = ("payout", "payout__escrow_transaction")
    actions = ["retry_failed"]

    @admin.display(description=gettext_lazy("Amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah(obj.amount)

    @admin.action(description=gettext_lazy("Retry failed transfers (new reference, same account)"),
                  permissions=["retry"])
    def retry_failed(self, request, queryset):
        for part in queryset:
            try:
                disbursement_retry(disbursement=part, actor=request.user)
            except DisbursementError as exc:
                messages.error(request, f"{part.partner_reference_no}: {exc.message}")
            else:
                messages.success(request, _("%(ref)s: retry created.") % {"ref": part.partner_reference_no})

    def has_retry_permission(self, request):
        return request.user.has_perm("disbursements.change_disbursement")


@admin.register(DailyQuota)
class DailyQuotaAdmin(ReadOnly):
    list_display = ("day", "limit", "used", "remaining")


@admin.register(DailyLimitChange)
class DailyLimitChangeAdmin(admin.ModelAdmin):
    """Changing the Daily Nominal Total is a recorded staff action (goes through the service)."""

    list_display = ("effective_from", "limit", "changed_by", "reason", "created_at")
    fields = ("effective_from", "limit", "reason")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = daily_limit_change(limit=obj.limit, effective_from=obj.effective_from, actor=request.user,
                                       reason=obj.reason)
        except DisbursementError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk
