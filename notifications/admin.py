from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Notification
from .services import notification_emails_try_again


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
    actions = ["try_again"]

    @admin.action(description=_("Try the given-up emails again"), permissions=["try_again"])
    def try_again(self, request, queryset):
        count = notification_emails_try_again(notification_ids=queryset.values_list("pk", flat=True),
                                              actor=request.user)
        self.message_user(request, ngettext(
            "%(count)d given-up email will be tried again within five minutes.",
            "%(count)d given-up emails will be tried again within five minutes.", count) % {"count": count},
            messages.SUCCESS if count else messages.WARNING)

    def has_try_again_permission(self, request):
        """Anyone on staff who may see the emails may ask for one to be tried again: it sends nothing
        that was not meant to go, and one that fails again is given up again."""
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
