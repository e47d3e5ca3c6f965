from django import forms
from django.utils.translation import gettext_lazy as _

from transactions.forms import TransactionCreateForm
from transactions.models import Category


class PaymentLinkForm(TransactionCreateForm):
    """The create form's terms, without a buyer (each buyer who opens the link is one), and the
    most transactions the link may start."""

    buyer_email = None  # type: ignore[assignment]
    buyer_phone = None  # type: ignore[assignment]
    max_transactions = forms.IntegerField(
        label=_("Most transactions this link may start"), min_value=1, max_value=100_000, required=False,
        help_text=_("For example 1 for a single item. Empty means no limit. Cancelled and expired transactions "
                    "do not count."))

    field_order = ["title", "description", "category", "price", "shipping_cost", "fee_payer", "max_transactions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_cost"].label = _("Shipping cost (ongkir), flat")
        self.fields["shipping_cost"].help_text = _(
            "One amount for every buyer: what each buyer pays is fixed when they start. Leave empty if the price "
            "includes shipping, and for services and digital goods.")

    def clean(self):
        data = forms.Form.clean(self)
        self.check_transaction_value(data)
        if data.get("category") and data["category"] != Category.PHYSICAL and data.get("shipping_cost"):
            self.add_error("shipping_cost", _("Only physical goods have a shipping cost."))
        if data.get("restocking_fee_percent") and not data.get("accepts_returns"):
            self.add_error("restocking_fee_percent", _("A restocking fee applies only if you accept returns."))
        if data.get("is_licence_or_voucher") and data.get("category") != Category.DIGITAL:
            self.add_error("is_licence_or_voucher", _("Only digital goods can be a licence key or voucher code."))
        data["restocking_fee_basis_points"] = (data.pop("restocking_fee_percent", 0) or 0) * 100
        return data


class LimitForm(forms.Form):
    max_transactions = forms.IntegerField(label=_("Most transactions this link may start"), min_value=1,
                                          max_value=100_000, required=False,
                                          help_text=_("Empty means no limit."))
