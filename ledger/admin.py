"""Read-only views of the books; every entry links to its transaction."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from intrasa.admin import ReadOnlyAdmin, ReadOnlyInline
from intrasa.money import format_rupiah

from .models import Account, JournalEntry, Posting


def _transaction_link(txn):
    if txn is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse("admin:transactions_escrowtransaction_change", args=[txn.pk]),
                       txn.reference)


class PostingInline(ReadOnlyInline):
    """The books are written by services only."""

    model = Posting
    fields = ("account", "side", "amount")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__escrow_transaction")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("posted_at", "kind", "memo", "transaction", "total", "idempotency_key")
    list_filter = ("kind", "posted_at")
    search_fields = ("memo", "idempotency_key", "escrow_transaction__reference")
    list_select_related = ("escrow_transaction",)
    readonly_fields = ("transaction", "reverses", "created_by")
    date_hierarchy = "posted_at"
    inlines = [PostingInline]

    def get_queryset(self, request):
        from django.db.models import Q, Sum

        return super().get_queryset(request).annotate(
            debit_total=Sum("postings__amount", filter=Q(postings__side=Posting.Side.DEBIT)))

    @admin.display(description=_("Transaction"), ordering="escrow_transaction__reference")
    def transaction(self, obj):
        return _transaction_link(obj.escrow_transaction)

    @admin.display(description=_("Amount"), ordering="debit_total")
    def total(self, obj):
        return format_rupiah(obj.debit_total) if obj.debit_total is not None else "-"


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("category", "transaction", "created_at")
    list_filter = ("category",)
    search_fields = ("escrow_transaction__reference",)
    list_select_related = ("escrow_transaction",)

    @admin.display(description=_("Transaction"), ordering="escrow_transaction__reference")
    def transaction(self, obj):
        return _transaction_link(obj.escrow_transaction)
