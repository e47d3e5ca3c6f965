from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.forms import CanonicalEmailField
from accounts.validators import validate_free_text
from intrasa.forms import RupiahField
from transactions.models import FeePayerChoice

from .models import MilestonePlan
from .services import MAX_MILESTONES, MIN_MILESTONES


class PlanForm(forms.Form):
    title = forms.CharField(label=_("What service?"), max_length=150, validators=[validate_free_text])
    description = forms.CharField(label=_("Description and agreed terms"), widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=5000, validators=[validate_free_text])
    buyer_email = CanonicalEmailField(label=_("Buyer's email"))
    payment_schedule = forms.ChoiceField(label=_("The buyer pays"), choices=MilestonePlan.Schedule.choices,
                                         widget=forms.RadioSelect, initial=MilestonePlan.Schedule.UPFRONT)
    fee_payer = forms.ChoiceField(label=_("Service fee paid by"), choices=FeePayerChoice.choices,
                                  initial=FeePayerChoice.BUYER)
    inspection_days = forms.IntegerField(
        label=_("Inspection period per milestone (working days)"), min_value=1,
        max_value=settings.INTRASA_INSPECTION_DAYS_MAX, initial=settings.INTRASA_INSPECTION_DAYS_DEFAULT)


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=120, validators=[validate_free_text])
    amount = RupiahField(label=_("Amount"), min_value=settings.INTRASA_MIN_TRANSACTION_AMOUNT,
                         max_value=settings.INTRASA_MAX_TRANSACTION_AMOUNT)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))


MilestoneFormSet = forms.formset_factory(MilestoneForm, extra=0, min_num=MIN_MILESTONES, max_num=MAX_MILESTONES,
                                         validate_min=True, validate_max=True)
