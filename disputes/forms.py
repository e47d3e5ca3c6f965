from django import forms
from django.utils.translation import gettext_lazy as _

from intrasa.forms import RupiahField
from refunds.policy import DisputeReason, ReturnShippingPayer

from .models import Evidence, SettlementOffer


class DisputeOpenForm(forms.Form):
    # Starts unselected: a preselected reason would be filed by a buyer who did not read the list.
    reason = forms.ChoiceField(label=_("What went wrong?"),
                               choices=[("", _("Choose what went wrong…")), *DisputeReason.choices])
    description = forms.CharField(label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=4000)
    evidence = forms.FileField(label=_("First evidence (optional)"), required=False,
                               help_text=_("Photo up to 5 MB, video (MP4/MOV) up to 25 MB, PDF up to 10 MB."))
    evidence_purpose = forms.ChoiceField(label=_("The file shows"), choices=Evidence.Purpose.choices,
                                         initial=Evidence.Purpose.PHOTO, required=False)
    # Only for a short shipment (refunds.policy): what was missing and its value.
    missing_items = forms.CharField(label=_("Short shipment: what was missing"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))
    missing_value = RupiahField(label=_("Short shipment: value of the missing part"), required=False)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           max_length=4000)
    evidence = forms.FileField(label=_("Attach evidence (optional)"), required=False,
                               help_text=_("Photo up to 5 MB, video (MP4/MOV) up to 25 MB, PDF up to 10 MB."))
    evidence_purpose = forms.ChoiceField(label=_("The file shows"), choices=Evidence.Purpose.choices,
                                         initial=Evidence.Purpose.PHOTO, required=False)


class OfferForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Proposal"), choices=SettlementOffer.Outcome.choices)
    buyer_amount = RupiahField(label=_("Amount to the buyer (for a split)"), required=False)
    return_shipping_payer = forms.ChoiceField(label=_("Return shipping"), choices=ReturnShippingPayer.choices)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False,
                           max_length=2000)


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Why not? (optional)"), widget=forms.Textarea(attrs={"rows": 2}),
                           required=False, max_length=2000)
