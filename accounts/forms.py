"""Forms for people and their payout destinations.

Forms check and tidy what a person typed, so the errors appear next to the right field; they
change nothing. The views pass ``cleaned_data`` to ``accounts.services``, which validates again
(other callers exist) and does the work. Field names match the service arguments, so an error the
service raises for ``phone`` lands on the form's ``phone`` field.
"""
import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .domestic import (
    EWALLET_PROVIDERS,
    bank_choices,
    normalize_indonesian_mobile,
    validate_account_number,
    validate_bank_code,
)
from .models import User
from .services import normalize_account_number, user_set_password
from .validators import canonical_email, clean_identity_name

PHONE_HELP = _("An Indonesian mobile number, for example 0812 3456 7890.")


def _clean_name(value: str) -> str:
    return clean_identity_name(value)


def _language_choices() -> list[tuple[str, str]]:
    # Each language in its own name: someone who cannot read the current one still finds theirs.
    return [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]


def phone_for_display(e164: str) -> str:
    """``+6281234567890`` → ``0812-3456-7890``, the way Indonesians write their own number."""
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _phone_field(label, help_text=PHONE_HELP) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=20, help_text=help_text,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )


def add_service_errors(form: forms.Form, error: ValidationError, *, field_map: dict | None = None) -> None:
    """Show a service's ``ValidationError`` on ``form``: next to the field whose name matches the
    service argument (or ``field_map``'s translation of it), otherwise above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        name = (field_map or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)


class CanonicalEmailField(forms.EmailField):
    """An email field that validates and returns the canonical form (NFKC, lower case) of what
    was typed: the form login compares, so a full-width or long-s spelling of an address is that
    address here too, not an invalid or a different one."""

    def to_python(self, value):
        return canonical_email(super().to_python(value))


class EmailAuthenticationForm(auth_forms.AuthenticationForm):
    """Django's login form, asking for an email address (the user model's login field)."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        # Django's default says both fields "may be case-sensitive"; email addresses are not here.
        "invalid_login": _("The email address or password is not correct. Please try again."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email address")
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "maxlength": 254}
        )


class SignUpForm(auth_forms.SetPasswordMixin, forms.Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150,
        help_text=_("As on your identity card; sellers are paid only to accounts in a matching name."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = CanonicalEmailField(
        label=_("Email address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = _phone_field(_("Mobile number"))
    password1, password2 = auth_forms.SetPasswordMixin.create_password_fields(
        label1=_("Password"), label2=_("Password confirmation")
    )

    def clean_full_name(self) -> str:
        return _clean_name(self.cleaned_data["full_name"])

    def clean_email(self) -> str:
        email = canonical_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _("An account with this email address already exists. Log in, or reset your "
                  "password if you forgot it."),
                code="duplicate_email",
            )
        return email

    def clean_phone(self) -> str:
        return normalize_indonesian_mobile(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        # The similarity validator compares the password with the name and email being entered.
        candidate = User(email=cleaned.get("email") or "", full_name=cleaned.get("full_name") or "")
        self.validate_password_for_user(candidate)
        return cleaned


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = _phone_field(_("Mobile number"))
    preferred_language = forms.ChoiceField(label=_("Language"), choices=_language_choices)

    def clean_full_name(self) -> str:
        return _clean_name(self.cleaned_data["full_name"])

    def clean_phone(self) -> str:
        return normalize_indonesian_mobile(self.cleaned_data["phone"])


class BankDestinationForm(forms.Form):
    # A plain field with a select widget, so an unknown code gets the domestic-only message from
    # validate_bank_code rather than ChoiceField's generic "not one of the available choices".
    bank_code = forms.CharField(
        label=_("Bank"), validators=[validate_bank_code],
        widget=forms.Select(choices=[("", _("Choose a bank"))] + bank_choices()),
    )
    account_number = forms.CharField(
        label=_("Account number"), max_length=40,
        help_text=_("Digits only, as printed in your bank book. Foreign accounts (IBAN) are not supported."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_holder_name = forms.CharField(
        label=_("Account holder name"), max_length=100,
        help_text=_("Exactly as the bank has it; we check it with the bank before the first payout."),
    )

    def clean_account_number(self) -> str:
        number = normalize_account_number(self.cleaned_data["account_number"])
        validate_account_number(number)
        return number

    def clean_account_holder_name(self) -> str:
        return _clean_name(self.cleaned_data["account_holder_name"])


class EWalletDestinationForm(forms.Form):
    provider = forms.ChoiceField(
        label=_("E-wallet"), choices=[("", _("Choose an e-wallet"))] + list(EWALLET_PROVIDERS.items()),
        error_messages={"invalid_choice": _("Choose one of the supported e-wallets.")},
    )
    phone = _phone_field(_("Registered phone number"),
                         help_text=_("The Indonesian mobile number the e-wallet account is registered to."))
    registered_name = forms.CharField(
        label=_("Registered name"), max_length=100,
        help_text=_("The name shown in the e-wallet app."),
    )

    def clean_phone(self) -> str:
        return normalize_indonesian_mobile(self.cleaned_data["phone"])

    def clean_registered_name(self) -> str:
        return _clean_name(self.cleaned_data["registered_name"])


class ResetPasswordForm(auth_forms.PasswordResetForm):
    """Sends the reset email in the language the person chose, not the one the page was in."""

    email = CanonicalEmailField(
        label=_("Email address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_users(self, email):
        """The accounts the typed address leads to, found in the canonical form login uses: a
        look-alike spelling reaches the same account (and its rate-limit counter), and the email
        goes to the address stored on the account, never to the typed text."""
        return super().get_users(canonical_email(email))

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with translation.override(context["user"].preferred_language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class NewPasswordForm(auth_forms.SetPasswordForm):
    """The reset link's form; saving goes through the audited service."""

    def save(self, commit=True):
        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"], via="reset")


class ChangePasswordForm(auth_forms.PasswordChangeForm):
    def save(self, commit=True):
        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"], via="change")


class SecondFactorForm(forms.Form):
    """The admin's second step: a code from the authenticator app, or a one-time backup code."""

    code = forms.CharField(
        label=_("Code"), max_length=32,
        help_text=_("The 6 digits your authenticator app shows for INTRASA, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "autocapitalize": "off", "spellcheck": "false"}),
    )


class AuthenticatorConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"), max_length=12,
        help_text=_("After scanning, type the 6 digits the app shows for INTRASA."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True}),
    )
