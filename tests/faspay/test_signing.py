"""SNAP and legacy Faspay signatures: fixed vectors, round trips, tamper detection, key loading.

Vector provenance is in tests/data/README.md (openssl CLI, and Midtrans's published demo).
"""
import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from faspay import keys, signing

DATA = Path(__file__).resolve().parent.parent / "data"
PKCS1 = (DATA / "test-only-merchant-key.pkcs1.pem").read_bytes()
PKCS8 = (DATA / "test-only-merchant-key.pkcs8.pem").read_bytes()
PUBLIC = (DATA / "test-only-merchant-key.public.pem").read_bytes()
MIDTRANS_DEMO = (DATA / "midtrans-published-demo-key.pkcs8.pem").read_bytes()

BODY = {"partnerReferenceNo": "TRX-0001", "amount": {"value": "10000.00", "currency": "IDR"},
        "beneficiaryAccountNo": "60004400184", "beneficiaryBankCode": "008"}
BODY_SHA256 = "6c325455dbd4b3f4630a3a4ebc747bfc6848f2a277bcc4593639522b43bfcc22"
PATH = "/account/v1.0/transfer-interbank"
TIMESTAMP = "2026-06-12T14:00:00+07:00"
# openssl dgst -sha256 -sign test-only-merchant-key.pkcs8.pem | base64
RSA_VECTOR = (
    "Q5u/wuXPPaErPy72BLl5vZ8bUEy1YTZImVSubyO5MTTHWhhanOeWy4vkKbViIbQBGzGH5wNOILAjs/hs9y2v4gAtJI7EMyrj"
    "HG59dA6v3OjoE0vxhKUjXv+Ts2c77PHzwfRTkt/mE1B/3APQhy2rvH2m8ROgN1eEIVk96sNDREjJtPM3DJR+OSk9IP7pPSoa"
    "Kjo1gODaQCK0Icjv8COzsidwtPi+RCIrzAZgfLKd15aVtbIM88WYmCl6X9IxfwCesGFACnjwZ7OFDgb+uUnajegM1MpnuTXD"
    "UebKFXjLKjOR9qfa9CSrGj+0ITna//n9uMKfY4JkH4PU/ghfQZiCzA=="
)
# openssl dgst -sha512 -hmac client-secret-test -binary | base64
HMAC_VECTOR = "HHacnB/7HrGD1YVLZzxd5mgUP4/EXjPfFEh9h+lWB46RfoJXwPj9t+4oUGNHut2kwD2udlQ4P+0vJOndn5lPpg=="


@pytest.fixture
def private_key():
    return signing.load_private_key(PKCS8)


@pytest.fixture
def public_key():
    return signing.load_public_key(PUBLIC)


# --- minify, timestamp, external id ----------------------------------------------------------

def test_minify_is_compact_utf8_and_keeps_key_order():
    assert signing.minify_body({"b": 1, "a": {"x": "Ã©"}}) == '{"b":1,"a":{"x":"Ã©"}}'.encode()
    assert signing.minify_body({"name": "Sari Ñ"}) == '{"name":"Sari Ñ"}'.encode("utf-8")
    assert signing.minify_body(None) == b""
    assert signing.body_digest(signing.minify_body(BODY)) == BODY_SHA256


def test_timestamp_is_wib_with_offset():
    instant = dt.datetime(2026, 6, 12, 7, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert signing.snap_timestamp(instant) == TIMESTAMP
    assert signing.parse_snap_timestamp(TIMESTAMP) == instant.replace(microsecond=0)
    assert signing.parse_snap_timestamp("2026-06-12T07:00:00Z") == instant.replace(microsecond=0)
    with pytest.raises(ValueError):
        signing.parse_snap_timestamp("2026-06-12T14:00:00")
    with pytest.raises(ValueError):
        signing.snap_timestamp(dt.datetime(2026, 6, 12))


def test_external_ids_are_numeric_short_and_unique():
    ids = {signing.new_external_id("99999") for _ in range(5000)}
    assert len(ids) == 5000
    assert all(i.isdigit() and len(i) <= 36 for i in ids)
    assert signing.new_external_id("abc").isdigit()


# --- asymmetric (Faspay) ---------------------------------------------------------------------

def test_asymmetric_fixed_vector(private_key, public_key):
    body = signing.minify_body(BODY)
    assert signing.asymmetric_string_to_sign("post", PATH, body, TIMESTAMP) == f"POST:{PATH}:{BODY_SHA256}:{TIMESTAMP}"
    assert signing.sign_asymmetric(private_key, "POST", PATH, body, TIMESTAMP) == RSA_VECTOR
    assert signing.verify_asymmetric(public_key, "POST", PATH, body, TIMESTAMP, RSA_VECTOR)


def test_pkcs1_and_pkcs8_keys_sign_identically():
    pkcs1, pkcs8 = signing.load_private_key(PKCS1), signing.load_private_key(PKCS8.decode())
    body = signing.minify_body(BODY)
    assert signing.sign_asymmetric(pkcs1, "POST", PATH, body, TIMESTAMP) == RSA_VECTOR
    assert signing.sign_asymmetric(pkcs8, "POST", PATH, body, TIMESTAMP) == RSA_VECTOR
    # and the PEM writers round-trip both formats
    assert b"BEGIN RSA PRIVATE KEY" in signing.private_key_pem(pkcs8, pkcs1=True)
    assert signing.load_public_key(signing.public_key_pem(pkcs1.public_key())).public_numbers() == \
        signing.load_public_key(PUBLIC).public_numbers()


def test_public_key_in_pkcs1_form_is_accepted(private_key):
    from cryptography.hazmat.primitives import serialization

    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    assert b"BEGIN RSA PUBLIC KEY" in pem
    key = signing.load_public_key(pem)
    assert signing.verify_asymmetric(key, "POST", PATH, signing.minify_body(BODY), TIMESTAMP, RSA_VECTOR)


@pytest.mark.parametrize("change", ["body", "path", "timestamp", "method", "signature"])
def test_tampering_breaks_verification(private_key, public_key, change):
    body = signing.minify_body(BODY)
    signature = signing.sign_asymmetric(private_key, "POST", PATH, body, TIMESTAMP)
    args = {"method": "POST", "path": PATH, "body": body, "timestamp": TIMESTAMP, "signature": signature}
    if change == "body":
        args["body"] = body.replace(b"10000.00", b"10001.00")
        assert len(args["body"]) == len(body)  # exactly one byte differs
    elif change == "path":
        args["path"] = PATH.replace("interbank", "interbanK")
    elif change == "timestamp":
        args["timestamp"] = TIMESTAMP.replace(":00+", ":01+")
    elif change == "method":
        args["method"] = "PUT"
    else:
        args["signature"] = signature[:-4] + ("AAA=" if not signature.endswith("AAA=") else "BBB=")
    assert not signing.verify_asymmetric(public_key, args["method"], args["path"], args["body"],
                                      args["timestamp"], args["signature"])


def test_garbage_signatures_do_not_raise(public_key):
    for junk in ["", "not base64!!", "QUJD", None]:
        assert not signing.verify_asymmetric(public_key, "POST", PATH, b"", TIMESTAMP, junk)


def test_wrong_key_does_not_verify():
    other = keys.generate_key_pair()
    body = signing.minify_body(BODY)
    assert not signing.verify_asymmetric(other.public_key, "POST", PATH, body, TIMESTAMP, RSA_VECTOR)


def test_asymmetric_signer_and_request_builder(private_key, public_key):
    signer = signing.AsymmetricSigner(private_key=private_key)
    request = signing.build_signed_request(signer, method="post", path=PATH, body=BODY, partner_id="99999",
                                        channel_id="88001", timestamp=TIMESTAMP, external_id="123")
    assert request.body == signing.minify_body(BODY)
    assert request.headers == {
        "Content-Type": "application/json", "X-PARTNER-ID": "99999", "X-EXTERNAL-ID": "123",
        "CHANNEL-ID": "88001", "X-TIMESTAMP": TIMESTAMP, "X-SIGNATURE": RSA_VECTOR,
    }
    fresh = signing.build_signed_request(signer, method="POST", path=PATH, body=BODY, partner_id="99999",
                                      channel_id="88001")
    assert signing.verify_asymmetric(public_key, "POST", PATH, fresh.body, fresh.headers["X-TIMESTAMP"],
                                  fresh.headers["X-SIGNATURE"])
    assert fresh.headers["X-EXTERNAL-ID"].isdigit()


def test_midtrans_published_asymmetric_notification_vector():
    """Midtrans's sample: ``POST:/v1.0/debit/notify:hex(sha256(body)):ts`` — the Faspay recipe."""
    key = signing.load_private_key(MIDTRANS_DEMO)
    body = {"createdTime": "2020-01-01T00:00:00+07:00", "latestTransactionStatus": "00",
            "originalReferenceNo": "gopayOrderId", "finishedTime": "2020-01-02T00:00:00+07:00",
            "originalPartnerReferenceNo": "merchant-order-id", "transactionStatusDesc": "desc",
            "originalExternalId": "merchant-order-id",
            "additionalInfo": {"payOptionDetails": [{"payMethod": "GOPAY", "payOption": "GOPAY_WALLET"}],
                               "fraudStatus": "accept",
                               "refundHistory": [{"refundNo": "96194816941239812",
                                                  "partnerReferenceNo": "239850918204981205970",
                                                  "refundAmount": {"value": "12345678.00", "currency": "IDR"},
                                                  "refundStatus": "00", "refundDate": "2020-12-23T07:44:16+07:00",
                                                  "reason": "Customer Complain"}],
                               "validUpTo": "2021-01-01T00:00:00+07:00"}}
    signature = signing.sign_asymmetric(key, "POST", "/v1.0/debit/notify", signing.minify_body(body),
                                     "2024-03-05T10:37:16.196Z")
    assert signature == (
        "eUGsomFLNsjWzehgGsa317MqcVOgscay/Hml8yNmOsFhmoBM7pso+UPDgSe34anXvecSQkf5NOr0fbr8k9qdyyoWiYX7DTq/"
        "Wnz8XC0cRCCbNZfyLIyF33HO9cnvxOcRQq9DuWlQtld+uEluuivVdN2TiaWLpUTmfB/H7noZnXWWDj6FYa4n5kSo4o3aTeF"
        "YAF9EmLp0Tcsl8CiHSQCrQnIbB8M2+puLwyJ1l2OocvZ5qgjf5f2DqlCbemsSMzYzjN+YMrb0kiDx0TiW5UTk+WZass43xI"
        "fb3vdrlX+U2JSk5YsJ8lFpp9F+7FId4cyncElNFEbt3zWuP4iDzXteCg=="
    )


# --- symmetric (BI B2B token + HMAC-SHA512) --------------------------------------------------

def test_symmetric_fixed_vector():
    body = signing.minify_body(BODY)
    assert signing.sign_symmetric("client-secret-test", "POST", PATH, "tok-123", body, TIMESTAMP) == HMAC_VECTOR
    assert signing.verify_symmetric("client-secret-test", "POST", PATH, "tok-123", body, TIMESTAMP, HMAC_VECTOR)
    assert not signing.verify_symmetric("client-secret-test", "POST", PATH, "tok-124", body, TIMESTAMP, HMAC_VECTOR)
    assert not signing.verify_symmetric("other-secret", "POST", PATH, "tok-123", body, TIMESTAMP, HMAC_VECTOR)


def test_symmetric_signer_headers_and_token_callable():
    calls = []

    def token():
        calls.append(1)
        return "tok-123"

    signer = signing.SymmetricSigner(client_secret="client-secret-test", access_token=token)
    headers = signer.sign_request("POST", PATH, signing.minify_body(BODY), TIMESTAMP)
    assert headers == {"Authorization": "Bearer tok-123", "X-TIMESTAMP": TIMESTAMP, "X-SIGNATURE": HMAC_VECTOR}
    assert calls == [1]


def test_midtrans_published_symmetric_vector():
    body = {"partnerReferenceNo": "2020102900000000000001",
            "amount": {"value": "12345678.00", "currency": "IDR"},
            "feeAmount": {"value": "12345678.00", "currency": "IDR"},
            "merchantId": "00007100010926", "terminalId": "213141251124",
            "validityPeriod": "2009-07-03T12:08:56-07:00"}
    signer = signing.SymmetricSigner(client_secret="myclientsecret", access_token="myaccesstoken")
    headers = signer.sign_request("POST", "/v1.0/qr/qr-mpm-generate", signing.minify_body(body),
                                  "2024-03-05T10:37:16.196Z")
    assert headers["X-SIGNATURE"] == (
        "wmzT7yjg1SxxCsxNsFgCR9SYXiZGGbceF6fV8xe97sAMHxZ+7OEBMIBmvb6Sj6GcksGp3iv77DiomgSbcST3XQ==")


def test_midtrans_published_b2b_token_vector():
    key = signing.load_private_key(MIDTRANS_DEMO)
    signature = signing.sign_b2b_token_request(key, "G1234325-SNAP", "2024-03-01T08:27:49.024Z")
    assert signature == (
        "WzW49tYIgKIBmBi/gVBHGLAkhEaZlXM11zcZxAiyHji6TLPjPbwLu3Z45it25AIeG0XDItcdTSkds47zFEMh6IP0PXPIP1+"
        "Ey4RmX/o2fuYRF/xBHvfvKnMmANMTS1axsXBSW3EHqYpbVrkCcqNnB3u+wu63us9WIhRZaWgxgQ2PJLaiVHIwgu9u7jxkWX"
        "7Bg4rerZH3RKdQfIJAAJsSN13efR7VdSAyzU7QaKjgislxrLqmesYNJkbD03XLjHdo6YWuzAVV7xdZRpLiGkIAkW7luXTBZ"
        "YBO+4oENZAPQYzrLeN1qRY1Sr7BgLONCA2QA26BB6SYW4R7qofS9+RyOQ=="
    )
    assert signing.verify_b2b_token_request(key.public_key(), "G1234325-SNAP", "2024-03-01T08:27:49.024Z", signature)
    assert not signing.verify_b2b_token_request(key.public_key(), "G1234325-SNAP", "2024-03-01T08:27:50.024Z",
                                             signature)


class _FakeResponse:
    def __init__(self, status, payload):
        self.status_code, self._payload = status, payload

    def json(self):
        return self._payload


class _FakeSession:
    def __init__(self, responses):
        self.responses, self.calls = list(responses), []

    def post(self, url, data, headers, timeout):
        self.calls.append({"url": url, "data": data, "headers": headers, "timeout": timeout})
        return self.responses.pop(0)


def test_b2b_token_provider_signs_caches_and_renews(private_key, public_key):
    now = [1000.0]
    session = _FakeSession([_FakeResponse(200, {"accessToken": "t1", "expiresIn": 900}),
                            _FakeResponse(200, {"accessToken": "t2", "expiresIn": 900})])
    provider = signing.B2BAccessTokenProvider(session=session, base_url="https://psp.example/", client_id="cid",
                                           private_key=private_key, timeout=5, clock=lambda: now[0])
    assert provider() == "t1" and provider() == "t1"
    assert len(session.calls) == 1
    call = session.calls[0]
    assert call["url"] == "https://psp.example/v1.0/access-token/b2b"
    assert call["timeout"] == 5
    assert json.loads(call["data"]) == {"grantType": "client_credentials"}
    assert signing.verify_b2b_token_request(public_key, "cid", call["headers"]["X-TIMESTAMP"],
                                         call["headers"]["X-SIGNATURE"])
    now[0] += 900 - 59  # inside the refresh margin
    assert provider() == "t2"


def test_b2b_token_provider_reports_refusal(private_key):
    session = _FakeSession([_FakeResponse(401, {"responseCode": "4017300", "responseMessage": "Unauthorized"})])
    provider = signing.B2BAccessTokenProvider(session=session, base_url="https://psp.example", client_id="cid",
                                           private_key=private_key, timeout=5)
    with pytest.raises(signing.AccessTokenError, match="4017300"):
        provider()


# --- legacy Faspay Debit ---------------------------------------------------------------------

def test_legacy_debit_signatures_fixed_vectors():
    # printf '%s' bot99999sandbox-passwordINV-0001 | md5sum | ... | sha1sum
    assert signing.debit_request_signature("bot99999", "sandbox-password", "INV-0001") == \
        "71480792a26d0a505b629408b8f1b7a77e9b569a"
    assert signing.debit_notification_signature("bot99999", "sandbox-password", "INV-0001", 2) == \
        "17b660558aeb51c2c51ec4878d267093d5e902f2"
    assert signing.debit_notification_signature("bot99999", "sandbox-password", "INV-0001", "2") == \
        "17b660558aeb51c2c51ec4878d267093d5e902f2"


def test_legacy_signature_compare():
    expected = signing.debit_request_signature("u", "p", "b")
    assert signing.signatures_match(expected, expected.upper())
    assert not signing.signatures_match(expected, "")
    assert not signing.signatures_match(expected, None)
    assert signing.channel_inquiry_signature("u", "p") == signing.legacy_signature("up")


# --- key material ----------------------------------------------------------------------------

@pytest.fixture
def fresh_keys(settings, tmp_path):
    keys.clear_key_cache()
    settings.SNAP_DEV_KEY_DIR = str(tmp_path / "keys")
    settings.SENDME_PRIVATE_KEY_PATH = ""
    settings.SENDME_PUBLIC_KEY_PATH = ""
    yield tmp_path / "keys"
    keys.clear_key_cache()


def test_dev_key_pair_is_generated_once_and_reused(settings, fresh_keys):
    settings.DEBUG = True
    first = keys.merchant_key_pair()
    assert (fresh_keys / "sendme-merchant-private.pem").stat().st_mode & 0o777 == 0o600
    assert (fresh_keys / "sendme-merchant-public.pem").exists()
    assert first.private_key.key_size == 2048
    keys.clear_key_cache()
    again = keys.merchant_key_pair()
    assert again.public_key.public_numbers() == first.public_key.public_numbers()
    assert keys.merchant_public_key().public_numbers() == first.public_key.public_numbers()


def test_sandbox_enabled_also_allows_dev_keys(settings, fresh_keys):
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = True
    assert keys.merchant_key_pair().private_key.key_size == 2048


def test_production_without_keys_is_improperly_configured(settings, fresh_keys):
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = False
    with pytest.raises(ImproperlyConfigured, match="SENDME_PRIVATE_KEY_PATH"):
        keys.merchant_key_pair()
    with pytest.raises(ImproperlyConfigured):
        keys.faspay_public_key()
    assert not fresh_keys.exists()


def test_configured_key_files_are_used(settings, fresh_keys):
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = False
    settings.SENDME_PRIVATE_KEY_PATH = str(DATA / "test-only-merchant-key.pkcs1.pem")
    settings.SENDME_PUBLIC_KEY_PATH = str(DATA / "test-only-merchant-key.public.pem")
    signer = keys.default_signer()
    headers = signer.sign_request("POST", PATH, signing.minify_body(BODY), TIMESTAMP)
    assert headers["X-SIGNATURE"] == RSA_VECTOR
    settings.SENDME_PRIVATE_KEY_PATH = ""
    keys.clear_key_cache()
    # the verifying side may hold only the public key
    assert keys.merchant_public_key().public_numbers() == signing.load_public_key(PUBLIC).public_numbers()


def test_mismatched_key_files_are_refused(settings, fresh_keys, tmp_path):
    other = tmp_path / "other.pem"
    other.write_bytes(keys.generate_key_pair().public_pem)
    settings.SENDME_PRIVATE_KEY_PATH = str(DATA / "test-only-merchant-key.pkcs8.pem")
    settings.SENDME_PUBLIC_KEY_PATH = str(other)
    with pytest.raises(ImproperlyConfigured, match="does not belong"):
        keys.merchant_key_pair()
