from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.validators import NON_ASCII_DIGITS_MESSAGE, clean_identity_name, has_non_ascii_digits
from intrasa.forms import IsoDateInput, RupiahField
from intrasa.wib import now_wib

from .exports import EXPORTS
from .models import WithdrawalInstruction


class WithdrawalForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Withdraw to"), choices=WithdrawalInstruction.Kind.choices)
    amount = RupiahField(label=gettext_lazy("Amount"), help_text=gettext_lazy(
        "Domestic: at most Rp 50.000.000 per instruction. Overseas: at least Rp 500.000."))
    bank_name = forms.CharField(label=gettext_lazy("Bank"), max_length=100)
    account_number = forms.CharField(label=gettext_lazy("Account number"), max_length=40)
    account_holder = forms.CharField(label=gettext_lazy("Account holder"), max_length=100)
    swift_code = forms.CharField(label=gettext_lazy("SWIFT/BIC (overseas)"), max_length=11, required=False)
    country = forms.CharField(label=gettext_lazy("Country (overseas)"), max_length=60, required=False)
    currency = forms.CharField(label=gettext_lazy("Currency received (overseas)"), max_length=3, required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), min_length=5, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .services import overseas_offered

        if not overseas_offered():  # terms B apply only to an overseas entity (settings declare it)
            self.fields["kind"].choices = [(WithdrawalInstruction.Kind.DOMESTIC,
                                            WithdrawalInstruction.Kind.DOMESTIC.label)]

    @classmethod
    def initial_for_own_account(cls) -> dict:
        """INTRASA's own bank account is the usual destination (terms A)."""
        return {"kind": WithdrawalInstruction.Kind.DOMESTIC, "bank_name": settings.INTRASA_ESCROW_BANK_NAME,
                "account_number": settings.INTRASA_ESCROW_BANK_ACCOUNT,
                "account_holder": settings.INTRASA_ESCROW_BANK_HOLDER}

    def clean_bank_name(self):
        return clean_identity_name(self.cleaned_data["bank_name"])

    def clean_account_holder(self):
        # The name goes into an instruction to Faspay: no invisible or direction-changing characters.
        return clean_identity_name(self.cleaned_data["account_holder"])

    def clean(self):
        data = super().clean()
        if data.get("kind") == WithdrawalInstruction.Kind.OVERSEAS and not (data.get("swift_code") or "").strip():
            self.add_error("swift_code", _("An overseas withdrawal needs the bank's SWIFT/BIC code."))
        number = (data.get("account_number") or "").replace(" ", "").replace("-", "")
        if number:
            # Domestic: digits 0-9 only. Overseas: an IBAN or account number, ASCII letters and digits.
            allowed = "0123456789" if data.get("kind") == WithdrawalInstruction.Kind.DOMESTIC else (
                "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            if has_non_ascii_digits(number):
                self.add_error("account_number", NON_ASCII_DIGITS_MESSAGE)
            elif any(ch not in allowed for ch in number.upper()):
                self.add_error("account_number", _("Enter the account number with the digits 0–9 only "
                                                   "(an overseas IBAN may also have the letters A–Z)."))
            else:
                data["account_number"] = number
        return data


class DecideWithdrawalForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=[
        ("given", gettext_lazy("I gave this instruction to Faspay")),
        ("cancel", gettext_lazy("Cancel this instruction")),
    ], widget=forms.RadioSelect)
    exchange_rate = forms.CharField(label=gettext_lazy("Exchange rate noted (overseas)"), max_length=40,
                                    required=False)
    reason = forms.CharField(label=gettext_lazy("Reason / note"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "cancel" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Please give a reason."))
        return data


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=gettext_lazy("How was it settled?"), min_length=5, max_length=4000,
                                 widget=forms.Textarea(attrs={"rows": 4}))


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Export"), choices=[(k, e.label) for k, e in EXPORTS.items()])
    start = forms.DateField(label=gettext_lazy("From (WIB day)"), widget=IsoDateInput())
    end = forms.DateField(label=gettext_lazy("To (WIB day, inclusive)"), widget=IsoDateInput())

    MAX_DAYS = 366

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end is before the start."))
            if (end - start).days > self.MAX_DAYS:
                raise forms.ValidationError(_("Export at most one year at a time."))
        return data

    @staticmethod
    def default_range() -> dict:
        today = now_wib().date()
        return {"start": today.replace(day=1), "end": today}


class FaspayInvoiceForm(forms.Form):
    """Faspay's invoice as finance received it (terms C): reconciled against INTRASA's own count."""

    invoice_number = forms.CharField(label=gettext_lazy("Invoice number"), max_length=60)
    month = forms.DateField(label=gettext_lazy("Month invoiced (any day of it)"),
                            widget=IsoDateInput())
    transactions = forms.IntegerField(label=gettext_lazy("Transactions invoiced"), min_value=0)
    penalty = RupiahField(label=gettext_lazy("Penalty invoiced"), min_value=0, required=False)
    penalty_period_start = forms.DateField(label=gettext_lazy("Penalty period from (first month)"), required=False,
                                           widget=IsoDateInput())
    penalty_period_end = forms.DateField(label=gettext_lazy("Penalty period to (last month)"), required=False,
                                         widget=IsoDateInput())
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        start, end = data.get("penalty_period_start"), data.get("penalty_period_end")
        if bool(start) != bool(end):
            raise forms.ValidationError(_("Give both ends of the penalty period, or neither."))
        if start and end and end < start:
            raise forms.ValidationError(_("The end is before the start."))
        data["penalty"] = data.get("penalty") or 0
        return data
