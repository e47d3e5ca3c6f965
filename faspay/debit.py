"""Faspay Debit JSON API client (REFERENCE.md §4.1): Post Data Transaction, Inquiry Payment
Status, Cancel Transaction, and the payment notification's signature check.

A provider client in the sense of DESIGN.md §3: it speaks HTTP with a ``requests.Session`` and
explicit timeouts, hides no retries, knows nothing of Django models and returns typed results
(``faspay.results``). Every failure is one of two exceptions (``faspay.errors``), so callers can
tell "Faspay said no" (``FaspayRejected``: nothing was created) from "we don't know what happened"
(``FaspayUnavailable``: timeout, 5xx, unparsable answer — look before trying again; an answer whose
fields do not parse is its subclass ``MalformedAnswer``).

Amounts go through the one codec, ``faspay.amounts``: ``bill_total`` is sent as
``rupiah × amount_scale`` (1 for whole Rupiah; 100 if the account expects two implied decimals —
REFERENCE.md §8.6 says to confirm at onboarding), and an amount Faspay states is read back exactly or
refused (a fraction, or a value that is not whole Rupiah at the scale), never rounded.
"""
import datetime as dt
import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from urllib.parse import parse_qsl

import defusedxml.ElementTree as SafeElementTree
import requests
from defusedxml import DefusedXmlException

from . import amounts, signing, urls
from .errors import AmountError, FaspayError, FaspayRejected, FaspayUnavailable, MalformedAnswer
from .results import CreatedBill, Notification, PaymentStatus
from .signing import WIB

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# payment_status_code (REFERENCE.md §4.1)
STATUS_UNPROCESSED = "0"
STATUS_IN_PROCESS = "1"
STATUS_PAID = "2"
STATUS_FAILED = "3"
STATUS_REVERSED = "4"
STATUS_NO_BILL = "5"
STATUS_EXPIRED = "7"
STATUS_CANCELLED = "8"
STATUS_UNKNOWN = "9"

# Post Data response codes with a meaning beyond "refused" (REFERENCE.md §4.1).
RESPONSE_ALREADY_PAID = "81"
RESPONSE_EXPIRED = "54"


@dataclass(frozen=True)
class BillRequest:
    bill_no: str
    bill_description: str
    amount: int  # whole Rupiah
    channel_code: str
    expires_at: dt.datetime
    customer_number: str
    customer_name: str
    customer_email: str
    customer_phone: str
    item_name: str
    created_at: dt.datetime


class InvalidNotification(FaspayError):
    """Malformed body or bad signature: answer with an error and change nothing. ``code`` is the
    Faspay-style response code we answer with (30 format error, 03 invalid merchant, 55 signature)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class NotificationTooLarge(InvalidNotification):
    """A body larger than any notification (answered 413, read no further)."""

    def __init__(self):
        super().__init__("30", f"Format error: body larger than {MAX_NOTIFICATION_BYTES} bytes")


# --- notification bodies (Faspay → us) -----------------------------------------------------------
#
# Faspay posts the payment notification as JSON or as XML (REFERENCE.md §4.1: root ``<faspay>``,
# one child element per field); a form-encoded body with the same fields is read too. Whatever
# the format, the same fields, the same checks and the same signature apply, and the answer goes
# back in the format that came in (form-encoded bodies are answered in JSON, Faspay's default:
# its documentation knows no form-encoded reply).
#
# Nothing that arrives is trusted before it is checked, and everything is checked before any
# database work: the body size, the format (no DTD or entities in XML, no nesting deeper than one
# level, no repeated fields), and every field's type, characters and length (the lengths fit the
# columns of ``payments.models`` that store them; a test keeps the two in step).

FORMAT_JSON = "json"
FORMAT_XML = "xml"
FORMAT_FORM = "form"
# A real notification is about 700 bytes; anything near this is not one.
MAX_NOTIFICATION_BYTES = 16 * 1024
MAX_NOTIFICATION_KEYS = 64

_IDENTIFIER = re.compile(r"[A-Za-z0-9._\-]*")
_DIGITS = re.compile(r"[0-9]*")
_HEX = re.compile(r"[0-9A-Fa-f]*")
_AMOUNT = re.compile(r"([0-9]{1,18})(?:\.[0-9]{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# field → (longest value, pattern the whole value must match; None = printable text)
NOTIFICATION_FIELDS = {
    "request": (100, None),
    "trx_id": (40, _IDENTIFIER),
    "merchant_id": (20, _IDENTIFIER),
    "merchant": (100, None),
    "bill_no": (32, _IDENTIFIER),
    "payment_reff": (100, None),
    "payment_date": (19, _DATE),
    "payment_status_code": (2, _DIGITS),
    "payment_status_desc": (255, None),
    "bill_total": (21, _AMOUNT),
    "payment_total": (21, _AMOUNT),
    "payment_channel_uid": (10, _IDENTIFIER),
    "payment_channel": (100, None),
    "signature": (128, _HEX),
}
REQUIRED_NOTIFICATION_FIELDS = ("trx_id", "bill_no", "payment_status_code", "signature")


def notification_format(content_type: str, body: bytes) -> str:
    """The format of a notification body, from its Content-Type or, failing that, its first byte."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media.endswith("/xml") or media.endswith("+xml"):
        return FORMAT_XML
    if media == "application/x-www-form-urlencoded":
        return FORMAT_FORM
    if media.endswith("/json") or media.endswith("+json"):
        return FORMAT_JSON
    start = body.lstrip()[:1]
    if start == b"<":
        return FORMAT_XML
    if start in (b"{", b"["):
        return FORMAT_JSON
    return FORMAT_FORM if b"=" in body else FORMAT_JSON


def _flat(pairs, fmt: str) -> dict:
    fields = {}
    for key, value in pairs:
        if not isinstance(key, str) or len(key) > 64:
            raise InvalidNotification("30", f"Format error: a field name is not valid ({fmt})")
        if key in fields:
            raise InvalidNotification("30", f"Format error: {key[:64]!r} appears twice")
        fields[key] = value
        if len(fields) > MAX_NOTIFICATION_KEYS:
            raise InvalidNotification("30", "Format error: too many fields")
    return fields


def decode_notification(body: bytes, content_type: str = "") -> tuple[str, dict]:
    """``(format, fields)`` of a notification body; raises ``InvalidNotification`` (code 30) for
    anything that is not one flat object of at most ``MAX_NOTIFICATION_BYTES``."""
    fmt = notification_format(content_type, body)
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise NotificationTooLarge()
    if fmt == FORMAT_XML:
        try:
            # Bytes, so that the XML declaration's encoding is honoured; no DTD, hence no entities.
            root = SafeElementTree.fromstring(body, forbid_dtd=True)
        except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
            raise InvalidNotification("30", f"Format error: not a Faspay XML notification ({type(exc).__name__})") \
                from None
        pairs = []
        for child in root:
            if len(child):
                raise InvalidNotification("30", f"Format error: {str(child.tag)[:64]!r} has nested elements")
            pairs.append((child.tag, child.text or ""))
        return fmt, _flat(pairs, fmt)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNotification("30", "Format error: body is not UTF-8") from None
    if fmt == FORMAT_FORM:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True,
                              max_num_fields=MAX_NOTIFICATION_KEYS)
        except ValueError:
            raise InvalidNotification("30", "Format error: not a form-encoded notification") from None
        return fmt, _flat(pairs, fmt)
    try:
        payload = json.loads(text, object_pairs_hook=lambda pairs: _flat(pairs, fmt))
    except (ValueError, RecursionError):
        raise InvalidNotification("30", "Format error: expected a JSON object") from None
    if not isinstance(payload, dict):
        raise InvalidNotification("30", "Format error: expected a JSON object")
    # Faspay's notification is flat: nested values of fields we do not know are dropped (nothing
    # nested is stored); a known field that is not a plain value is refused by parse_notification.
    return fmt, {key: value for key, value in payload.items()
                 if key in NOTIFICATION_FIELDS or not isinstance(value, (dict, list))}


def notification_fields(payload) -> dict[str, str]:
    """The known fields of a notification, each checked for type, characters and length."""
    if not isinstance(payload, dict):
        raise InvalidNotification("30", "Format error: body is not an object")
    fields = {}
    for name, (longest, pattern) in NOTIFICATION_FIELDS.items():
        if name not in payload or payload[name] is None:
            continue
        value = payload[name]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidNotification("30", f"Format error: {name} must be a string")
        if isinstance(value, int) and pattern not in (_IDENTIFIER, _DIGITS, _AMOUNT):
            raise InvalidNotification("30", f"Format error: {name} must be a string")
        text = str(value) if isinstance(value, int) else value.strip()
        if len(text) > longest:
            raise InvalidNotification("30", f"Format error: {name} longer than {longest} characters")
        if _CONTROL.search(text) or (pattern is not None and text and not pattern.fullmatch(text)):
            raise InvalidNotification("30", f"Format error: {name} is not valid")
        fields[name] = text
    missing = [name for name in REQUIRED_NOTIFICATION_FIELDS if not fields.get(name)]
    if missing:
        raise InvalidNotification("30", f"missing fields: {', '.join(missing)}")
    return fields


def render_notification_reply(body: dict, fmt: str) -> tuple[bytes, str]:
    """``(bytes, content type)`` of a reply to a notification that came in ``fmt``."""
    if fmt == FORMAT_XML:
        root = ElementTree.Element("faspay")
        for key, value in body.items():
            ElementTree.SubElement(root, key).text = str(value)
        return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True), "application/xml; charset=utf-8"
    return json.dumps(body).encode("utf-8"), "application/json"


def _format_date(value: dt.datetime) -> str:
    return value.astimezone(WIB).strftime(DATE_FORMAT)


def _parse_date(value: str | None) -> dt.datetime | None:
    """A Faspay date (``YYYY-MM-DD HH:MM:SS``, WIB); ``None`` when empty or not such a date."""
    if not value or not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip(), DATE_FORMAT).replace(tzinfo=WIB)
    except ValueError:
        return None


def _answer_text(body: dict, name: str, default: str = "") -> str:
    """A field of a Debit answer as text: absent or null → ``default``; an object, a list or a
    boolean is not text and makes the answer malformed."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedAnswer(f"{name}: expected text, got {type(value).__name__}")
    return str(value)


class FaspayDebitClient:
    def __init__(self, *, base_url: str, merchant_id: str, merchant_name: str, user_id: str, password: str,
                 timeout: float = 15.0, amount_scale: int = 1, session: requests.Session | None = None,
                 notification_url: str = ""):
        self.base_url = base_url.rstrip("/")
        self.merchant_id = merchant_id
        self.merchant_name = merchant_name
        self.user_id = user_id
        self.password = password
        self.timeout = timeout
        self.amount_scale = amount_scale
        self.session = session or requests.Session()
        # Only the sandbox reads this field; real Faspay takes the URL from merchant set-up.
        self.notification_url = notification_url

    # --- helpers ----------------------------------------------------------------------------
    def _signature(self, bill_no: str) -> str:
        return signing.debit_request_signature(self.user_id, self.password, bill_no)

    def _post(self, path: str, payload: dict) -> dict:
        try:
            response = self.session.post(urls.join(self.base_url, path), json=payload, timeout=self.timeout,
                                         headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise FaspayUnavailable(f"{path}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise FaspayUnavailable(f"{path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except (ValueError, RecursionError) as exc:
            raise MalformedAnswer(f"{path}: HTTP {response.status_code}, not JSON") from exc
        if not isinstance(body, dict) or "response_code" not in body:
            raise MalformedAnswer(f"{path}: HTTP {response.status_code}, not a Faspay answer")
        code = _answer_text(body, "response_code")
        if code != "00":
            raise FaspayRejected(code, _answer_text(body, "response_desc"))
        return body

    def _stated_amount(self, value, name: str) -> int | None:
        """An amount Faspay states, in whole Rupiah (``None`` when it states none)."""
        if value is None or value == "":
            return None
        try:
            return amounts.parse_debit_value(value, self.amount_scale)
        except AmountError as exc:
            raise MalformedAnswer(f"{name}: {exc}") from None

    # --- API --------------------------------------------------------------------------------
    def create_bill(self, bill: BillRequest) -> CreatedBill:
        total = amounts.debit_value(bill.amount, self.amount_scale)
        payload = {
            "request": "Transmisi Info Detil Pembelian",
            "merchant_id": self.merchant_id,
            "merchant": self.merchant_name,
            "bill_no": bill.bill_no,
            "bill_reff": bill.bill_no,
            "bill_date": _format_date(bill.created_at),
            "bill_expired": _format_date(bill.expires_at),
            "bill_desc": bill.bill_description[:128],
            "bill_currency": "IDR",
            "bill_gross": total,
            "bill_miscfee": "0",
            "bill_total": total,
            "payment_channel": bill.channel_code,
            "pay_type": "1",
            "cust_no": bill.customer_number,
            "cust_name": bill.customer_name[:128],
            "msisdn": bill.customer_phone.lstrip("+"),
            "email": bill.customer_email,
            "terminal": "10",
            "item": [{"product": bill.item_name[:50], "qty": "1", "amount": total, "payment_plan": "01",
                      "merchant_id": self.merchant_id, "tenor": "00"}],
            "signature": self._signature(bill.bill_no),
        }
        if self.notification_url:
            payload["sandbox_notification_url"] = self.notification_url
        body = self._post(urls.DEBIT_POST_DATA, payload)
        return CreatedBill(trx_id=_answer_text(body, "trx_id"),
                           bill_no=_answer_text(body, "bill_no") or bill.bill_no,
                           redirect_url=_answer_text(body, "redirect_url") or _answer_text(body, "web_url"),
                           qr_content=_answer_text(body, "qr_content"))

    def inquiry(self, *, trx_id: str, bill_no: str) -> PaymentStatus:
        body = self._post(urls.DEBIT_INQUIRY, {
            "request": "Inquiry Status Payment", "trx_id": trx_id, "merchant_id": self.merchant_id,
            "bill_no": bill_no, "signature": self._signature(bill_no),
        })
        payment_date = _answer_text(body, "payment_date")
        paid_at = _parse_date(payment_date)
        if payment_date and paid_at is None:
            raise MalformedAnswer(f"payment_date {payment_date[:40]!r} is not YYYY-MM-DD HH:MM:SS")
        return PaymentStatus(
            trx_id=_answer_text(body, "trx_id") or trx_id, bill_no=bill_no,
            status_code=_answer_text(body, "payment_status_code", STATUS_UNKNOWN),
            status_description=_answer_text(body, "payment_status_desc"),
            payment_reference=_answer_text(body, "payment_reff"),
            paid_at=paid_at,
            paid_amount=self._stated_amount(body.get("payment_total"), "payment_total"),
        )

    def cancel(self, *, trx_id: str, bill_no: str, reason: str) -> None:
        self._post(urls.DEBIT_CANCEL, {
            "request": "Canceling Payment", "trx_id": trx_id, "merchant_id": self.merchant_id,
            "merchant": self.merchant_name, "bill_no": bill_no, "payment_cancel": reason[:100],
            "signature": self._signature(bill_no),
        })

    # --- notifications (Faspay → us) ----------------------------------------------------------
    def amount_from(self, value) -> int | None:
        """Whole Rupiah from an amount a stored notification states (``bill_total`` units);
        ``None`` when it states none or states one the codec refuses."""
        try:
            return self._stated_amount(value, "amount")
        except MalformedAnswer:
            return None

    def parse_notification(self, payload: dict) -> Notification:
        """Check shape, lengths and signature of a payment notification (whatever format it came
        in, decoded to a dict); raise ``InvalidNotification``. Touches no database."""
        fields = notification_fields(payload)
        if fields.get("merchant_id", "") != self.merchant_id:
            raise InvalidNotification("03", "unknown merchant_id")
        bill_no, status = fields["bill_no"], fields["payment_status_code"]
        expected = signing.debit_notification_signature(self.user_id, self.password, bill_no, status)
        if not signing.signatures_match(expected, fields["signature"]):
            raise InvalidNotification("55", "bad signature")
        paid_at = _parse_date(fields.get("payment_date"))
        if fields.get("payment_date") and paid_at is None:
            raise InvalidNotification("30", "Format error: payment_date is not YYYY-MM-DD HH:MM:SS")
        try:
            bill_total = self._stated_amount(fields.get("bill_total"), "bill_total")
            paid_amount = self._stated_amount(fields.get("payment_total"), "payment_total")
        except MalformedAnswer as exc:
            raise InvalidNotification("30", f"Format error: {exc}") from None
        return Notification(
            trx_id=fields["trx_id"], bill_no=bill_no, status_code=status,
            status_description=fields.get("payment_status_desc", ""),
            payment_reference=fields.get("payment_reff", ""),
            paid_at=paid_at, bill_total=bill_total, paid_amount=paid_amount,
            channel_code=fields.get("payment_channel_uid") or fields.get("payment_channel") or "",
        )

    def notification_reply(self, notification: Notification) -> dict:
        """The OK body Faspay expects, so that it stops retrying (REFERENCE.md §4.1)."""
        return {
            "response": "Payment Notification", "trx_id": notification.trx_id,
            "merchant_id": self.merchant_id, "merchant": self.merchant_name,
            "bill_no": notification.bill_no, "response_code": "00", "response_desc": "Success",
            "response_date": _format_date(dt.datetime.now(tz=WIB)),
        }


def default_client() -> FaspayDebitClient:
    """The client configured from settings (the sandbox unless Faspay credentials are set)."""
    from django.conf import settings

    base_url = urls.debit_base_url()
    to_sandbox = settings.FASPAY_SANDBOX_ENABLED and urls.is_own_sandbox(base_url, settings.SITE_URL)
    return FaspayDebitClient(
        base_url=base_url, merchant_id=settings.FASPAY_MERCHANT_ID,
        merchant_name=settings.FASPAY_MERCHANT_NAME, user_id=settings.FASPAY_USER_ID,
        password=settings.FASPAY_PASSWORD, timeout=settings.FASPAY_HTTP_TIMEOUT_SECONDS,
        amount_scale=settings.FASPAY_DEBIT_AMOUNT_SCALE,
        notification_url=urls.debit_notification_url(settings.SITE_URL) if to_sandbox else "",
    )
