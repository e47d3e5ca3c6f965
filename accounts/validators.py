"""What INTRASA accepts as an email address, a name, an account number or a phone number.

Every form, service and admin form that takes one of these calls the functions here, so a rule
is written once and holds for every way in (site, admin, management commands, later tasks).

* **Email addresses** have one canonical form, ``canonical_email``: Unicode NFKC, surrounding
  spaces removed, lower case. NFKC is what Django's login form applies to the typed address
  (``UsernameField``), so the canonical form is what authentication actually compares: the
  full-width ``ｋ``, the long ``ſ`` and upper-case spellings of an address all become the one
  address stored on the account. Accounts are stored, looked up, rate-limited and matched against
  invitations in this form, so look-alike spellings cannot get a counter or an account of their own.
* **Names** (a person's full name, an account holder's name, anything shown to the other party,
  to staff or in a payout instruction) refuse control characters and Unicode *format* characters
  (category Cf: bidi overrides and isolates, zero-width spaces and joiners, the BOM, soft
  hyphens…). They are invisible, and a right-to-left override makes "Budi‮ adnaS" read as another
  name. Whitespace runs are collapsed to single spaces.
* **Free text** (titles, descriptions, reasons) keeps line breaks but refuses the same invisible
  characters, except the zero-width joiner that emoji sequences need.
* **Digits** of account numbers and phone numbers are the ASCII digits 0–9 only. ``str.isdigit()``
  is also true for full-width (``１``), Arabic-Indic (``١``), superscript (``¹``) and circled
  (``①``) digits; such a number would escape the duplicate check and could never be verified
  with the bank.
"""
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ASCII_DIGITS = frozenset("0123456789")
# The zero-width joiner glues emoji sequences (👨‍👩‍👧); harmless in free text, never in a name.
ZERO_WIDTH_JOINER = "\u200d"
FREE_TEXT_WHITESPACE = frozenset("\n\r\t")


# --- email addresses ------------------------------------------------------------------------

def canonical_email(raw: str) -> str:
    """The one form of an email address that INTRASA stores and compares (see the module doc)."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def mask_email(email: str) -> str:
    """``budi.santoso@example.co.id`` → ``bu**********@e******.co.id``: enough for the owner to
    recognise their address, not enough for anyone else to learn it."""
    local, _at, domain = (email or "").partition("@")
    host, dot, suffix = domain.partition(".")
    masked_local = local[:2] + "*" * max(len(local) - 2, 1)
    masked_host = host[:1] + "*" * max(len(host) - 1, 1)
    return f"{masked_local}@{masked_host}{dot}{suffix}"


# --- names and free text --------------------------------------------------------------------

def _invisible_characters(text: str, *, allowed: frozenset = frozenset()) -> list[str]:
    return [ch for ch in text if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")]


def _describe(characters: list[str]) -> str:
    seen = []
    for ch in characters:
        code = f"U+{ord(ch):04X}"
        if code not in seen:
            seen.append(code)
    return ", ".join(seen[:5])


def clean_identity_name(value: str) -> str:
    """A name with its whitespace collapsed; raises ``ValidationError`` for invisible characters.

    The check runs before whitespace is collapsed, so a control character such as a vertical tab
    is refused rather than silently turned into a space."""
    text = value or ""
    hidden = _invisible_characters(text, allowed=FREE_TEXT_WHITESPACE)
    if hidden:
        raise ValidationError(
            _("Names may contain only visible letters, digits, spaces and punctuation; remove the "
              "invisible or direction-changing characters (%(characters)s).")
            % {"characters": _describe(hidden)},
            code="invisible_characters",
        )
    return " ".join(text.split())


def validate_identity_name(value: str) -> None:
    clean_identity_name(value)


def validate_free_text(value: str) -> None:
    """Titles, descriptions and reasons: line breaks are fine, invisible characters are not."""
    hidden = _invisible_characters(value or "", allowed=FREE_TEXT_WHITESPACE | {ZERO_WIDTH_JOINER})
    if hidden:
        raise ValidationError(
            _("The text contains invisible or direction-changing characters (%(characters)s); "
              "remove them and try again.") % {"characters": _describe(hidden)},
            code="invisible_characters",
        )


# --- digits ---------------------------------------------------------------------------------

def has_non_ascii_digits(text: str) -> bool:
    """True if ``text`` contains a character that looks like a digit but is not 0–9."""
    return any(ch not in ASCII_DIGITS and (ch.isdigit() or ch.isnumeric()) for ch in text or "")


NON_ASCII_DIGITS_MESSAGE = _("Type the number with the digits 0–9 only (not full-width, Arabic-Indic, "
                             "superscript or circled digits).")

_ACCOUNT_NUMBER = re.compile(r"[0-9]{6,20}", re.ASCII)


def validate_account_number_digits(number: str) -> None:
    """A domestic account number: 6 to 20 ASCII digits, nothing else."""
    if has_non_ascii_digits(number):
        raise ValidationError(NON_ASCII_DIGITS_MESSAGE, code="non_ascii_digits")
    if not _ACCOUNT_NUMBER.fullmatch(number or ""):
        raise ValidationError(
            _("Enter a domestic account number: 6 to 20 digits, without spaces or letters."),
            code="invalid_account_number",
        )


_PHONE_CHARACTERS = re.compile(r"[0-9+()\-. ]+", re.ASCII)


def validate_phone_characters(text: str) -> None:
    """What a person may type for a phone number before it is parsed: ASCII digits, ``+``,
    spaces, hyphens, dots and brackets. ``phonenumbers`` would quietly convert other digits."""
    if has_non_ascii_digits(text):
        raise ValidationError(NON_ASCII_DIGITS_MESSAGE, code="non_ascii_digits")
    if not _PHONE_CHARACTERS.fullmatch(text or ""):
        raise ValidationError(
            _("Enter an Indonesian mobile number, for example 0812 3456 7890."), code="invalid_phone"
        )
