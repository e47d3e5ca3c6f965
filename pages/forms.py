from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from transactions.forms import TransactionValueMixin, price_field, shipping_cost_field
from transactions.models import FeePayerChoice


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference number"), max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "INT-XXXX-XXXX-XXXX", "autocomplete": "off",
                                      "autocapitalize": "characters", "spellcheck": "false"}),
        help_text=_("The reference number of the transaction, for example INT-7K2M-9QXD-4RHT. Lower "
                    "case and missing dashes are fine."),
    )


def valid_reference_text(query) -> str | None:
    """What a bound ``ReferenceForm`` would clean from ``query``, or None when it would refuse it:
    the form's own field (``base_fields``, never changed) judges, without building the form. Building
    it deep-copies its fields, a tenth of Cek Transaksi's time once the answer is cached; the page
    builds the form only when it is rendered (``pages.views.check_transaction``)."""
    try:
        return ReferenceForm.base_fields["reference"].clean(query.get("reference"))
    except ValidationError:
        return None


class PaymentCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Virtual account number, payment code or reference number"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )


class FeeCalculatorForm(TransactionValueMixin, forms.Form):
    price = price_field(label=_("Price of the goods or service"), help_text=_("Whole Rupiah, for example 1.250.000."))
    shipping_cost = shipping_cost_field(label=_("Shipping cost"))
    fee_payer = forms.ChoiceField(label=_("Service fee paid by"), choices=FeePayerChoice.choices,
                                  initial=FeePayerChoice.BUYER)

    def clean(self):
        data = super().clean()
        self.check_transaction_value(data)
        return data
