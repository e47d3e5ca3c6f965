"""The Faspay Debit (legacy JSON) side of the sandbox: bills, their payment page, notifications.

``response_code`` answers (REFERENCE §4.1): ``00`` ok, ``03`` invalid merchant, ``13`` invalid
amount, ``14`` invalid order (unknown bill, or a bill_no reused with different data), ``30``
format error (missing field, unknown channel, bill_expired beyond 30 days), ``54`` bill_expired
in the past, ``55`` bad signature (user id/password), ``81`` already paid. All with HTTP 200.

For every channel ``trx_id`` doubles as what the buyer types in: the VA number for VA channels,
the payment code for Indomaret/Alfamart; QRIS bills also carry ``qr_content``.
``bill_total`` is kept in the units the merchant sent; ``SandboxConfig.debit_amount_scale`` only
says how to show it in Rupiah on the payment page.

Re-posting a ``bill_no`` with the same total and channel returns the existing bill (so a merchant
retrying a timed-out Post Data does not get two VAs); with other data it is ``14``.
"""
import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from faspay import signing
from intrasa.wib import WIB

from . import catalogue
from .callbacks import callback_enqueue
from .models import NOTIFICATION_FORMATS, Bill, Callback, SandboxConfig

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_BILL_LIFETIME = dt.timedelta(days=30)
DEFAULT_BILL_LIFETIME = dt.timedelta(hours=24)


class BillActionError(Exception):
    """A payment-page or control action that does not apply to the bill's current state."""


def _format_date(value: dt.datetime | None) -> str:
    return value.astimezone(WIB).strftime(DATE_FORMAT) if value else ""


def _parse_date(value: str) -> dt.datetime:
    return dt.datetime.strptime(value.strip(), DATE_FORMAT).replace(tzinfo=WIB)


def _answer(request_name: str, code: str, desc: str, **fields) -> dict:
    return {"response": request_name, **fields, "response_code": code, "response_desc": desc}


def _check_credentials(payload: dict, request_name: str) -> dict | None:
    merchant_id = str(payload.get("merchant_id") or "")
    if merchant_id != settings.FASPAY_MERCHANT_ID:
        return _answer(request_name, "03", "Invalid Merchant", merchant_id=merchant_id)
    bill_no = str(payload.get("bill_no") or "")
    if not bill_no:
        return _answer(request_name, "30", "Format Error: bill_no is required")
    expected = signing.debit_request_signature(settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, bill_no)
    if not signing.signatures_match(expected, str(payload.get("signature") or "")):
        return _answer(request_name, "55", "Invalid user id or password (signature)",
                       merchant_id=merchant_id, bill_no=bill_no)
    return None


def _new_trx_id(channel: catalogue.Channel) -> str:
    while True:
        candidate = channel.prefix + f"{secrets.randbelow(10**12):012d}"
        if not Bill.objects.filter(trx_id=candidate).exists():
            return candidate


def _crc16_ccitt(data: str) -> str:
    crc = 0xFFFF
    for byte in data.encode("ascii"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def _qr_content(trx_id: str, amount_rupiah: int) -> str:
    """A QRIS-shaped EMV payload (dynamic, with amount and CRC); not payable anywhere real."""
    body = (_tlv("00", "01") + _tlv("01", "12")
            + _tlv("26", _tlv("00", "ID.CO.FASPAY.SANDBOX") + _tlv("01", trx_id))
            + _tlv("52", "5999") + _tlv("53", "360") + _tlv("54", str(amount_rupiah))
            + _tlv("58", "ID") + _tlv("59", settings.FASPAY_MERCHANT_NAME[:25])
            + _tlv("60", "JAKARTA") + _tlv("62", _tlv("01", trx_id)) + "6304")
    return body + _crc16_ccitt(body)


def to_rupiah(bill_total: int) -> int:
    return bill_total // max(SandboxConfig.get().debit_amount_scale, 1)


def default_notification_url() -> str:
    configured = SandboxConfig.get().notification_url
    if configured:
        return configured
    return getattr(settings, "FASPAY_SANDBOX_NOTIFICATION_URL", "") or (
        settings.SITE_URL + "/pembayaran/faspay/notifikasi/")


def post_data(payload: dict, *, payment_page_url) -> dict:
    """``/cvr/300011/10``. ``payment_page_url(trx_id)`` builds the absolute redirect_url."""
    name = "Transmisi Info Detil Pembelian"
    error = _check_credentials(payload, name)
    if error:
        return error
    bill_no = str(payload["bill_no"])
    common = {"merchant_id": settings.FASPAY_MERCHANT_ID, "merchant": settings.FASPAY_MERCHANT_NAME,
              "bill_no": bill_no}
    if len(bill_no) > 32:
        return _answer(name, "30", "Format Error: bill_no longer than 32", **common)
    channel = catalogue.PAYMENT_CHANNELS.get(str(payload.get("payment_channel") or ""))
    if channel is None:
        return _answer(name, "30", "Format Error: unsupported payment_channel", **common)
    try:
        bill_total = int(str(payload.get("bill_total") or "").strip())
    except ValueError:
        return _answer(name, "13", "Invalid Amount", **common)
    if bill_total <= 0:
        return _answer(name, "13", "Invalid Amount", **common)
    now = timezone.now()
    try:
        expires = _parse_date(payload["bill_expired"]) if payload.get("bill_expired") else now + DEFAULT_BILL_LIFETIME
    except (TypeError, ValueError):
        return _answer(name, "30", "Format Error: bill_expired must be YYYY-MM-DD HH:MM:SS", **common)
    if expires <= now:
        return _answer(name, "54", "Expired: bill_expired is in the past", **common)
    if expires - now > MAX_BILL_LIFETIME + dt.timedelta(minutes=1):
        return _answer(name, "30", "Format Error: bill_expired is more than 30 days away", **common)

    with transaction.atomic():
        existing = Bill.objects.select_for_update().filter(
            merchant_id=settings.FASPAY_MERCHANT_ID, bill_no=bill_no).first()
        if existing:
            if existing.status_code == "2":
                return _answer(name, "81", "Already Paid", **common)
            if existing.bill_total != bill_total or existing.payment_channel != channel.code:
                return _answer(name, "14", "Invalid Order: bill_no already used with other data", **common)
            bill = existing
        else:
            trx_id = _new_trx_id(channel)
            bill = Bill.objects.create(
                trx_id=trx_id, merchant_id=settings.FASPAY_MERCHANT_ID, bill_no=bill_no,
                bill_total=bill_total, payment_channel=channel.code, channel_kind=channel.kind,
                pay_code=trx_id if channel.kind != "qris" else "",
                qr_content=(_qr_content(trx_id, to_rupiah(bill_total))
                            if channel.kind == "qris" and SandboxConfig.get().qris_content else ""),
                bill_expired=expires, cust_name=str(payload.get("cust_name") or "")[:128],
                bill_desc=str(payload.get("bill_desc") or "")[:200],
                notification_url=str(payload.get("sandbox_notification_url") or "")[:500],
                request_payload=payload)
    url = payment_page_url(bill.trx_id)
    answer = _answer(name, "00", "Sukses", trx_id=bill.trx_id, **common,
                     bill_items=payload.get("item") or [], redirect_url=url, web_url=url)
    if bill.qr_content:
        answer["qr_content"] = bill.qr_content
    return answer


def current_status(bill: Bill) -> str:
    """The bill's status, with expiry evaluated lazily (an unpaid bill past bill_expired is 7)."""
    if bill.status_code in ("0", "1") and timezone.now() >= bill.bill_expired:
        return "7"
    return bill.status_code


def inquiry(payload: dict) -> dict:
    name = "Inquiry Status Payment"
    error = _check_credentials(payload, name)
    if error:
        return error
    bill = Bill.objects.filter(merchant_id=settings.FASPAY_MERCHANT_ID, bill_no=payload["bill_no"]).first()
    trx_id = str(payload.get("trx_id") or "")
    common = {"trx_id": trx_id, "merchant_id": settings.FASPAY_MERCHANT_ID,
              "merchant": settings.FASPAY_MERCHANT_NAME, "bill_no": payload["bill_no"]}
    if bill is None or (trx_id and trx_id != bill.trx_id):
        return _answer(name, "00", "Sukses", **common, payment_reff="", payment_date="",
                       payment_status_code="5", payment_status_desc=catalogue.PAYMENT_STATUS["5"])
    status = current_status(bill)
    # Exactly Faspay's documented answer: no bill_total, no payment_total. The inquiry says *that*
    # a bill was paid, never *how much* (only the notification states the amount).
    return _answer(name, "00", "Sukses", **common, payment_reff=bill.payment_reff,
                   payment_date=_format_date(bill.payment_date), payment_status_code=status,
                   payment_status_desc=catalogue.PAYMENT_STATUS[status])


def cancel(payload: dict) -> dict:
    name = "Canceling Payment"
    error = _check_credentials(payload, name)
    if error:
        return error
    common = {"trx_id": str(payload.get("trx_id") or ""), "merchant_id": settings.FASPAY_MERCHANT_ID,
              "merchant": settings.FASPAY_MERCHANT_NAME, "bill_no": payload["bill_no"]}
    with transaction.atomic():
        bill = Bill.objects.select_for_update().filter(
            merchant_id=settings.FASPAY_MERCHANT_ID, bill_no=payload["bill_no"]).first()
        if bill is None or (common["trx_id"] and common["trx_id"] != bill.trx_id):
            return _answer(name, "14", "Invalid Order: bill not found", **common)
        status = current_status(bill)
        if status == "2":
            return _answer(name, "81", "Already Paid", **common, payment_status_code="2",
                           payment_status_desc=catalogue.PAYMENT_STATUS["2"])
        if status in ("0", "1", "3"):
            bill.status_code = "8"
            bill.save(update_fields=["status_code", "updated_at"])
            status = "8"
    return _answer(name, "00", "Sukses", **common, trx_status_code=status,
                   trx_status_desc=catalogue.PAYMENT_STATUS[status], payment_status_code=status,
                   payment_status_desc=catalogue.PAYMENT_STATUS[status],
                   payment_cancel_date=_format_date(timezone.now()),
                   payment_cancel=str(payload.get("payment_cancel") or ""))


# --- payment page / control actions ----------------------------------------------------------

def notification_payload(bill: Bill) -> dict:
    channel = catalogue.PAYMENT_CHANNELS[bill.payment_channel]
    status = bill.status_code
    return {
        "request": "Payment Notification",
        "trx_id": bill.trx_id,
        "merchant_id": bill.merchant_id,
        "merchant": settings.FASPAY_MERCHANT_NAME,
        "bill_no": bill.bill_no,
        "payment_reff": bill.payment_reff,
        "payment_date": _format_date(bill.payment_date or timezone.now()),
        "payment_status_code": status,
        "payment_status_desc": catalogue.PAYMENT_STATUS[status],
        "bill_total": str(bill.bill_total),
        "payment_total": str(bill.payment_total if bill.payment_total is not None else bill.bill_total),
        "payment_channel_uid": bill.payment_channel,
        "payment_channel": channel.name,
        "signature": signing.debit_notification_signature(
            settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, bill.bill_no, status),
    }


def _notify(bill: Bill) -> None:
    callback_enqueue(kind=Callback.Kind.DEBIT, url=bill.notification_url or default_notification_url(),
                     payload=notification_payload(bill), bill=bill)


ACTIONS = {
    # action: (allowed current statuses, new status)
    "pay": ({"0", "1", "3"}, "2"),
    "pay_wrong_amount": ({"0", "1", "3"}, "2"),
    "fail": ({"0", "1"}, "3"),
    "expire": ({"0", "1", "3"}, "7"),
    "reverse": ({"2"}, "4"),
}


def bill_act(*, trx_id: str, action: str, amount: int | None = None) -> Bill:
    """Pay in full, pay another amount, fail, expire or reverse a bill; notifies the merchant.

    ``amount`` (for ``pay_wrong_amount``) is in bill_total units; a wrong payment is reported as
    status 2 with ``payment_total`` ≠ ``bill_total`` so the merchant's amount check is exercised.
    """
    if action not in ACTIONS:
        raise BillActionError(f"unknown action {action!r}")
    allowed, new_status = ACTIONS[action]
    with transaction.atomic():
        bill = Bill.objects.select_for_update().filter(trx_id=trx_id).first()
        if bill is None:
            raise BillActionError("no such bill")
        status = current_status(bill)
        if action in ("pay", "pay_wrong_amount") and status == "7":
            raise BillActionError("the bill has expired")
        if status not in allowed:
            raise BillActionError(f"not possible when the status is {catalogue.PAYMENT_STATUS[status]}")
        bill.status_code = new_status
        if action in ("pay", "pay_wrong_amount"):
            if action == "pay_wrong_amount":
                if amount is None or amount <= 0 or amount == bill.bill_total:
                    raise BillActionError("give an amount other than the bill total")
                bill.payment_total = amount
            else:
                bill.payment_total = bill.bill_total
            bill.payment_date = timezone.now()
            bill.payment_reff = f"{secrets.randbelow(10**12):012d}"
        bill.save()
        _notify(bill)
    return bill


def bill_set_notification_format(*, trx_id: str, fmt: str) -> Bill:
    """Post this bill's notifications as JSON, XML or form-encoded ("" = the configured format)."""
    if fmt not in ("", *dict(NOTIFICATION_FORMATS)):
        raise BillActionError(f"format: one of {', '.join(dict(NOTIFICATION_FORMATS))}")
    bill = Bill.objects.filter(trx_id=trx_id).first()
    if bill is None:
        raise BillActionError("no such bill")
    bill.notification_format = fmt
    bill.save(update_fields=["notification_format", "updated_at"])
    return bill


def bill_set_notification_url(*, trx_id: str, url: str) -> Bill:
    bill = Bill.objects.filter(trx_id=trx_id).first()
    if bill is None:
        raise BillActionError("no such bill")
    bill.notification_url = url[:500]
    bill.save(update_fields=["notification_url", "updated_at"])
    return bill
