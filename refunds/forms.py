from django import forms
from django.utils.translation import gettext_lazy as _

from intrasa.forms import RupiahField
from transactions.models import Courier

from .policy import BUYER_REQUESTABLE_CASES, STAFF_DOCUMENTS, Document, RefundCase


class RefundRequestForm(forms.Form):
    case = forms.ChoiceField(label=_("What happened?"),
                             choices=[(c.value, c.label) for c in map(RefundCase, BUYER_REQUESTABLE_CASES)])
    amount = RupiahField(label=_("Amount charged"))
    description = forms.CharField(label=_("Chronology"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"),
                             choices=[(d.value, d.label) for d in Document if d not in STAFF_DOCUMENTS])
    value = forms.CharField(label=_("Number (order or RMA number)"), required=False, max_length=255)
    file = forms.FileField(label=_("File"), required=False,
                           help_text=_("Photo up to 5 MB or PDF up to 10 MB."))

    def __init__(self, *args, request_kinds=None, **kwargs):
        """``request_kinds``: the documents this request still needs from the buyer, when the form
        is shown for one request (the buyer is offered nothing else)."""
        super().__init__(*args, **kwargs)
        if request_kinds is not None:
            self.fields["kind"].choices = [(kind, Document(kind).label) for kind in request_kinds]


class DestinationForm(forms.Form):
    destination = forms.ModelChoiceField(label=_("Refund to"), queryset=None)

    def __init__(self, *args, buyer, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import refund_accounts_usable

        self.fields["destination"].queryset = refund_accounts_usable(buyer=buyer)


class ReturnAddressForm(forms.Form):
    address = forms.CharField(label=_("Return address (street, city, postal code, phone number)"), max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class ReturnShipForm(forms.Form):
    courier = forms.ChoiceField(label=_("Courier"), choices=Courier.choices)
    receipt_number = forms.CharField(label=_("Return receipt number"), max_length=60)


class BuyerAddressForm(forms.Form):
    """Where the goods go back to after an upheld rejection (``policy``: RESEND_*)."""

    address = forms.CharField(label=_("Your address for the goods (street, city, postal code, phone number)"),
                              max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class ResendForm(forms.Form):
    courier = forms.ChoiceField(label=_("Courier"), choices=Courier.choices)
    receipt_number = forms.CharField(label=_("Receipt number of the parcel to the buyer"), max_length=60)


class InspectionForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), widget=forms.RadioSelect,
                               choices=[("accepted", _("Accepted: the goods came back as expected")),
                                        ("rejected", _("Rejected: INTRASA staff decide"))])
    note = forms.CharField(label=_("What you found"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
