"""Staff screens for people and payout destinations.

Payout destinations are read-only here: an account number edited by hand would send a seller's
money somewhere they never entered. Staff act on destinations only through actions that call a
service (which records who, when and why). Changes to users are recorded in the audit trail as
well as in Django's admin log.
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record

from .domestic import mask_account_number, normalize_indonesian_mobile
from .models import PayoutDestination, User
from .services import payout_destination_approve, staff_second_factor_reset
from .validators import canonical_email, clean_identity_name


class _EmailAndPhoneCleaning:
    """Keep staff-entered data in the shape the rest of the code relies on: canonical unique
    emails (that is what login compares), names without invisible characters and E.164
    Indonesian mobile numbers."""

    def clean_email(self):
        email = canonical_email(self.cleaned_data["email"])
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(_("Another user already has this email address."), code="duplicate_email")
        return email

    def clean_full_name(self):
        return clean_identity_name(self.cleaned_data.get("full_name", ""))

    def clean_phone(self):
        phone = self.cleaned_data.get("phone", "")
        return normalize_indonesian_mobile(phone) if phone else ""


class UserCreationForm(_EmailAndPhoneCleaning, auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "phone")


class UserChangeForm(_EmailAndPhoneCleaning, auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "phone", "preferred_language")}),
        (_("Permissions"), {
            "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
        }),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "email_verified_at")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("email", "full_name", "phone", "usable_password", "password1", "password2"),
        }),
    )
    # Verification is proof that the person reads the mailbox; a date typed by staff proves nothing.
    readonly_fields = ("last_login", "date_joined", "email_verified_at")
    list_display = ("email", "full_name", "phone", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", ("email_verified_at", admin.EmptyFieldListFilter),
                   "preferred_language", "groups")
    search_fields = ("email", "full_name", "phone")
    ordering = ("email",)
    actions = ["reset_second_factor"]

    def has_reset_second_factor_permission(self, request):
        # A second factor guards money; only superusers may take one away.
        return request.user.is_superuser

    @admin.action(description=_("Reset the second factor (lost phone)"), permissions=["reset_second_factor"])
    def reset_second_factor(self, request, queryset):
        """Asks for a reason first; then removes the staff members' authenticators and backup codes."""
        people = queryset.filter(is_staff=True)
        form = ResetSecondFactorForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(request, "accounts/admin_reset_second_factor.html", {
                **self.admin_site.each_context(request),
                "title": gettext("Reset the second factor"), "opts": self.model._meta,
                "people": people, "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        for person in people:
            staff_second_factor_reset(user=person, actor=request.user, reason=form.cleaned_data["reason"])
            self.message_user(request, gettext("%(email)s sets up a new authenticator at the next admin login.")
                              % {"email": person.email}, messages.SUCCESS)
        return None

    def has_delete_permission(self, request, obj=None):
        # Users own transactions, ledger lines and audit rows (all PROTECT); deactivate instead.
        return False

    def save_model(self, request, obj, form, change):
        if change and "email" in form.changed_data:
            # Nobody has shown they read the new address yet (the old links stop working too).
            obj.email_verified_at = None
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action="user.add_by_staff", target=obj, data={"change": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        # Also called by the password page; the message names only fields, never values.
        audit_record(actor=request.user, action="user.change_by_staff", target=obj, data={"change": message})
        return super().log_change(request, obj, message)

    def user_change_password(self, request, id, form_url=""):
        # Django's view saves the password and then logs it; one transaction keeps the new
        # password and its audit row together.
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)


class ApproveReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the different name acceptable?"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit trail with your name, for example: “the bank shortens "
                    "the holder's middle name”."),
    )


class ResetSecondFactorForm(forms.Form):
    reason = forms.CharField(
        label=_("Why, and how was the person's identity confirmed?"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit trail with your name."),
    )


@admin.register(PayoutDestination)
class PayoutDestinationAdmin(admin.ModelAdmin):
    list_display = ("owner_email", "kind", "institution", "masked_number", "account_holder_name",
                    "verification", "is_default", "is_archived", "created_at")
    list_filter = ("kind", "verification", "is_default", "is_archived", "bank_code", "ewallet_provider")
    search_fields = ("owner__email", "owner__full_name", "account_holder_name")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ["approve_name_mismatch"]
    fields = ("owner", "kind", "bank_code", "account_number", "ewallet_provider", "ewallet_phone",
              "account_holder_name", "verification", "verified_name", "verified_at", "approved_by",
              "approved_at", "is_default", "is_archived", "created_at")
    readonly_fields = fields

    @admin.display(description=_("owner"), ordering="owner__email")
    def owner_email(self, obj):
        return obj.owner.email

    @admin.display(description=_("bank / e-wallet"))
    def institution(self, obj):
        if obj.kind == PayoutDestination.Kind.BANK:
            return obj.get_bank_code_display()
        return obj.get_ewallet_provider_display()

    @admin.display(description=_("number"))
    def masked_number(self, obj):
        return mask_account_number(obj.account_number or obj.ewallet_phone)

    def has_add_permission(self, request):
        return False  # owners add their own destinations; staff do not type account numbers

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # archived, never deleted: past payouts point at them

    def has_approve_permission(self, request):
        return request.user.has_perm("accounts.change_payoutdestination")

    @admin.action(description=_("Approve the holder-name mismatch"), permissions=["approve"])
    def approve_name_mismatch(self, request, queryset):
        """Asks for a reason on an intermediate page first (staff actions are recorded with why)."""
        form = ApproveReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(request, "accounts/admin_approve_name_mismatch.html", {
                **self.admin_site.each_context(request),
                "title": gettext("Approve the holder-name mismatch"),
                "opts": self.model._meta,
                "destinations": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        approved, refused = 0, []
        for destination in queryset:
            try:
                payout_destination_approve(destination=destination, actor=request.user,
                                           reason=form.cleaned_data["reason"])
            except ValidationError as error:
                refused.append(f"{destination}: {' '.join(error.messages)}")
            else:
                approved += 1
        if approved:
            self.message_user(request, ngettext(
                "%(count)d destination approved.", "%(count)d destinations approved.", approved
            ) % {"count": approved}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)
        return None
