"""Staff changes of the fee schedule. The admin only collects what staff type, with a reason, and
calls ``transactions.fees`` (``fee_tier_create`` / ``fee_tier_change`` / ``fee_tier_delete``),
which checks the tier, saves it and writes the audit row in one database transaction. Edits apply
to new transactions only.

The transaction's own staff page is ``escrow.admin.transactions`` (it shows bills, payouts and
documents, which live in apps above this one)."""
from django import forms
from django.conf import settings
from django.contrib import admin
from django.forms.models import construct_instance
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intrasa.admin import ServiceChangesAdmin
from intrasa.forms import RupiahField, staff_reason_field

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

    def _post_clean(self):
        # Only copy the values onto the instance: ``fee_tier_check`` (in ``clean``, and again in the
        # service under lock) is the tier's validation, with messages in words; the model's own
        # check constraints would only repeat them as "Constraint … is violated".
        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)

    def clean(self):
        data = super().clean()
        if not any(self.has_error(field) for field in fees.TIER_FIELDS):
            try:
                fees.fee_tier_check(values=data, fee_tier=self.instance if self.instance.pk else None)
            except fees.FeeTierError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return data


@admin.register(FeeTier)
class FeeTierAdmin(ServiceChangesAdmin):
    """The fee schedule. Edits apply to new transactions only; every edit goes through
    ``transactions.fees`` with a reason and is audited there."""

    form = FeeTierForm
    list_display = ("__str__", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")
    delete_warning = gettext_lazy("Amounts in this range will have no service fee, and no transaction of such an "
                                  "amount can be created, until another tier covers them. Existing transactions "
                                  "keep their fee.")

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data.get(field) for field in fees.TIER_FIELDS}
        reason = form.cleaned_data["reason"]
        if change:
            tier = fees.fee_tier_change(fee_tier=obj, actor=request.user, reason=reason, values=values)
        else:
            tier = fees.fee_tier_create(actor=request.user, reason=reason, values=values)
        obj.pk = tier.pk

    def delete_summary(self, obj):
        return [(_("Transaction value"), fees.fee_tier_range_label(obj.min_amount, obj.max_amount))]

    def delete_through_service(self, request, obj, reason):
        fees.fee_tier_delete(fee_tier=obj, actor=request.user, reason=reason)
