"""Webhook signatures and secret digests (one place; ``examples/partner_client.py`` mirrors the
verification for partners to copy).

Scheme (documented in the API description and the README): INTRASA sends

* ``INTRASA-Timestamp``: Unix seconds when the attempt was signed;
* ``INTRASA-Signature``: ``v1=`` followed by the lowercase hex HMAC-SHA256, keyed with the
  partner's webhook signing secret, of ``timestamp + "." + body`` (the exact bytes of the body).

The receiver recomputes it over the raw body, compares in constant time, and refuses timestamps
more than five minutes away from its clock (a replayed old delivery). Each attempt is signed anew.
"""
import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "INTRASA-Signature"
TIMESTAMP_HEADER = "INTRASA-Timestamp"
TOLERANCE_SECONDS = 300


def new_secret(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """The SHA-256 of a random secret, as stored (API keys, authorization codes)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def digests_match(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(*, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> bool:
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - stamp) > TOLERANCE_SECONDS:
        return False
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str (a forged header).
    expected = sign(secret=secret, timestamp=stamp, body=body).encode()
    return hmac.compare_digest(expected, (signature or "").encode("utf-8", "replace"))
