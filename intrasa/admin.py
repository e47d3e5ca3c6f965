"""Admin building blocks shared by every app: money and state are shown, never edited by hand.

Records written by services (ledger lines, bills, payouts, timelines) are read-only in the admin;
staff change them only through the actions that call the services.
"""
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from .errors import ServiceError
from .forms import StaffReasonForm


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def run_for_each(model_admin, request, queryset, call, *, errors: tuple, done_message) -> int:
    """Run a staff action's service ``call`` on each selected row. A refusal (one of ``errors``,
    which carry a ``message`` for people) is reported with the row's reference and does not stop
    the others; ``done_message`` (with ``%(count)d``) reports the successes."""
    from django.contrib import messages

    done = 0
    for obj in queryset:
        try:
            call(obj)
        except errors as exc:
            model_admin.message_user(request, f"{obj.escrow_transaction.reference}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message % {"count": done}, messages.SUCCESS)
    return done


class ServiceChangesAdmin(admin.ModelAdmin):
    """An editable admin whose rows change only through an app's services, each with a reason.

    Subclasses give the form a ``reason`` field and implement ``save_model`` by calling their
    service, and ``delete_through_service``. Deleting asks for a reason on its own page
    (``admin/confirm_with_reason.html``, showing ``delete_summary`` and ``delete_warning``); the bulk
    delete, which would bypass the service, is gone. A service's refusal after the form passed
    (someone else saved at the same moment) is a message, never a 500: the admin's transaction
    rolls back and the page is shown again.
    """

    delete_confirmation_template = "admin/confirm_with_reason.html"
    delete_warning = ""

    def __init_subclass__(cls, **kwargs):
        # Every subclass deletes through its service, with the reason: refused at import time,
        # not at the first delete, when one does not say how.
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "delete_through_service", None)):
            raise TypeError(f"{cls.__name__} must define delete_through_service(request, obj, reason)")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        raise PermissionDenied  # only through delete_view, which asks for a reason

    def delete_queryset(self, request, queryset):
        raise PermissionDenied

    def delete_summary(self, obj) -> list[tuple[str, str]]:
        return [(str(self.opts.verbose_name).capitalize(), str(obj))]

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        form = StaffReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                self.delete_through_service(request, obj, form.cleaned_data["reason"])
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(change_url)
            self.message_user(request, _("Deleted: %(object)s.") % {"object": obj}, messages.SUCCESS)
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        return TemplateResponse(request, self.delete_confirmation_template, {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
            "title": _("Delete"), "summary": self.delete_summary(obj), "warning": self.delete_warning,
            "confirm_label": _("Delete"), "cancel_url": change_url,
        })
