"""Delivering a correctly signed Faspay payment notification to the live server, as Faspay would."""
import requests
from django.urls import reverse

from faspay import signing


def notification_payload(settings, bill, *, status="2", paid_amount=None, trx_id=None) -> dict:
    return {
        "request": "Payment Notification", "trx_id": trx_id or bill.provider_trx_id,
        "merchant_id": settings.FASPAY_MERCHANT_ID, "merchant": settings.FASPAY_MERCHANT_NAME,
        "bill_no": bill.bill_no, "payment_reff": "REF123", "payment_date": "2026-11-23 10:00:00",
        "payment_status_code": status, "payment_status_desc": "Payment Success",
        "bill_total": str(bill.amount), "payment_total": str(paid_amount if paid_amount is not None else bill.amount),
        "payment_channel_uid": bill.channel_code, "payment_channel": bill.channel_code,
        "signature": signing.debit_notification_signature(
            settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD, bill.bill_no, status),
    }


def deliver_notification(live_server, settings, bill, **kwargs) -> requests.Response:
    with requests.Session() as session:
        return session.post(live_server.url + reverse("escrow:faspay_notification"),
                            json=notification_payload(settings, bill, **kwargs), timeout=30)
