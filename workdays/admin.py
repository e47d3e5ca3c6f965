from django.contrib import admin

from audit.services import audit_record

from .models import CalendarOverride


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user, action="calendar_override.save", target=obj,
            data={"date": obj.date.isoformat(), "kind": obj.kind, "name": obj.name},
        )

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="calendar_override.delete", target=obj,
                     data={"date": obj.date.isoformat(), "kind": obj.kind})
        super().delete_model(request, obj)
