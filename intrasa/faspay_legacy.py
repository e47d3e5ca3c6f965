"""Signatures of the legacy Faspay Debit JSON API (REFERENCE.md §4.1).

Faspay chains two digests as *hex strings*: ``sha1(md5(text).hexdigest()).hexdigest()``, both in
lowercase hex. The text is a plain concatenation without separators:

- channel inquiry (``/cvr/100001/10``): ``user_id + password``
- post data, inquiry status, cancel: ``user_id + password + bill_no``
- payment notification (Faspay → merchant): ``user_id + password + bill_no + payment_status_code``

MD5 and SHA-1 are what the protocol specifies, not a choice of ours; compare with
:func:`signatures_match` so that the comparison itself leaks no timing.
"""
import hashlib
import hmac


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
