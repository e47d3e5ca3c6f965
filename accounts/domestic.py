"""What "domestic only" means (FAQ: INTRASA serves domestic transactions only).

The bank list uses Bank Indonesia's three-digit clearing codes, which SendMe's
``beneficiaryBankCode`` takes; the e-wallet list uses SendMe's platform codes (REFERENCE.md §1.1).
Phone numbers must be Indonesian mobile numbers and are stored as E.164 (``+628…``).
"""
import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .validators import validate_account_number_digits, validate_phone_characters

# BI code → bank name. Domestic banks reachable through SendMe's interbank transfer.
DOMESTIC_BANKS: dict[str, str] = {
    "002": "Bank Rakyat Indonesia (BRI)",
    "008": "Bank Mandiri",
    "009": "Bank Negara Indonesia (BNI)",
    "011": "Bank Danamon",
    "013": "Bank Permata",
    "014": "Bank Central Asia (BCA)",
    "016": "Maybank Indonesia",
    "019": "Bank Panin",
    "022": "CIMB Niaga",
    "023": "Bank UOB Indonesia",
    "028": "Bank OCBC NISP",
    "147": "Bank Muamalat",
    "153": "Bank Sinarmas",
    "200": "Bank Tabungan Negara (BTN)",
    "213": "Bank SMBC Indonesia (Jenius)",
    "426": "Bank Mega",
    "441": "Bank KB Bukopin",
    "451": "Bank Syariah Indonesia (BSI)",
    "490": "Bank Neo Commerce",
    "501": "Bank Digital BCA (blu)",
    "535": "SeaBank Indonesia",
    "542": "Bank Jago",
}

# SendMe platform code → e-wallet name (the operational terms name these four).
EWALLET_PROVIDERS: dict[str, str] = {
    "ovo": "OVO",
    "gpy": "GoPay",
    "dna": "DANA",
    "lkj": "LinkAja",
}


def bank_choices() -> list[tuple[str, str]]:
    return sorted(DOMESTIC_BANKS.items(), key=lambda item: item[1])


def normalize_indonesian_mobile(raw: str) -> str:
    """Accept ``0812…``, ``62812…`` or ``+62 812-…``; return ``+62812…``; refuse anything else."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a mobile phone number."), code="required")
    validate_phone_characters(text)
    if text.startswith("62"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter an Indonesian mobile number, for example 0812 3456 7890."), code="invalid_phone"
        ) from None
    if number.country_code != 62:
        raise ValidationError(
            _("Only Indonesian (+62) phone numbers are accepted; INTRASA serves domestic "
              "transactions only."),
            code="foreign_phone",
        )
    mobile_types = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in mobile_types:
        raise ValidationError(
            _("Enter an Indonesian mobile number, for example 0812 3456 7890."), code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_bank_code(code: str) -> None:
    if code not in DOMESTIC_BANKS:
        raise ValidationError(
            _("Choose a domestic Indonesian bank; foreign banks are not supported."), code="foreign_bank"
        )


def validate_account_number(number: str) -> None:
    """Indonesian account numbers are ASCII digits only, 6 to 20 long (IBAN/SWIFT are foreign)."""
    validate_account_number_digits(number)


def mask_account_number(number: str) -> str:
    """``1234567890`` → ``******7890``: enough for a person to recognise, not to reuse."""
    return "*" * max(len(number) - 4, 0) + number[-4:]
