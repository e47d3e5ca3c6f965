"""Staff overrides of the working-day calendar. The admin collects the day, what it becomes and a
reason, and calls ``workdays.services``, which saves the override and writes the audit row in one
database transaction."""
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from intrasa.admin import ServiceChangesAdmin
from intrasa.forms import staff_reason_field

from . import services
from .models import CalendarOverride


class CalendarOverrideForm(forms.ModelForm):
    reason = staff_reason_field()

    class Meta:
        model = CalendarOverride
        fields = ("date", "kind", "name")

    def validate_unique(self):
        pass  # the service's check below says it in words staff understand

    def clean(self):
        data = super().clean()
        if not any(self.has_error(field) for field in ("date", "kind", "name")):
            try:
                services.calendar_override_check(date=data["date"], kind=data["kind"], name=data["name"],
                                                 override=self.instance if self.instance.pk else None)
            except services.CalendarOverrideError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return data


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(ServiceChangesAdmin):
    form = CalendarOverrideForm
    list_display = ("date", "kind", "name", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"
    readonly_fields = ("created_by", "created_at")
    delete_warning = gettext_lazy("The date follows the public-holiday list again; deadlines counted in working "
                                  "days from now on change with it.")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.calendar_override_save(actor=request.user, reason=data["reason"], date=data["date"],
                                                kind=data["kind"], name=data["name"], override=obj if change else None)
        obj.pk, obj.created_by, obj.created_at = saved.pk, saved.created_by, saved.created_at

    def delete_through_service(self, request, obj, reason):
        services.calendar_override_delete(override=obj, actor=request.user, reason=reason)
