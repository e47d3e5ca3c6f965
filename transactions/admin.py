"""Staff changes of the fee schedule. The admin only collects what staff type, with a reason, and
calls ``transactions.fees`` (``fee_tier_create`` / ``fee_tier_change`` / ``fee_tier_delete``),
which checks the tier, saves it and writes the audit row in one database transaction. Edits apply
to new transactions only.

The transaction's own staff page is ``escrow.admin.transactions`` (it shows bills, payouts and
documents, which live in apps above this one)."""
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.forms import RupiahField, StaffReasonForm, staff_reason_field

from . import fees
from .models import FeeTier


def _fee_amount_field(label, **kwargs):
    return RupiahField(label=label, min_value=0, max_value=settings.INTRASA_MAX_TRANSACTION_AMOUNT, **kwargs)


class FeeTierForm(forms.ModelForm):
    """Every amount of a tier is a Rupiah amount within what a transaction can be worth; the tier
    may not overlap another (checked by the service, shown here on the form); a reason is kept in
    the audit log."""

    min_amount = _fee_amount_field(gettext_lazy("from (Rp)"))
    max_amount = _fee_amount_field(gettext_lazy("up to (Rp)"), required=False,
                                   help_text=gettext_lazy("Empty means no upper limit."))
    flat_fee = _fee_amount_field(gettext_lazy("flat fee (Rp)"), initial=0)
    percent_basis_points = forms.IntegerField(label=gettext_lazy("percentage (basis points)"), min_value=0,
                                              max_value=10_000, initial=0,
                                              help_text=gettext_lazy("100 basis points = 1%."))
    minimum_fee = _fee_amount_field(gettext_lazy("minimum fee (Rp)"), initial=0)
    maximum_fee = _fee_amount_field(gettext_lazy("maximum fee (Rp)"), required=False)
    reason = staff_reason_field()

    class Meta:
        model = FeeTier
        fields = ("min_amount", "max_amount", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")

    def clean(self):
        data = super().clean()
        if not any(self.has_error(field) for field in fees.TIER_FIELDS):
            try:
                fees.fee_tier_check(values=data, fee_tier=self.instance if self.instance.pk else None)
            except fees.FeeTierError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return data


@admin.register(FeeTier)
class FeeTierAdmin(admin.ModelAdmin):
    """The fee schedule. Edits apply to new transactions only; every edit goes through
    ``transactions.fees`` with a reason and is audited there."""

    form = FeeTierForm
    list_display = ("__str__", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")
    delete_confirmation_template = "admin/confirm_with_reason.html"

    def get_actions(self, request):
        # The bulk delete would remove tiers without the service, its reason and its audit rows.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except fees.FeeTierError as exc:
            # Refused after the form passed: a tier saved at the same moment now overlaps (the
            # database's exclusion constraint). The admin's transaction rolled back; say why.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data.get(field) for field in fees.TIER_FIELDS}
        reason = form.cleaned_data["reason"]
        if change:
            tier = fees.fee_tier_change(fee_tier=obj, actor=request.user, reason=reason, values=values)
        else:
            tier = fees.fee_tier_create(actor=request.user, reason=reason, values=values)
        obj.pk = tier.pk

    def delete_model(self, request, obj):
        raise PermissionDenied  # only through delete_view, which asks for a reason

    def delete_queryset(self, request, queryset):
        raise PermissionDenied

    def delete_view(self, request, object_id, extra_context=None):
        tier = self.get_object(request, unquote(object_id))
        if tier is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_delete_permission(request, tier):
            raise PermissionDenied
        form = StaffReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                fees.fee_tier_delete(fee_tier=tier, actor=request.user, reason=form.cleaned_data["reason"])
            except fees.FeeTierError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:transactions_feetier_change", args=[tier.pk]))
            self.message_user(request, _("The fee tier %(tier)s was deleted.") % {
                "tier": fees.fee_tier_range_label(tier.min_amount, tier.max_amount)}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:transactions_feetier_changelist"))
        return TemplateResponse(request, self.delete_confirmation_template, {
            **self.admin_site.each_context(request), "opts": self.opts, "original": tier, "form": form,
            "title": _("Delete a fee tier"),
            "summary": [(_("Transaction value"), fees.fee_tier_range_label(tier.min_amount, tier.max_amount))],
            "warning": _("Amounts in this range will have no service fee, and no transaction of such an amount can "
                         "be created, until another tier covers them. Existing transactions keep their fee."),
            "confirm_label": _("Delete"),
            "cancel_url": reverse("admin:transactions_feetier_change", args=[tier.pk]),
        })
