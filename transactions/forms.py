from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.domestic import normalize_indonesian_mobile
from accounts.forms import CanonicalEmailField
from accounts.validators import validate_free_text
from intrasa.money import parse_rupiah

from .models import Category, Courier, FeePayerChoice


class RupiahField(forms.CharField):
    """A whole-Rupiah amount typed as ``150000``, ``150.000`` or ``Rp 150.000``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_rupiah(value)


class TransactionCreateForm(forms.Form):
    title = forms.CharField(label=_("What are you selling?"), max_length=150, validators=[validate_free_text])
    description = forms.CharField(label=_("Description and agreed terms"), widget=forms.Textarea,
                                  max_length=5000, validators=[validate_free_text])
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    price = RupiahField(label=_("Price"), help_text=_("Whole Rupiah, for example 1.250.000."))
    shipping_cost = RupiahField(label=_("Shipping cost"), required=False,
                                help_text=_("Leave empty for services and digital goods."))
    fee_payer = forms.ChoiceField(label=_("Service fee paid by"), choices=FeePayerChoice.choices,
                                  initial=FeePayerChoice.BUYER)
    inspection_days = forms.IntegerField(
        label=_("Inspection period (working days)"), min_value=1,
        max_value=settings.INTRASA_INSPECTION_DAYS_MAX, initial=settings.INTRASA_INSPECTION_DAYS_DEFAULT,
        help_text=_("After shipping, the buyer has this long to confirm or raise a problem."),
    )
    shipping_days = forms.IntegerField(
        label=_("Ship within (working days after payment)"), min_value=1, max_value=30, initial=2,
    )
    buyer_email = CanonicalEmailField(label=_("Buyer's email"), required=False)
    buyer_phone = forms.CharField(label=_("Buyer's mobile number"), required=False,
                                  help_text=_("Indonesian number, for example 0812 3456 7890."))

    def clean_title(self):
        # One line: the title is shown in lists, timelines and email bodies.
        return " ".join(self.cleaned_data["title"].split())

    def clean_buyer_phone(self):
        phone = self.cleaned_data.get("buyer_phone", "").strip()
        return normalize_indonesian_mobile(phone) if phone else ""

    def clean_shipping_cost(self):
        return self.cleaned_data.get("shipping_cost") or 0

    def clean(self):
        data = super().clean()
        if not data.get("buyer_email") and not data.get("buyer_phone") and not self.errors:
            raise ValidationError(_("Give the buyer's email address or mobile number."))
        if data.get("category") and data["category"] != Category.PHYSICAL and data.get("shipping_cost"):
            self.add_error("shipping_cost", _("Only physical goods have a shipping cost."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             validators=[validate_free_text])


class ShipForm(forms.Form):
    courier = forms.ChoiceField(label=_("Courier"), choices=[("", "—")] + list(Courier.choices), required=False)
    tracking_number = forms.CharField(label=_("Receipt (resi) number"), max_length=50, required=False,
                                      validators=[validate_free_text])
    delivery_note = forms.CharField(label=_("Delivery note"), required=False, max_length=2000,
                                    validators=[validate_free_text],
                                    widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text=_("For services and digital goods: how and when it was delivered."))


class FeeQuoteForm(forms.Form):
    price = RupiahField()
    shipping_cost = RupiahField(required=False)
    fee_payer = forms.ChoiceField(choices=FeePayerChoice.choices)
