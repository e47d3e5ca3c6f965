"""Every provider webhook with hostile bodies, over real HTTP against the live server.

* Faspay's payment notification (``/pembayaran/faspay/notifikasi/``) in JSON, XML and form
  encoding: the sandbox sends each format end to end and INTRASA answers in it; malformed, nested,
  oversized, wrongly typed, over-long and replayed bodies get Faspay's error reply (4xx) and change
  nothing; a notification for a bill that is not a Faspay bill (a bank transfer) changes nothing.
* SendMe's callback (``/pencairan/sendme/callback/``): stale or future timestamps, replays,
  nested, malformed and oversized bodies, bad signatures and a missing Faspay key get a SNAP 4xx
  and ask SendMe nothing (counted at the sandbox: status inquiries it received).
"""
import datetime as dt
import json

import pytest
import requests
from django.urls import reverse

from disbursements.models import Disbursement
from faspay import debit as faspay_protocol
from faspay import keys, signing
from ledger.models import Posting
from payments import services as payment_services
from payments.models import Bill, ProviderNotification
from sandbox.models import ExternalId
from tests.disbursements.conftest import confirmed, sendme  # noqa: F401 - fixtures
from tests.factories import BankDestinationFactory
from tests.payments.conftest import accepted, faspay  # noqa: F401 - fixtures
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db(transaction=True)


def state():
    """What a webhook could change: transactions, bills, notifications kept, the ledger."""
    return {
        "transactions": sorted(EscrowTransaction.objects.values_list("pk", "status", "amount_received")),
        "bills": sorted(Bill.objects.values_list("pk", "status", "flag", "paid_amount", "payment_reference")),
        "notifications": ProviderNotification.objects.count(),
        "ledger": sorted(Posting.objects.values_list("account_id", "side", "amount")),
        "parts": sorted(Disbursement.objects.values_list("pk", "status", "last_response_code")),
    }


# --- Faspay payment notification ---------------------------------------------------------------

def notification(settings, bill, **changes):
    status = str(changes.get("payment_status_code", "2"))
    fields = {
        "request": "Payment Notification", "trx_id": bill.provider_trx_id, "merchant_id": settings.FASPAY_MERCHANT_ID,
        "merchant": settings.FASPAY_MERCHANT_NAME, "bill_no": bill.bill_no, "payment_reff": "REF-1",
        "payment_date": "2026-11-23 10:00:00", "payment_status_code": status,
        "payment_status_desc": "Payment Success", "bill_total": str(bill.amount), "payment_total": str(bill.amount),
        "payment_channel_uid": "702", "payment_channel": "BCA Virtual Account",
        "signature": signing.debit_notification_signature(settings.FASPAY_USER_ID, settings.FASPAY_PASSWORD,
                                                                str(changes.get("bill_no", bill.bill_no)), status),
    }
    fields.update(changes)
    return fields


def xml_of(fields: dict) -> bytes:
    return faspay_protocol.render_notification_reply(fields, faspay_protocol.FORMAT_XML)[0]


def post_notification(live_server, body: bytes, content_type: str, **headers):
    return requests.post(live_server.url + reverse("escrow:faspay_notification"), data=body,
                         headers={"Content-Type": content_type, **headers}, timeout=20)


def response_code(response) -> str:
    if response.headers.get("Content-Type", "").startswith("application/xml"):
        return faspay_protocol.decode_notification(response.content, "application/xml")[1]["response_code"]
    return response.json()["response_code"]


@pytest.fixture
def open_bill(faspay, accepted, buyer):
    bill = payment_services.payment_start(escrow_transaction=accepted, buyer=buyer, channel_code="702")
    # Nothing reaches INTRASA from the sandbox in these tests but what the test posts itself.
    faspay("bill_notification_url", trx_id=bill.provider_trx_id, url="http://127.0.0.1:9/nowhere/")
    return bill


@pytest.mark.parametrize("fmt", ["json", "xml", "form"])
def test_the_sandbox_notifies_in_each_format_and_intrasa_answers_in_it(faspay, accepted, buyer, fmt):
    bill = payment_services.payment_start(escrow_transaction=accepted, buyer=buyer, channel_code="802")
    faspay("bill_notification_format", trx_id=bill.provider_trx_id, format=fmt)
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    [callback] = [c for c in faspay.state()["callbacks"] if c["kind"] == "debit"]
    # Delivered means INTRASA answered 2xx with response_code 00, read in the format that was sent.
    assert callback["format"] == fmt and callback["state"] == "delivered" and callback["attempts"] == 1
    record = ProviderNotification.objects.get()
    assert record.bill_id == bill.pk and record.status_code == "2"
    accepted.refresh_from_db()
    assert accepted.status == Status.VERIFIED


def test_the_configured_format_applies_to_every_bill(faspay, accepted, buyer):
    faspay("config", notification_format="xml")
    bill = payment_services.payment_start(escrow_transaction=accepted, buyer=buyer, channel_code="702")
    faspay("bill_pay", trx_id=bill.provider_trx_id)
    [callback] = [c for c in faspay.state()["callbacks"] if c["kind"] == "debit"]
    assert callback["format"] == "xml" and callback["state"] == "delivered"


@pytest.mark.parametrize("fmt,content_type", [("json", "application/json"), ("xml", "application/xml"),
                                              ("form", "application/x-www-form-urlencoded")])
def test_a_signed_notification_is_accepted_in_each_format_with_the_same_signature(
        live_server, settings, open_bill, fmt, content_type):
    fields = notification(settings, open_bill)
    body = {"json": lambda: json.dumps(fields).encode(), "xml": lambda: xml_of(fields),
            "form": lambda: "&".join(f"{k}={requests.utils.quote(v)}" for k, v in fields.items()).encode()}[fmt]()
    response = post_notification(live_server, body, content_type)
    assert response.status_code == 200 and response_code(response) == "00"
    expected_type = "application/xml" if fmt == "xml" else "application/json"
    assert response.headers["Content-Type"].startswith(expected_type)
    forged = {**fields, "signature": "0" * 40}
    body = xml_of(forged) if fmt == "xml" else json.dumps(forged).encode()
    refused = post_notification(live_server, body, "application/xml" if fmt == "xml" else "application/json")
    assert refused.status_code == 400 and response_code(refused) == "55"


def hostile_notifications(settings, bill):
    """``label → (body, content type, expected HTTP status)``; each is refused and changes nothing."""
    signed = notification(settings, bill)
    as_json = lambda **changes: json.dumps({**signed, **changes}).encode()  # noqa: E731
    entities = (b'<?xml version="1.0"?><!DOCTYPE faspay [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">'
                b'<!ENTITY c "&b;&b;&b;&b;&b;">]><faspay><trx_id>&c;</trx_id></faspay>')
    external = (b'<?xml version="1.0"?><!DOCTYPE faspay [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<faspay><bill_no>&x;</bill_no></faspay>')
    return {
        "4 KB of nested brackets, no credentials": (b"[" * 4096, "application/json", 400),
        "nested objects": (b'{"a":' * 1500 + b"1" + b"}" * 1500, "application/json", 400),
        "a JSON array": (json.dumps([signed]).encode(), "application/json", 400),
        "not UTF-8": (b'{"trx_id": "\xff\xfe"}', "application/json", 400),
        "empty body": (b"", "application/json", 400),
        "a repeated field": (as_json()[:-1] + b', "bill_no": "X"}', "application/json", 400),
        "payment_date as a number": (as_json(payment_date=20261123), "application/json", 400),
        "payment_date not a date": (as_json(payment_date="kemarin"), "application/json", 400),
        "over-long trx_id": (as_json(trx_id="9" * 41), "application/json", 400),
        "over-long payment_status_code": (json.dumps(notification(settings, bill, payment_status_code="22222"))
                                          .encode(), "application/json", 400),
        "bill_no as a list": (as_json(bill_no=[bill.bill_no]), "application/json", 400),
        "trx_id as an object": (as_json(trx_id={"$gt": ""}), "application/json", 400),
        "signature as a list": (as_json(signature=[signed["signature"]]), "application/json", 400),
        "payment_total past bigint": (as_json(payment_total="9" * 30), "application/json", 400),
        "payment_total negative": (as_json(payment_total="-150000"), "application/json", 400),
        "payment_total as a float": (as_json(payment_total=150000.5), "application/json", 400),
        "NUL in bill_no": (as_json(bill_no=bill.bill_no + "\x00"), "application/json", 400),
        "over 16 KB": (as_json(padding="x" * 17_000), "application/json", 413),
        "XML nested 4 KB deep": (b"<faspay>" + b"<a>" * 1000 + b"</a>" * 1000 + b"</faspay>", "application/xml", 400),
        "XML entity expansion": (entities, "application/xml", 400),
        "XML external entity": (external, "application/xml", 400),
        "XML not well formed": (b"<faspay><trx_id>1</faspay>", "application/xml", 400),
        "XML with a nested field": (xml_of(signed).replace(b"<trx_id>", b"<trx_id><x>1</x>"), "application/xml", 400),
        "form with a repeated field": (b"bill_no=A&bill_no=B", "application/x-www-form-urlencoded", 400),
        "form that is not form encoding": (b"bill_no", "application/x-www-form-urlencoded", 400),
        "unsigned": (as_json(signature=""), "application/json", 400),
    }


def test_hostile_notifications_get_faspays_error_and_change_nothing(live_server, settings, open_bill):
    before = state()
    for label, (body, content_type, status) in hostile_notifications(settings, open_bill).items():
        response = post_notification(live_server, body, content_type)
        assert response.status_code == status, (label, response.status_code, response.text[:200])
        assert response_code(response) in ("30", "55"), label
        assert state() == before, label


def test_a_body_announced_larger_than_a_notification_is_not_read(live_server):
    response = requests.post(live_server.url + reverse("escrow:faspay_notification"), data=b"{}" + b" " * 20_000,
                             headers={"Content-Type": "application/json"}, timeout=20)
    assert response.status_code == 413 and response.json()["response_code"] == "30"


def test_replayed_notifications_answer_ok_and_change_nothing_more(live_server, settings, open_bill):
    body = json.dumps(notification(settings, open_bill)).encode()
    assert post_notification(live_server, body, "application/json").status_code == 200
    after_first = state()
    for _ in range(3):
        response = post_notification(live_server, body, "application/json")
        assert response.status_code == 200 and response.json()["response_code"] == "00"
    assert state() == after_first
    assert ProviderNotification.objects.get().deliveries == 4


def test_a_bank_transfer_bill_is_never_moved_by_a_faspay_notification(live_server, settings, faspay, accepted,
                                                                      buyer):
    bill = payment_services.payment_start(escrow_transaction=accepted, buyer=buyer, channel_code="transfer")
    before = state()
    for trx_id in ("1", "1234567890123456"):  # a bank transfer has no trx_id: any used to match
        fields = notification(settings, bill, trx_id=trx_id)
        response = post_notification(live_server, json.dumps(fields).encode(), "application/json")
        assert response.status_code == 404 and response.json()["response_code"] == "14"
    assert state() == before
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PENDING


def test_a_faspay_bill_is_moved_only_under_its_own_trx_id(live_server, settings, open_bill):
    before = state()
    other = notification(settings, open_bill, trx_id="9999999999999999")
    response = post_notification(live_server, json.dumps(other).encode(), "application/json")
    assert response.status_code == 404 and response.json()["response_code"] == "14"
    # A bill INTRASA never posted to Faspay has no trx_id Faspay could name. (One whose Post Data
    # was sent and never answered adopts the trx_id of Faspay's signed notification instead:
    # tests/payments/test_collection_edges.py.)
    Bill.objects.filter(pk=open_bill.pk).update(provider_trx_id="", creation_attempts=0)
    response = post_notification(live_server, json.dumps(notification(settings, open_bill, trx_id="1")).encode(),
                                 "application/json")
    assert response.status_code == 404
    assert state()["transactions"] == before["transactions"] and state()["ledger"] == before["ledger"]


def test_field_limits_fit_the_columns_that_store_them():
    limits = {name: longest for name, (longest, _pattern) in faspay_protocol.NOTIFICATION_FIELDS.items()}

    def column(model, field):
        return model._meta.get_field(field).max_length

    assert limits["trx_id"] <= min(column(ProviderNotification, "trx_id"), column(Bill, "provider_trx_id"))
    assert limits["bill_no"] <= min(column(ProviderNotification, "bill_no"), column(Bill, "bill_no"))
    assert limits["payment_status_code"] <= column(ProviderNotification, "status_code")
    assert limits["payment_reff"] <= column(Bill, "payment_reference")


# --- SendMe callback ---------------------------------------------------------------------------

CALLBACK_PATH = "/pencairan/sendme/callback/"


@pytest.fixture
def pending_part(sendme, confirmed, seller):  # noqa: F811
    """A payout part SendMe accepted and keeps pending (test account 3030303030)."""
    BankDestinationFactory(owner=seller, account_number="3030303030", is_default=True,
                           account_holder_name=seller.full_name, verification="verified")
    confirmed()
    part = Disbursement.objects.get()
    assert part.status not in (Disbursement.Status.SUCCEEDED, Disbursement.Status.FAILED)
    return part


def inquiries_received() -> int:
    """Status inquiries the SendMe sandbox has received (each SNAP call leaves its external id)."""
    return ExternalId.objects.filter(path__contains="status").count()


def faspay_signer():
    return signing.AsymmetricSigner(private_key=keys.dev_key_pair(keys.FASPAY_SANDBOX_KEY_NAME).private_key)


def signed_callback(settings, body, *, timestamp=None, external_id=None, raw=None):
    """Headers and bytes of a callback signed with the key INTRASA verifies (the sandbox's)."""
    timestamp = timestamp or signing.snap_timestamp()
    if raw is None:
        request = signing.build_signed_request(faspay_signer(), method="POST", path=CALLBACK_PATH, body=body,
                                            partner_id=settings.SENDME_PARTNER_ID,
                                            channel_id=settings.SENDME_CHANNEL_ID, external_id=external_id,
                                            timestamp=timestamp)
        return request.headers, request.body
    headers = {"Content-Type": "application/json", "X-TIMESTAMP": timestamp,
               "X-EXTERNAL-ID": external_id or signing.new_external_id(), "X-PARTNER-ID": settings.SENDME_PARTNER_ID,
               "X-SIGNATURE": signing.sign_asymmetric(faspay_signer().private_key, "POST", CALLBACK_PATH, raw, timestamp)}
    return headers, raw


def post_callback(live_server, headers, body):
    return requests.post(live_server.url + CALLBACK_PATH, data=body, headers=headers, timeout=30)


def callback_body(part, reference=None):
    return {"originalPartnerReferenceNo": part.partner_reference_no if reference is None else reference,
            "originalReferenceNo": part.provider_reference_no, "serviceCode": "18", "latestTransactionStatus": "03"}


def test_a_fresh_callback_triggers_one_inquiry_and_its_replays_none(live_server, settings, pending_part):
    headers, body = signed_callback(settings, callback_body(pending_part))
    before = inquiries_received()
    first = post_callback(live_server, headers, body)
    assert first.status_code == 200 and first.json()["responseCode"] == "2000000"
    assert inquiries_received() == before + 1
    for _ in range(3):  # the same bytes again: same answer, nothing asked again
        again = post_callback(live_server, headers, body)
        assert again.status_code == 200 and again.json() == first.json()
    # Re-signed, same X-EXTERNAL-ID: still a replay.
    headers2, body2 = signed_callback(settings, {**callback_body(pending_part), "latestTransactionStatus": "00"},
                                      external_id=headers["X-EXTERNAL-ID"])
    assert post_callback(live_server, headers2, body2).status_code == 200
    assert inquiries_received() == before + 1
    # A new delivery (another status, so another signature even within the same second; a new
    # external id) is a new hint.
    headers3, body3 = signed_callback(settings, {**callback_body(pending_part), "latestTransactionStatus": "06"})
    assert post_callback(live_server, headers3, body3).status_code == 200
    assert inquiries_received() == before + 2


def hostile_callbacks(settings, part):
    now = dt.datetime.now(signing.WIB)
    good = callback_body(part)

    def stamp(moment):
        return signing.snap_timestamp(moment)

    return {
        "timestamp in 2019": (signed_callback(settings, good, timestamp="2019-01-01T10:00:00+07:00"), 401),
        "timestamp yesterday": (signed_callback(settings, good, timestamp=stamp(now - dt.timedelta(days=1))), 401),
        "timestamp 6 minutes old": (signed_callback(settings, good, timestamp=stamp(now - dt.timedelta(minutes=6))),
                                    401),
        "timestamp 6 minutes ahead": (signed_callback(settings, good,
                                                      timestamp=stamp(now + dt.timedelta(minutes=6))), 401),
        "timestamp 'yesterday'": (signed_callback(settings, good, timestamp="yesterday"), 401),
        "timestamp '2019'": (signed_callback(settings, good, timestamp="2019"), 401),
        "timestamp at the end of time": (signed_callback(settings, good, timestamp="9999-12-31T23:59:59-23:59"), 401),
        "deeply nested body": (signed_callback(settings, None, raw=b"[" * 5000 + b"]" * 5000), 400),
        "nested objects": (signed_callback(settings, None, raw=b'{"a":' * 1500 + b"1" + b"}" * 1500), 400),
        "not JSON": (signed_callback(settings, None, raw=b"<xml/>"), 400),
        "not UTF-8": (signed_callback(settings, None, raw=b'{"originalPartnerReferenceNo": "\xff"}'), 400),
        "a JSON array": (signed_callback(settings, None, raw=json.dumps([good]).encode()), 400),
        "reference as a list": (signed_callback(settings, callback_body(part, [part.partner_reference_no])), 400),
        "reference as an object": (signed_callback(settings, callback_body(part, {"$ne": ""})), 400),
        "reference too long": (signed_callback(settings, callback_body(part, "9" * 65)), 400),
        "over 16 KB": (signed_callback(settings, {**good, "padding": "x" * 17_000}), 400),
        "unknown reference": (signed_callback(settings, callback_body(part, "INT-NOT-OURS-1")), 404),
    }


def test_hostile_callbacks_get_a_snap_error_and_ask_nothing(live_server, settings, pending_part):
    before, inquiries = state(), inquiries_received()
    for label, ((headers, body), status) in hostile_callbacks(settings, pending_part).items():
        response = post_callback(live_server, headers, body)
        assert response.status_code == status, (label, response.status_code, response.text[:200])
        assert response.json()["responseCode"].startswith(str(status)), label
        assert inquiries_received() == inquiries and state() == before, label
    headers, body = signed_callback(settings, callback_body(pending_part))
    for forged in ({**headers, "X-SIGNATURE": "AAAA"}, {**headers, "X-SIGNATURE": "x" * 5000},
                   {k: v for k, v in headers.items() if k != "X-SIGNATURE"}):
        assert post_callback(live_server, forged, body).status_code == 401
    assert inquiries_received() == inquiries and state() == before


def test_the_timestamp_window_is_a_setting(live_server, settings, pending_part):
    settings.SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS = 60
    two_minutes_ago = signing.snap_timestamp(dt.datetime.now(signing.WIB) - dt.timedelta(minutes=2))
    headers, body = signed_callback(settings, callback_body(pending_part), timestamp=two_minutes_ago)
    assert post_callback(live_server, headers, body).status_code == 401
    settings.SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS = 300
    headers, body = signed_callback(settings, callback_body(pending_part), timestamp=two_minutes_ago)
    assert post_callback(live_server, headers, body).status_code == 200


@pytest.mark.parametrize("key_path", ["", "missing.pem", "garbage.pem"])
def test_a_missing_or_broken_faspay_key_refuses_callbacks_cleanly(live_server, settings, pending_part, tmp_path,
                                                                  key_path):
    (tmp_path / "garbage.pem").write_text("-----BEGIN PUBLIC KEY-----\nbm9wZQ==\n-----END PUBLIC KEY-----\n")
    headers, body = signed_callback(settings, callback_body(pending_part))
    settings.FASPAY_SANDBOX_ENABLED = False  # production: no development key to fall back on
    settings.DEBUG = False
    settings.SENDME_FASPAY_PUBLIC_KEY_PATH = str(tmp_path / key_path) if key_path else ""
    keys.clear_key_cache()
    inquiries = inquiries_received()
    response = post_callback(live_server, headers, body)
    assert response.status_code == 401 and response.json()["responseCode"] == "4010000"
    assert inquiries_received() == inquiries
