"""Every Faspay signature, once for the whole project: SNAP (asymmetric and symmetric) and the
legacy Debit API's digests.

SNAP (Standar Nasional Open API Pembayaran) request signing:

Faspay SendMe signs every request with the merchant's RSA key and no access token
(REFERENCE.md §0)::

    stringToSign = METHOD + ":" + path + ":" + lowerhex(sha256(minified body)) + ":" + X-TIMESTAMP
    X-SIGNATURE  = base64(RSASSA-PKCS1-v1_5-SHA256(private key, stringToSign))

Other Bank Indonesia SNAP providers first fetch a B2B access token (signed
``SHA256withRSA(clientId + "|" + X-TIMESTAMP)``) and then sign each call with
``HMAC-SHA512(clientSecret, METHOD:path:accessToken:lowerhex(sha256(body)):timestamp)``. Because
no Faspay document settles which one a given product uses, the scheme is a strategy: provider
clients take any :class:`SnapSigner` and default to :class:`AsymmetricSigner`.

The body is minified exactly once (:func:`minify_body`) and those same bytes are hashed *and*
sent; re-serialising between signing and sending is the classic way to get ``401xx00``.

The legacy Debit JSON API (REFERENCE.md §4.1) signs with chained digests of *hex strings*,
``sha1(md5(text).hexdigest()).hexdigest()``, both lowercase hex, of a plain concatenation:

- channel inquiry (``/cvr/100001/10``): ``user_id + password``
- post data, inquiry status, cancel: ``user_id + password + bill_no``
- payment notification (Faspay → merchant): ``user_id + password + bill_no + payment_status_code``

MD5 and SHA-1 are what that protocol specifies, not a choice of ours; compare with
:func:`signatures_match` so that the comparison itself leaks no timing.

This module knows nothing of Django; where the keys come from is ``faspay.keys``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import urls
from .errors import FaspayError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

WIB = ZoneInfo("Asia/Jakarta")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S+07:00"
MAX_EXTERNAL_ID_LENGTH = 36

PrivateKey = rsa.RSAPrivateKey
PublicKey = rsa.RSAPublicKey


# --- body, timestamp, external id ------------------------------------------------------------

def minify_body(body: Mapping[str, Any] | list | None) -> bytes:
    """The one serialisation of a request body: compact separators, UTF-8, keys in given order.

    ``None`` (no body) is the empty byte string, whose SHA-256 is still part of stringToSign.
    """
    if body is None:
        return b""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def body_digest(body: bytes) -> str:
    """``lowercase(hex(sha256(body)))`` as it appears in every SNAP stringToSign."""
    return hashlib.sha256(body).hexdigest()


def snap_timestamp(now: dt.datetime | None = None) -> str:
    """``X-TIMESTAMP`` in WIB, ``yyyy-MM-ddTHH:mm:ss+07:00``, whole seconds."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return now.astimezone(WIB).strftime(TIMESTAMP_FORMAT)


def parse_snap_timestamp(value: str) -> dt.datetime:
    """Parse an ISO-8601 ``X-TIMESTAMP`` with an explicit offset (``+07:00`` or ``Z``).

    Raises ``ValueError`` for anything without an offset: a timestamp whose zone is a guess
    cannot be checked for clock skew.
    """
    text = (value or "").strip()
    if not text or "T" not in text:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r}")
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return parsed


_external_id_counter = itertools.count()
_external_id_lock = threading.Lock()


def new_external_id(prefix: str = "") -> str:
    """A numeric ``X-EXTERNAL-ID`` (≤ 36 digits) that does not repeat within a day.

    Microseconds since the epoch + a per-process counter + 6 random digits: two workers would
    have to collide in the same microsecond *and* draw the same random number. ``prefix`` (e.g.
    the partner id, as the official SDKs do) is kept only if it is numeric.
    """
    with _external_id_lock:
        sequence = next(_external_id_counter) % 1000
    digits = f"{time.time_ns() // 1000}{sequence:03d}{secrets.randbelow(10**6):06d}"
    prefix = prefix if prefix.isdigit() else ""
    return (prefix + digits)[:MAX_EXTERNAL_ID_LENGTH]


# --- stringToSign recipes --------------------------------------------------------------------

def asymmetric_string_to_sign(method: str, path: str, body: bytes, timestamp: str) -> str:
    return f"{method.upper()}:{path}:{body_digest(body)}:{timestamp}"


def symmetric_string_to_sign(method: str, path: str, access_token: str, body: bytes,
                             timestamp: str) -> str:
    return f"{method.upper()}:{path}:{access_token}:{body_digest(body)}:{timestamp}"


def b2b_token_string_to_sign(client_id: str, timestamp: str) -> str:
    return f"{client_id}|{timestamp}"


# --- RSA primitives --------------------------------------------------------------------------

def load_private_key(pem: bytes | str, password: bytes | None = None) -> PrivateKey:
    """Load an RSA private key from PEM, PKCS#8 (``BEGIN PRIVATE KEY``) or PKCS#1
    (``BEGIN RSA PRIVATE KEY``); ``cryptography`` recognises both from the armour."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("SNAP signatures need an RSA private key")
    return key


def load_public_key(pem: bytes | str) -> PublicKey:
    """Load an RSA public key from PEM: SubjectPublicKeyInfo (``BEGIN PUBLIC KEY``), PKCS#1
    (``BEGIN RSA PUBLIC KEY``) or an X.509 certificate, as partners hand out any of the three."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key: PublicKeyTypes  # any kind until the RSA check below
    if b"BEGIN CERTIFICATE" in data:
        from cryptography import x509

        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("SNAP signatures need an RSA public key")
    return key


def private_key_pem(key: PrivateKey, *, pkcs1: bool = False) -> bytes:
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def public_key_pem(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def rsa_sign(private_key: PrivateKey, message: str | bytes) -> str:
    """``base64(SHA256withRSA(message))`` — PKCS#1 v1.5, deterministic for a given key."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    return base64.b64encode(private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa_verify(public_key: PublicKey, message: str | bytes, signature: str) -> bool:
    data = message.encode("utf-8") if isinstance(message, str) else message
    try:
        raw = base64.b64decode(signature or "", validate=True)
        public_key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def hmac_sha512(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).digest()
    return base64.b64encode(digest).decode("ascii")


# --- signing and verifying whole requests ----------------------------------------------------

def sign_asymmetric(private_key: PrivateKey, method: str, path: str, body: bytes, timestamp: str) -> str:
    return rsa_sign(private_key, asymmetric_string_to_sign(method, path, body, timestamp))


def verify_asymmetric(public_key: PublicKey, method: str, path: str, body: bytes, timestamp: str,
                      signature: str) -> bool:
    return rsa_verify(public_key, asymmetric_string_to_sign(method, path, body, timestamp), signature)


def sign_symmetric(client_secret: str, method: str, path: str, access_token: str, body: bytes,
                   timestamp: str) -> str:
    return hmac_sha512(client_secret, symmetric_string_to_sign(method, path, access_token, body, timestamp))


def verify_symmetric(client_secret: str, method: str, path: str, access_token: str, body: bytes,
                     timestamp: str, signature: str) -> bool:
    expected = sign_symmetric(client_secret, method, path, access_token, body, timestamp)
    return hmac.compare_digest(expected.encode("ascii"), (signature or "").encode("utf-8", "replace"))


def sign_b2b_token_request(private_key: PrivateKey, client_id: str, timestamp: str) -> str:
    """``X-SIGNATURE`` of ``POST /v1.0/access-token/b2b``: SHA256withRSA(clientId|X-TIMESTAMP)."""
    return rsa_sign(private_key, b2b_token_string_to_sign(client_id, timestamp))


def verify_b2b_token_request(public_key: PublicKey, client_id: str, timestamp: str, signature: str) -> bool:
    return rsa_verify(public_key, b2b_token_string_to_sign(client_id, timestamp), signature)


class SnapSigner(Protocol):
    """Produces the authentication headers of one SNAP request.

    ``body`` are the exact bytes that will be sent; ``path`` is the relative endpoint URL that is
    signed (for SendMe including ``/account``), without host and query string.
    """

    def sign_request(self, method: str, path: str, body: bytes, timestamp: str) -> dict[str, str]:
        ...


@dataclass(frozen=True)
class AsymmetricSigner:
    """Faspay's scheme: every request signed with the merchant RSA key, no token."""

    private_key: PrivateKey

    def sign_request(self, method: str, path: str, body: bytes, timestamp: str) -> dict[str, str]:
        return {
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": sign_asymmetric(self.private_key, method, path, body, timestamp),
        }


class SymmetricSigner:
    """The BI B2B scheme: ``Authorization: Bearer <token>`` + HMAC-SHA512 with the client secret.

    ``access_token`` is either a fixed token or a callable returning a valid one (usually a
    :class:`B2BAccessTokenProvider`), asked once per request so that expiry is handled there.
    """

    def __init__(self, *, client_secret: str, access_token: str | Callable[[], str]):
        self.client_secret = client_secret
        self._access_token = access_token

    def current_access_token(self) -> str:
        token = self._access_token
        return token() if callable(token) else token

    def sign_request(self, method: str, path: str, body: bytes, timestamp: str) -> dict[str, str]:
        token = self.current_access_token()
        return {
            "Authorization": f"Bearer {token}",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": sign_symmetric(self.client_secret, method, path, token, body, timestamp),
        }


class AccessTokenError(FaspayError):
    """The provider did not issue a B2B access token (refusal, network error or a body that is
    not a token answer)."""


class B2BAccessTokenProvider:
    """Fetches and caches a B2B access token (``POST /v1.0/access-token/b2b``).

    The token is renewed ``refresh_margin`` seconds before ``expiresIn`` runs out. A token request
    is harmless to repeat, so unlike money calls it may simply be re-sent after a failure.
    """

    def __init__(self, *, session, base_url: str, client_id: str, private_key: PrivateKey,
                 timeout: float, path: str = urls.SNAP_B2B_ACCESS_TOKEN, refresh_margin: int = 60,
                 clock: Callable[[], float] = time.monotonic):
        self.session = session
        self.url = base_url.rstrip("/") + path
        self.client_id = client_id
        self.private_key = private_key
        self.timeout = timeout
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._token, lifetime = self._fetch()
                self._expires_at = self._clock() + max(lifetime - self.refresh_margin, 0)
            return self._token

    def _fetch(self) -> tuple[str, int]:
        timestamp = snap_timestamp()
        body = minify_body({"grantType": "client_credentials"})
        try:
            response = self.session.post(
                self.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-TIMESTAMP": timestamp,
                    "X-CLIENT-KEY": self.client_id,
                    "X-SIGNATURE": sign_b2b_token_request(self.private_key, self.client_id, timestamp),
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise AccessTokenError(f"token request failed: {exc.__class__.__name__}") from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise AccessTokenError(f"unparsable token response (HTTP {response.status_code})") from exc
        if not isinstance(payload, dict):
            raise AccessTokenError(f"token response is not an object (HTTP {response.status_code})")
        token = payload.get("accessToken")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise AccessTokenError(f"{payload.get('responseCode')} {payload.get('responseMessage')}")
        lifetime = payload.get("expiresIn") or 900
        try:
            lifetime = int(lifetime)
        except (TypeError, ValueError):
            raise AccessTokenError(f"expiresIn {str(lifetime)[:20]!r} is not a number of seconds") from None
        return token, lifetime


@dataclass(frozen=True)
class SignedRequest:
    headers: dict[str, str]
    body: bytes


def build_signed_request(signer: SnapSigner, *, method: str, path: str,
                         body: Mapping[str, Any] | None, partner_id: str, channel_id: str,
                         external_id: str | None = None, timestamp: str | None = None) -> SignedRequest:
    """Headers + body bytes of one SNAP call. Send ``.body`` as ``data=``, never ``json=``."""
    body_bytes = minify_body(body)
    timestamp = timestamp or snap_timestamp()
    headers = {
        "Content-Type": "application/json",
        "X-PARTNER-ID": partner_id,
        "X-EXTERNAL-ID": external_id or new_external_id(),
        "CHANNEL-ID": channel_id,
    }
    headers.update(signer.sign_request(method.upper(), path, body_bytes, timestamp))
    return SignedRequest(headers=headers, body=body_bytes)


# --- legacy Debit signatures (REFERENCE.md §4.1) ---------------------------------------------

def legacy_signature(*parts: str) -> str:
    text = "".join(str(part) for part in parts)
    md5_hex = hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - protocol-mandated
    return hashlib.sha1(md5_hex.encode("ascii")).hexdigest()  # noqa: S324 - protocol-mandated


def channel_inquiry_signature(user_id: str, password: str) -> str:
    return legacy_signature(user_id, password)


def debit_request_signature(user_id: str, password: str, bill_no: str) -> str:
    """Post Data Transaction, Inquiry Payment Status and Cancel Transaction."""
    return legacy_signature(user_id, password, bill_no)


def debit_notification_signature(user_id: str, password: str, bill_no: str,
                                 payment_status_code: str | int) -> str:
    """The payment notification Faspay posts to the merchant."""
    return legacy_signature(user_id, password, bill_no, str(payment_status_code))


def signatures_match(expected: str, received: str | None) -> bool:
    return hmac.compare_digest(expected.lower().encode("ascii"),
                               (received or "").strip().lower().encode("utf-8", "replace"))
