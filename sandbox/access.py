"""Who may drive the sandbox by hand when it runs with DEBUG off (a deliberate staging set-up).

The control page and API can pay any bill, point notifications anywhere and list payout account
numbers, and the payment page pays bills: with DEBUG off they answer only to HTTP basic auth with
``FASPAY_SANDBOX_USERNAME`` / ``FASPAY_SANDBOX_PASSWORD`` (system check ``sandbox.E002`` refuses
to start without them). The protocol endpoints (Debit and SendMe) keep Faspay's own
authentication — signatures — exactly as the real provider's do.
"""
import base64
import binascii
import functools
import hmac

from django.conf import settings
from django.http import HttpResponse


def operator_credentials() -> tuple[str, str]:
    return (getattr(settings, "FASPAY_SANDBOX_USERNAME", "") or "",
            getattr(settings, "FASPAY_SANDBOX_PASSWORD", "") or "")


def _basic_auth(request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def operator_allowed(request) -> bool:
    if settings.DEBUG:
        return True
    username, password = operator_credentials()
    given = _basic_auth(request)
    if not (username and password and given):
        return False
    # Both compared, always, in constant time.
    same_user = hmac.compare_digest(given[0].encode(), username.encode())
    same_password = hmac.compare_digest(given[1].encode(), password.encode())
    return same_user and same_password


def operator_required(view):
    """Basic auth in front of a hand-driven sandbox view when DEBUG is off."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not operator_allowed(request):
            response = HttpResponse("Faspay sandbox: sign in with the sandbox operator's credentials.\n",
                                    status=401, content_type="text/plain; charset=utf-8")
            response["WWW-Authenticate"] = 'Basic realm="Faspay sandbox", charset="UTF-8"'
            return response
        return view(request, *args, **kwargs)

    return wrapped
