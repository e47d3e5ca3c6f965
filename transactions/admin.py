"""Staff views of transactions. Nothing that holds money or state is editable here: state changes
go through ``transactions.services`` (the dispute and operations issues add the staff actions)."""
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from documents.selectors import KINDS, document_available, document_url
from intrasa.money import format_rupiah
from ledger.selectors import transaction_postings

from .models import EscrowTransaction, FeeTier, TransactionEvent


class TransactionEventInline(admin.TabularInline):
    model = TransactionEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EscrowTransaction)
class EscrowTransactionAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "status", "amount_display", "fee_display", "seller", "buyer",
                    "created_at")
    list_filter = ("status", "category", "fee_payer", "created_at")
    search_fields = ("reference", "title", "seller__email", "buyer__email", "buyer_email", "buyer_phone",
                     "seller__phone", "buyer__phone")
    list_select_related = ("seller", "buyer")
    date_hierarchy = "created_at"
    inlines = [TransactionEventInline]
    readonly_fields = [f.name for f in EscrowTransaction._meta.fields if f.name != "invitation_token"] + [
        "document_links"]
    exclude = ("invitation_token",)

    @admin.display(description=_("Amount"), ordering="amount_due")
    def amount_display(self, obj):
        return format_rupiah(obj.amount_due)

    @admin.display(description=_("Fee"), ordering="fee_amount")
    def fee_display(self, obj):
        return format_rupiah(obj.fee_amount)

    @admin.display(description=_("Documents"))
    def document_links(self, obj):
        """The PDFs of this transaction (documents app); staff with view permission may open any."""
        postings = list(transaction_postings(escrow_transaction=obj))
        available = [kind for kind in KINDS.values() if document_available(kind, obj, postings)]
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{} (PDF)</a>',
                                ((document_url(obj.reference, kind), kind.title) for kind in available))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FeeTier)
class FeeTierAdmin(admin.ModelAdmin):
    """The fee schedule. Edits apply to new transactions only; every edit is audited."""

    list_display = ("__str__", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="fee_tier.change" if change else "fee_tier.add", target=obj,
                     data={field: form.cleaned_data.get(field) for field in form.changed_data})

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="fee_tier.delete", target=obj)
        super().delete_model(request, obj)
