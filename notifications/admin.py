from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Notification


class EmailStateFilter(admin.SimpleListFilter):
    """Where each email stands: sent, waiting for its next try after failures, or given up on
    (``notifications.backoff``) — the last are the ones staff may have to tell people about."""

    title = _("email")
    parameter_name = "email_state"

    def lookups(self, request, model_admin):
        return [("sent", _("Sent")), ("retrying", _("Failed, to be tried again")), ("given_up", _("Given up"))]

    def queryset(self, request, queryset):
        if self.value() == "sent":
            return queryset.filter(email_sent_at__isnull=False)
        if self.value() == "retrying":
            return queryset.filter(email_sent_at__isnull=True, email_failed_at__isnull=True, email_attempts__gt=0)
        if self.value() == "given_up":
            return queryset.filter(email_failed_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "email", "subject", "email_sent_at", "email_attempts", "email_failed_at",
                    "read_at")
    list_filter = (EmailStateFilter, "kind")
    search_fields = ("email", "subject", "event_key")
    list_select_related = ("recipient",)
    readonly_fields = ("email_attempts", "email_retry_at", "email_failed_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
