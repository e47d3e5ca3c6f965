"""Staff edits of the fee schedule. Edits apply to new transactions only; every edit is audited.
The transaction's own staff page is ``escrow.admin.transactions`` (it shows bills, payouts and
documents, which live in apps above this one)."""
from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from intrasa.forms import RupiahField

from .models import FeeTier


def _fee_amount_field(label, **kwargs):
    return RupiahField(label=label, min_value=0, max_value=settings.INTRASA_MAX_TRANSACTION_AMOUNT, **kwargs)


class FeeTierForm(forms.ModelForm):
    """Every amount of a tier is a Rupiah amount within what a transaction can be worth."""

    min_amount = _fee_amount_field(gettext_lazy("from (Rp)"))
    max_amount = _fee_amount_field(gettext_lazy("up to (Rp)"), required=False,
                                   help_text=gettext_lazy("Empty means no upper limit."))
    flat_fee = _fee_amount_field(gettext_lazy("flat fee (Rp)"), initial=0)
    percent_basis_points = forms.IntegerField(label=gettext_lazy("percentage (basis points)"), min_value=0,
                                              max_value=10_000, initial=0,
                                              help_text=gettext_lazy("100 basis points = 1%."))
    minimum_fee = _fee_amount_field(gettext_lazy("minimum fee (Rp)"), initial=0)
    maximum_fee = _fee_amount_field(gettext_lazy("maximum fee (Rp)"), required=False)

    class Meta:
        model = FeeTier
        fields = ("min_amount", "max_amount", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")


@admin.register(FeeTier)
class FeeTierAdmin(admin.ModelAdmin):
    """The fee schedule. Edits apply to new transactions only; every edit is audited."""

    form = FeeTierForm
    list_display = ("__str__", "flat_fee", "percent_basis_points", "minimum_fee", "maximum_fee")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="fee_tier.change" if change else "fee_tier.add", target=obj,
                     data={field: form.cleaned_data.get(field) for field in form.changed_data})

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="fee_tier.delete", target=obj)
        super().delete_model(request, obj)
