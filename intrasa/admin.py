"""Admin building blocks shared by every app: money and state are shown, never edited by hand.

Records written by services (ledger lines, bills, payouts, timelines) are read-only in the admin;
staff change them only through the actions that call the services.
"""
from django.contrib import admin


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
