from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.domestic import normalize_indonesian_mobile
from accounts.forms import CanonicalEmailField
from accounts.validators import validate_free_text
from intrasa.forms import RupiahField
from intrasa.money import rupiah_on_one_line

from .models import Category, Courier, FeePayerChoice


class TransactionValueMixin:
    """Price and shipping cost of a transaction: each a Rupiah amount, and together (the
    transaction value the fee is computed on) at most ``INTRASA_MAX_TRANSACTION_AMOUNT``."""

    def clean_shipping_cost(self):
        return self.cleaned_data.get("shipping_cost") or 0

    def check_transaction_value(self, data):
        price, shipping = data.get("price"), data.get("shipping_cost")
        if price is not None and shipping and price + shipping > settings.INTRASA_MAX_TRANSACTION_AMOUNT:
            self.add_error("shipping_cost", _("Price and shipping cost together can be at most %(max)s.") % {
                "max": rupiah_on_one_line(settings.INTRASA_MAX_TRANSACTION_AMOUNT)})


def price_field(**kwargs):
    return RupiahField(min_value=settings.INTRASA_MIN_TRANSACTION_AMOUNT,
                       max_value=settings.INTRASA_MAX_TRANSACTION_AMOUNT, **kwargs)


def shipping_cost_field(**kwargs):
    return RupiahField(min_value=0, max_value=settings.INTRASA_MAX_TRANSACTION_AMOUNT, required=False, **kwargs)


class TransactionCreateForm(TransactionValueMixin, forms.Form):
    title = forms.CharField(label=_("What are you selling?"), max_length=150, validators=[validate_free_text])
    description = forms.CharField(label=_("Description and agreed terms"), widget=forms.Textarea,
                                  max_length=5000, validators=[validate_free_text])
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    price = price_field(label=_("Price"), help_text=_("Whole Rupiah, for example 1.250.000."))
    shipping_cost = shipping_cost_field(label=_("Shipping cost"),
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
    accepts_returns = forms.BooleanField(
        label=_("I accept returns of items as described"), required=False,
        help_text=_("The buyer may then return the item during the inspection period even without a defect; "
                    "the refund is the price less your restocking fee, shipping not refunded."))
    restocking_fee_percent = forms.IntegerField(
        label=_("Restocking fee (%)"), min_value=0, max_value=50, required=False, initial=0,
        help_text=_("Only for returns without a defect. 0 means none."))
    is_licence_or_voucher = forms.BooleanField(
        label=_("The digital goods are a licence key or voucher code"), required=False,
        help_text=_("Delivered or activated licences and codes cannot be refunded unless you agree."))

    def clean_title(self):
        # One line: the title is shown in lists, timelines and email bodies.
        return " ".join(self.cleaned_data["title"].split())

    def clean_buyer_phone(self):
        phone = self.cleaned_data.get("buyer_phone", "").strip()
        return normalize_indonesian_mobile(phone) if phone else ""

    def clean(self):
        data = super().clean()
        self.check_transaction_value(data)
        if not data.get("buyer_email") and not data.get("buyer_phone") and not self.errors:
            raise ValidationError(_("Give the buyer's email address or mobile number."))
        if data.get("category") and data["category"] != Category.PHYSICAL and data.get("shipping_cost"):
            self.add_error("shipping_cost", _("Only physical goods have a shipping cost."))
        if data.get("restocking_fee_percent") and not data.get("accepts_returns"):
            self.add_error("restocking_fee_percent", _("A restocking fee applies only if you accept returns."))
        if data.get("is_licence_or_voucher") and data.get("category") != Category.DIGITAL:
            self.add_error("is_licence_or_voucher", _("Only digital goods can be a licence key or voucher code."))
        data["restocking_fee_basis_points"] = (data.pop("restocking_fee_percent", 0) or 0) * 100
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


class FeeQuoteForm(TransactionValueMixin, forms.Form):
    price = price_field()
    shipping_cost = shipping_cost_field()
    fee_payer = forms.ChoiceField(choices=FeePayerChoice.choices)

    def clean(self):
        data = super().clean()
        self.check_transaction_value(data)
        return data
