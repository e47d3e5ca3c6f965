"""The data protection officer's screens. Everything here is read-only for everyone, superusers
included: the staff access log is append-only (and PostgreSQL refuses changes to it), and the
other records are written only by ``privacy.services`` and ``privacy.purge``. Who may look is
decided by the view permissions of the "Data protection officer" group (migration 0003)."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from intrasa.admin import ReadOnlyAdmin

from .models import ConsentEvent, ErasureRecord, RetainedIdentity, RetentionRun, StaffAccessLog


@admin.register(StaffAccessLog)
class StaffAccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "staff_label", "kind", "object_id", "subject", "reason", "ip_address")
    list_filter = ("kind", "at")
    search_fields = ("staff_label", "subject__email", "object_id", "reason")
    date_hierarchy = "at"
    list_select_related = ("subject",)
    fields = ("at", "staff", "staff_label", "kind", "object_id", "subject", "reason", "path", "ip_address")
    readonly_fields = fields


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "purpose", "granted", "via")
    list_filter = ("purpose", "granted", "via")
    search_fields = ("user__email",)
    date_hierarchy = "at"
    list_select_related = ("user",)
    fields = ("at", "user", "purpose", "granted", "wording", "language", "via")
    readonly_fields = fields


class RetainedIdentityInline(admin.StackedInline):
    """Shown on its own page only (opening it asks for a reason): here just a link."""

    model = RetainedIdentity
    fields = ("delete_after",)
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyAdmin):
    list_display = ("erased_at", "user", "confirmation_sent_at", "confirmation_attempts", "confirmation_failed_at")
    list_filter = (("confirmation_failed_at", admin.EmptyFieldListFilter),)
    date_hierarchy = "erased_at"
    fields = ("user", "erased_at", "kept", "language", "confirmation_sent_at", "confirmation_attempts",
              "confirmation_retry_at", "confirmation_failed_at")
    readonly_fields = fields
    inlines = [RetainedIdentityInline]


@admin.register(RetainedIdentity)
class RetainedIdentityAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "delete_after")
    fields = ("erasure", "full_name", "email", "phone", "delete_after")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        # Searching by name or email would show identities without a reason being given.
        return queryset, False


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "as_of", "total_removed")
    fields = ("started_at", "finished_at", "as_of", "removed")
    readonly_fields = fields

    @admin.display(description=_("removed"))
    def total_removed(self, obj):
        return sum(obj.removed.values())
