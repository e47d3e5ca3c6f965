"""Forms of the "My data" page, the erasure page and the staff reason page. They check what was
typed; the services in ``privacy.services`` do the work."""
from django import forms
from django.utils.translation import gettext_lazy as _

PASSWORD_HELP = _("Your current password, to make sure it is you.")


class _PasswordCheck(forms.Form):
    password = forms.CharField(label=_("Password"), help_text=PASSWORD_HELP, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."), code="wrong_password")
        return password


class EmailChangeForm(_PasswordCheck):
    new_email = forms.EmailField(label=_("New email address"), max_length=254,
                                 widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    field_order = ["new_email", "password"]


class ConsentForm(forms.Form):
    """One switch per purpose, off unless the person turns it on."""

    def __init__(self, *args, states, **kwargs):
        super().__init__(*args, **kwargs)
        for state in states:
            self.fields[state.purpose.key] = forms.BooleanField(
                label=state.purpose.label, help_text=state.purpose.wording, required=False,
                initial=state.granted)


class ErasureForm(_PasswordCheck):
    confirm = forms.BooleanField(
        label=_("I understand that my account is erased for good and cannot be restored."), required=True)


class StaffAccessReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to open this file?"), min_length=10, max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the staff access log with your name and the time; the data protection officer "
                    "reads it. For example: “checking the buyer's photo of the damage for dispute INT-…”."))
