"""Payment links for staff: read-only (sellers manage their own links; every change is audited)."""
from django.contrib import admin

from intrasa.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import PaymentLink, PaymentLinkUse


class PaymentLinkUseInline(ReadOnlyInline):
    model = PaymentLinkUse
    fields = ("escrow_transaction", "buyer", "created_at")
    readonly_fields = fields


@admin.register(PaymentLink)
class PaymentLinkAdmin(ReadOnlyAdmin):
    list_display = ("title", "token", "seller", "price", "shipping_cost", "status", "max_transactions", "created_at")
    list_filter = ("status", "category")
    search_fields = ("token", "title", "seller__email")
    list_select_related = ("seller",)
    inlines = [PaymentLinkUseInline]
