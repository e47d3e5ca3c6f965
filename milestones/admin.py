"""Milestone plans for staff: read-only. The money of each milestone is on its own escrow
transaction (and its staff page); the plan only groups them."""
from django.contrib import admin

from intrasa.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Milestone, MilestonePlan


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = ("position", "title", "amount", "due_date", "fee_amount", "buyer_fee", "seller_fee", "escrow_transaction")
    readonly_fields = fields


@admin.register(MilestonePlan)
class MilestonePlanAdmin(ReadOnlyAdmin):
    list_display = ("title", "seller", "buyer_email", "payment_schedule", "total", "fee_amount", "status", "created_at")
    list_filter = ("status", "payment_schedule")
    search_fields = ("title", "seller__email", "buyer_email", "milestones__escrow_transaction__reference")
    list_select_related = ("seller",)
    inlines = [MilestoneInline]
