from django.contrib import admin

from .models import Account, JournalEntry, Posting


class ReadOnlyAdmin(admin.ModelAdmin):
    """The books are written by services only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ("account", "side", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("posted_at", "kind", "memo", "escrow_transaction", "idempotency_key")
    list_filter = ("kind",)
    search_fields = ("memo", "idempotency_key", "escrow_transaction__reference")
    list_select_related = ("escrow_transaction",)
    inlines = [PostingInline]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("category", "escrow_transaction", "created_at")
    list_filter = ("category",)
    search_fields = ("escrow_transaction__reference",)
    list_select_related = ("escrow_transaction",)
