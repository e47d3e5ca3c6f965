"""The signed token in an email-verification link (``/akun/verifikasi/<token>/``).

The token is ``TimestampSigner``-signed ``"<user pk>:<email digest>"``: the signature (keyed with
``SECRET_KEY``) means nobody can make one, the timestamp lets it expire, and the digest of the
address it was sent to means it stops working as soon as the account's email changes. The digest
is a keyed HMAC rather than the address itself because the link ends up in browser histories,
access logs and proxies, where an email address would be personal data in plain text.

Nothing is stored: a token is valid until it expires, and verifying twice is harmless.
"""
import datetime as dt

from django.core import signing
from django.utils.crypto import salted_hmac

SALT = "accounts.email-verification"
MAX_AGE = dt.timedelta(days=3)


class TokenExpired(Exception):
    """Genuine and meant for this person and address, but older than ``MAX_AGE``."""


class TokenInvalid(Exception):
    """Forged, mangled, meant for another account, or sent to an address the account no longer has."""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def _email_digest(email: str) -> str:
    return salted_hmac(SALT, email.lower(), algorithm="sha256").hexdigest()[:20]


def email_verification_token_make(*, user) -> str:
    return _signer().sign(f"{user.pk}:{_email_digest(user.email)}")


def email_verification_token_check(*, user, token: str) -> None:
    """Return quietly if ``token`` proves that ``user`` reads ``user.email``; raise otherwise.

    Ownership is checked before age, so an old link for someone else's account is "invalid",
    not "expired": only the rightful owner is told to ask for a new one.
    """
    signer = _signer()
    try:
        value = signer.unsign(token)
    except signing.BadSignature:
        raise TokenInvalid from None
    if value != f"{user.pk}:{_email_digest(user.email)}":
        raise TokenInvalid
    try:
        signer.unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise TokenExpired from None
