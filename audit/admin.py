from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Every recorded action, searchable by who, what, which object and why. Append-only."""

    list_display = ("created_at", "actor_label", "action", "object_type", "object_link", "reason")
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("actor_label", "object_repr", "object_id", "reason", "action")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = ("object_link",)

    @admin.display(description=_("object"), ordering="object_repr")
    def object_link(self, obj):
        app_label, _dot, model = obj.object_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model.lower()}_change", args=[obj.object_id])
        except NoReverseMatch:
            return obj.object_repr
        return format_html('<a href="{}">{}</a>', url, obj.object_repr)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
