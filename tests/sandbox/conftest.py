"""Fixtures for talking to the sandbox over real HTTP on loopback (pytest-django live_server)."""
from pathlib import Path

import pytest
import requests

from faspay import keys, signing
from tests.sandbox_control import operator_auth

from . import urls as receiver_urls

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(autouse=True)
def sandbox_settings(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    settings.SENDME_PRIVATE_KEY_PATH = str(DATA / "test-only-merchant-key.pkcs8.pem")
    settings.SENDME_PUBLIC_KEY_PATH = str(DATA / "test-only-merchant-key.public.pem")
    settings.SNAP_DEV_KEY_DIR = str(tmp_path / "keys")
    settings.FASPAY_SANDBOX_ENABLED = True
    keys.clear_key_cache()
    receiver_urls.reset_receiver()
    yield settings
    keys.clear_key_cache()


@pytest.fixture
def received():
    return receiver_urls.RECEIVED


@pytest.fixture
def fail_next():
    return receiver_urls.FAIL_NEXT


class SendMe:
    """A minimal SNAP client as INTRASA's would be: one Session, explicit timeouts, signed bytes."""

    def __init__(self, base_url, settings):
        self.base_url = base_url
        self.settings = settings
        self.session = requests.Session()
        self.signer = signing.AsymmetricSigner(private_key=signing.load_private_key(
            (DATA / "test-only-merchant-key.pkcs8.pem").read_bytes()))

    def call(self, operation, body, *, timeout=10, headers=None, path=None, signer=None, raw_body=None):
        request = signing.build_signed_request(
            signer or self.signer, method="POST", path=path or f"/account/v1.0/{operation}", body=body,
            partner_id=self.settings.SENDME_PARTNER_ID, channel_id=self.settings.SENDME_CHANNEL_ID)
        sent_headers = {**request.headers, **(headers or {})}
        return self.session.post(f"{self.base_url}/sandbox/sendme/account/v1.0/{operation}",
                                 data=raw_body if raw_body is not None else request.body,
                                 headers=sent_headers, timeout=timeout)

    def transfer_body(self, ref, amount="10000.00", account="60004400184", bank="008", callback=None):
        return {"partnerReferenceNo": ref, "amount": {"value": amount, "currency": "IDR"},
                "beneficiaryAccountName": "Sari Penjual", "beneficiaryAccountNo": account,
                "beneficiaryBankCode": bank, "beneficiaryEmail": "sari@example.co.id",
                "sourceAccountNo": self.settings.SENDME_SOURCE_ACCOUNT,
                "transactionDate": signing.snap_timestamp(),
                "additionalInfo": {"instructDate": "", "transactionDescription": "Pencairan INV-1",
                                   "callbackUrl": callback or ""}}

    def topup_body(self, ref, number="081234567890", amount="10000.00", platform="gpy", callback=None):
        return {"partnerReferenceNo": ref, "customerNumber": number,
                "amount": {"value": amount, "currency": "IDR"}, "transactionDate": signing.snap_timestamp(),
                "additionalInfo": {"sourceAccount": self.settings.SENDME_SOURCE_ACCOUNT, "platformCode": platform,
                                   "instructDate": "", "beneficiaryEmail": "", "transactionDescription": "Refund",
                                   "callbackUrl": callback or ""}}

    def transfer_status(self, ref, reference_no=""):
        return self.call("transfer/status", {"originalPartnerReferenceNo": ref,
                                             "originalReferenceNo": reference_no, "serviceCode": "18"})


class Control:
    def __init__(self, base_url):
        self.url = f"{base_url}/sandbox/control/api"

    def __call__(self, action, **data):
        response = requests.post(self.url, json={"action": action, **data}, timeout=10, auth=operator_auth())
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def state(self):
        return requests.get(self.url, timeout=10, auth=operator_auth()).json()


class Debit:
    def __init__(self, base_url, settings):
        self.base_url = base_url
        self.settings = settings

    def signature(self, bill_no):
        return signing.debit_request_signature(self.settings.FASPAY_USER_ID, self.settings.FASPAY_PASSWORD,
                                                     bill_no)

    def post(self, operation, payload, timeout=10):
        return requests.post(f"{self.base_url}/sandbox/debit/cvr/{operation}/10", json=payload, timeout=timeout)

    def create_bill(self, bill_no, *, channel="702", total="150000", expired=None, **extra):
        payload = {"request": "Post Data Transaction", "merchant_id": self.settings.FASPAY_MERCHANT_ID,
                   "merchant": self.settings.FASPAY_MERCHANT_NAME, "bill_no": bill_no, "bill_reff": bill_no,
                   "bill_date": "2026-06-12 10:00:00", "bill_desc": "Escrow INV", "bill_currency": "IDR",
                   "bill_gross": total, "bill_miscfee": "0", "bill_total": total, "payment_channel": channel,
                   "pay_type": "1", "cust_no": "1", "cust_name": "Budi <b>Pembeli</b>", "msisdn": "081234567890",
                   "email": "budi@example.co.id", "terminal": "10", "item": [],
                   "signature": self.signature(bill_no), **extra}
        if expired:
            payload["bill_expired"] = expired
        return self.post(300011, payload)


@pytest.fixture
def sendme(live_server, settings):
    client = SendMe(live_server.url, settings)
    yield client
    # A kept-alive socket keeps its server thread, and that thread's database connection, alive.
    client.session.close()


@pytest.fixture
def control(live_server):
    return Control(live_server.url)


@pytest.fixture
def debit(live_server, settings):
    return Debit(live_server.url, settings)
