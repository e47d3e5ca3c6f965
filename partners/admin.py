"""Staff manage partners here: register and edit them (with a reason), issue, rotate and revoke API
keys, rotate the webhook signing secret, and read every webhook event with each attempt's answer.
Every change goes through ``partners.services`` (audited); secrets are shown once, on a page of
their own, and never stored readable (keys) or shown again (signing secrets)."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceChangesAdmin
from intrasa.errors import ServiceError
from intrasa.forms import StaffReasonForm, staff_reason_field

from . import services
from .models import KEY_SCOPES, ApiKey, Partner, PartnerTransaction, SellerLink, WebhookAttempt, WebhookEvent


class PartnerForm(forms.ModelForm):
    website = forms.URLField(label=gettext_lazy("website"), required=False, assume_scheme="https")
    webhook_url = forms.URLField(label=gettext_lazy("webhook URL"), required=False, max_length=500,
                                 assume_scheme="https")
    reason = staff_reason_field()

    class Meta:
        model = Partner
        fields = ("name", "website", "redirect_uris", "webhook_url", "is_active")


class IssueKeyForm(StaffReasonForm):
    label = forms.CharField(label=gettext_lazy("Label"), max_length=100, required=False)
    scopes = forms.MultipleChoiceField(label=gettext_lazy("Scopes"), choices=list(KEY_SCOPES.items()),
                                       widget=forms.CheckboxSelectMultiple)


class ApiKeyInline(ReadOnlyInline):
    model = ApiKey
    fields = ("prefix", "label", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at", "manage")
    readonly_fields = fields
    show_change_link = False

    @admin.display(description=gettext_lazy("Manage"))
    def manage(self, obj):
        if obj.revoked_at is not None:
            return "—"
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("admin:partners_apikey_rotate", args=[obj.pk]), _("Rotate"),
                           reverse("admin:partners_apikey_revoke", args=[obj.pk]), _("Revoke"))


@admin.register(Partner)
class PartnerAdmin(ServiceChangesAdmin):
    form = PartnerForm
    list_display = ("name", "client_id", "webhook_url", "is_active", "created_at")
    readonly_fields = ("client_id", "created_at", "manage")
    inlines = [ApiKeyInline]
    delete_warning = gettext_lazy("Only a partner that never created a transaction can be deleted; "
                                  "its keys and links go with it. Deactivate the others.")

    @admin.display(description=gettext_lazy("Keys and secrets"))
    def manage(self, obj):
        if obj.pk is None:
            return _("Save the partner first; its webhook signing secret is shown once then.")
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("admin:partners_partner_issue_key", args=[obj.pk]), _("Issue an API key"),
                           reverse("admin:partners_partner_rotate_secret", args=[obj.pk]),
                           _("Rotate the webhook signing secret"))

    def get_urls(self):
        return [
            path("<int:pk>/issue-key/", self.admin_site.admin_view(self.issue_key_view),
                 name="partners_partner_issue_key"),
            path("<int:pk>/rotate-secret/", self.admin_site.admin_view(self.rotate_secret_view),
                 name="partners_partner_rotate_secret"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.partner_update(partner=obj, actor=request.user, reason=data["reason"], name=data["name"],
                                            website=data["website"], redirect_uris=data["redirect_uris"],
                                            webhook_url=data["webhook_url"], is_active=data["is_active"])
        else:
            saved, secret = services.partner_register(
                actor=request.user, reason=data["reason"], name=data["name"], website=data["website"],
                redirect_uris=data["redirect_uris"], webhook_url=data["webhook_url"])
            request._partner_secret = secret
        obj.pk, obj.client_id, obj.created_at = saved.pk, saved.client_id, saved.created_at

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, obj, _("Webhook signing secret of %(partner)s") % {"partner": obj},
                                 request._partner_secret)

    def delete_through_service(self, request, obj, reason):
        services.partner_delete(partner=obj, actor=request.user, reason=reason)

    def _secret_page(self, request, partner, title, secret):
        return TemplateResponse(request, "partners/admin_secret.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": title, "secret": secret,
            "client_id": partner.client_id, "back_url": reverse("admin:partners_partner_change", args=[partner.pk])})

    def _reason_page(self, request, partner, form, title, warning=""):
        return TemplateResponse(request, "admin/confirm_with_reason.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": partner, "form": form,
            "title": title, "summary": [(_("Partner"), partner.name)], "warning": warning, "confirm_label": title,
            "cancel_url": reverse("admin:partners_partner_change", args=[partner.pk])})

    def issue_key_view(self, request, pk):
        partner = get_object_or_404(Partner, pk=pk)
        if not self.has_change_permission(request, partner):
            raise PermissionDenied
        form = IssueKeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                _key, plain = services.api_key_issue(partner=partner, actor=request.user, reason=form.cleaned_data["reason"],
                                                     scopes=form.cleaned_data["scopes"], label=form.cleaned_data["label"])
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                return self._secret_page(request, partner, _("New API key of %(partner)s") % {"partner": partner}, plain)
        return self._reason_page(request, partner, form, _("Issue an API key"))

    def rotate_secret_view(self, request, pk):
        partner = get_object_or_404(Partner, pk=pk)
        if not self.has_change_permission(request, partner):
            raise PermissionDenied
        form = StaffReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            secret = services.webhook_secret_rotate(partner=partner, actor=request.user,
                                                    reason=form.cleaned_data["reason"])
            return self._secret_page(request, partner, _("New webhook signing secret of %(partner)s")
                                     % {"partner": partner}, secret)
        return self._reason_page(request, partner, form, _("Rotate the webhook signing secret"),
                                 _("Deliveries are signed with the new secret at once: the partner must switch to it."))


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "partner", "label", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("partner",)

    def get_urls(self):
        return [
            path("<int:pk>/rotate/", self.admin_site.admin_view(self.rotate_view), name="partners_apikey_rotate"),
            path("<int:pk>/revoke/", self.admin_site.admin_view(self.revoke_view), name="partners_apikey_revoke"),
            *super().get_urls(),
        ]

    def _key(self, request, pk) -> ApiKey:
        key = get_object_or_404(ApiKey.objects.select_related("partner"), pk=pk)
        if not request.user.has_perm("partners.change_partner"):
            raise PermissionDenied
        return key

    def _page(self, request, key, form, title, warning):
        return TemplateResponse(request, "admin/confirm_with_reason.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": key, "form": form, "title": title,
            "summary": [(_("Partner"), key.partner.name), (_("Key"), str(key))], "warning": warning,
            "confirm_label": title, "cancel_url": reverse("admin:partners_partner_change", args=[key.partner_id])})

    def rotate_view(self, request, pk):
        key = self._key(request, pk)
        form = StaffReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                _new, plain = services.api_key_rotate(api_key=key, actor=request.user, reason=form.cleaned_data["reason"])
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:partners_partner_change", args=[key.partner_id]))
            return TemplateResponse(request, "partners/admin_secret.html", {
                **self.admin_site.each_context(request), "opts": self.opts, "secret": plain,
                "title": _("New API key of %(partner)s") % {"partner": key.partner},
                "back_url": reverse("admin:partners_partner_change", args=[key.partner_id])})
        return self._page(request, key, form, _("Rotate the API key"),
                          _("A new key with the same scopes is shown once; the old one keeps working for the grace "
                            "period only."))

    def revoke_view(self, request, pk):
        key = self._key(request, pk)
        form = StaffReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.api_key_revoke(api_key=key, actor=request.user, reason=form.cleaned_data["reason"])
            self.message_user(request, _("The key %(key)s is revoked.") % {"key": key}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:partners_partner_change", args=[key.partner_id]))
        return self._page(request, key, form, _("Revoke the API key"), _("Requests with this key fail at once."))


@admin.register(SellerLink)
class SellerLinkAdmin(ReadOnlyAdmin):
    list_display = ("partner", "user", "scopes", "created_at", "revoked_at")
    list_filter = ("partner",)
    list_select_related = ("partner", "user")


@admin.register(PartnerTransaction)
class PartnerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("escrow_transaction", "partner", "external_id", "last_sequence", "created_at")
    list_filter = ("partner",)
    list_select_related = ("partner", "escrow_transaction")


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("attempted_at", "url", "status_code", "response_excerpt", "error", "duration_ms")
    readonly_fields = fields
    show_change_link = False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("event_type", "sequence", "partner", "transaction", "delivery_state", "attempt_count",
                    "next_attempt_at", "delivered_at")
    list_filter = ("partner", "event_type")
    list_select_related = ("partner", "partner_transaction__escrow_transaction")
    readonly_fields = ("public_id", "partner", "partner_transaction", "sequence", "event_type", "payload_lines",
                       "created_at", "attempt_count", "next_attempt_at", "delivered_at", "gave_up_at")
    exclude = ("payload",)
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.display(description=gettext_lazy("transaction"))
    def transaction(self, obj):
        return obj.partner_transaction.escrow_transaction

    @admin.display(description=gettext_lazy("payload"))
    def payload_lines(self, obj):
        return format_html_join("", "<div><code>{}</code>: {}</div>", sorted(obj.payload.items()))

    @admin.action(description=gettext_lazy("Deliver the selected events again"))
    def redeliver(self, request, queryset):
        for event in queryset:
            services.webhook_redeliver(event=event)
        self.message_user(request, _("%(count)d events are due for delivery again.") % {"count": queryset.count()},
                          messages.SUCCESS)
