"""The clients over a scripted session (no network): one request per call with an explicit
timeout, no hidden retry, the protocol's paths, and every unusable answer a typed error."""
import datetime as dt
import json

import pytest
import requests

from faspay import debit, keys, sendme, signing, urls
from faspay.errors import FaspayRejected, FaspayUnavailable, MalformedAnswer
from faspay.results import TransferResult

WIB = signing.WIB
_dumps = json.dumps  # ``json`` is also the name of requests' keyword below


class ScriptedSession(requests.Session):
    """Answers every POST with the next scripted (status, body) or raises the scripted error."""

    def __init__(self, *answers):
        super().__init__()
        self.answers = list(answers)
        self.sent = []

    def post(self, url, data=None, json=None, **kwargs):  # noqa: A002 - requests' own signature
        self.sent.append({"url": url, "data": data, "json": json, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response.reason = "Scripted"
        response._content = body if isinstance(body, bytes) else _dumps(body).encode()
        return response


def debit_client(*answers, scale=1):
    return debit.FaspayDebitClient(base_url="https://debit.example/", merchant_id="99999", merchant_name="INTRASA",
                                   user_id="bot99999", password="secret", timeout=7.5, amount_scale=scale,
                                   session=ScriptedSession(*answers))


def sendme_client(*answers):
    return sendme.SendMeClient(base_url="https://sendme.example", partner_id="99999", channel_id="88001",
                               source_account="9920017573",
                               signer=signing.AsymmetricSigner(private_key=keys.generate_key_pair().private_key),
                               timeout=4.0, session=ScriptedSession(*answers))


BILL = debit.BillRequest(
    bill_no="INV1", bill_description="Sepatu", amount=125_000, channel_code="802",
    expires_at=dt.datetime(2026, 11, 29, 10, 0, tzinfo=WIB), customer_number="7", customer_name="Budi",
    customer_email="budi@example.com", customer_phone="+6281234567890", item_name="Sepatu",
    created_at=dt.datetime(2026, 11, 28, 10, 0, tzinfo=WIB))


# --- Debit --------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1, 100])
def test_create_bill_sends_the_codec_amount_to_the_post_data_path(scale):
    client = debit_client((200, {"response_code": "00", "trx_id": "T1", "bill_no": "INV1",
                                 "redirect_url": "https://pay"}), scale=scale)
    created = client.create_bill(BILL)
    [sent] = client.session.sent
    assert sent["url"] == "https://debit.example" + urls.DEBIT_POST_DATA and sent["timeout"] == 7.5
    assert sent["json"]["bill_total"] == sent["json"]["bill_gross"] == str(125_000 * scale)
    assert sent["json"]["signature"] == signing.debit_request_signature("bot99999", "secret", "INV1")
    assert (created.trx_id, created.bill_no, created.redirect_url) == ("T1", "INV1", "https://pay")


def test_inquiry_reads_a_typed_status():
    client = debit_client((200, {"response_code": "00", "trx_id": "T1", "payment_status_code": "2",
                                 "payment_status_desc": "Sukses", "payment_reff": "R9",
                                 "payment_date": "2026-11-28 10:05:00", "payment_total": "125000.00"}))
    status = client.inquiry(trx_id="T1", bill_no="INV1")
    assert (status.status_code, status.paid_amount, status.payment_reference) == ("2", 125_000, "R9")
    assert status.paid_at == dt.datetime(2026, 11, 28, 10, 5, tzinfo=WIB)
    assert client.session.sent[0]["url"].endswith(urls.DEBIT_INQUIRY)


@pytest.mark.parametrize("body", [
    {"response_code": "00", "payment_status_code": "2", "payment_total": "125000.50"},
    {"response_code": "00", "payment_status_code": "2", "payment_total": "seratus"},
    {"response_code": "00", "payment_status_code": {"code": "2"}},
    {"response_code": "00", "payment_status_code": "2", "payment_date": "28/11/2026"},
    {"response_code": "00", "payment_status_code": "2", "payment_date": 20261128},
    {"response_code": "00", "payment_reff": ["R9"]},
    {"response_code": ["00"]},
    {"payment_status_code": "2"},
    [],
])
def test_malformed_inquiry_answers_are_a_typed_error(body):
    with pytest.raises(MalformedAnswer):
        debit_client((200, body)).inquiry(trx_id="T1", bill_no="INV1")


def test_a_payment_total_that_is_not_whole_rupiah_at_the_scale_is_refused():
    with pytest.raises(MalformedAnswer):
        debit_client((200, {"response_code": "00", "payment_total": "12500050"}), scale=100).inquiry(
            trx_id="T1", bill_no="INV1")


@pytest.mark.parametrize("answer", [(502, {"response_code": "00"}), (200, b"<html>"), (200, b""),
                                    requests.ConnectTimeout("slow"), requests.ConnectionError("down")])
def test_no_usable_debit_answer_is_unavailable_after_one_request(answer):
    client = debit_client(answer)
    with pytest.raises(FaspayUnavailable):
        client.inquiry(trx_id="T1", bill_no="INV1")
    assert len(client.session.sent) == 1  # no hidden retry


def test_a_debit_refusal_carries_its_code():
    with pytest.raises(FaspayRejected) as refused:
        debit_client((200, {"response_code": "81", "response_desc": "Already paid"})).create_bill(BILL)
    assert (refused.value.code, refused.value.description) == ("81", "Already paid")


def _notification(client, **fields):
    payload = {"request": "Payment Notification", "trx_id": "T1", "merchant_id": "99999", "bill_no": "INV1",
               "payment_status_code": "2", "payment_date": "2026-11-28 10:05:00", **fields}
    payload["signature"] = signing.debit_notification_signature("bot99999", "secret", "INV1", "2")
    return client.parse_notification(payload)


def test_notification_amounts_go_through_the_codec():
    notification = _notification(debit_client(scale=100), bill_total="12500000", payment_total="12500000.00")
    assert (notification.bill_total, notification.paid_amount) == (125_000, 125_000)


@pytest.mark.parametrize("amount", ["125000.50", "12500050"])
def test_notification_with_a_fraction_of_a_rupiah_is_refused_not_rounded(amount):
    with pytest.raises(debit.InvalidNotification) as refused:
        _notification(debit_client(scale=100 if "." not in amount else 1), payment_total=amount)
    assert refused.value.code == "30"


# --- SendMe -------------------------------------------------------------------------------------

def test_transfer_signs_and_sends_the_same_bytes_to_the_signed_path():
    client = sendme_client((200, {"responseCode": "2001800", "responseMessage": "Successful", "referenceNo": "R1",
                                  "additionalInfo": {"latestTransactionStatus": "03"}}))
    result = client.transfer_interbank(partner_reference_no="DSB1", amount=1_250_000, account_name="Budi",
                                       account_number="60004400184", bank_code="008", email="b@example.com",
                                       description="Payout", transaction_date="2026-11-28T10:00:00+07:00",
                                       callback_url="https://intrasa.example/pencairan/sendme/callback/")
    assert isinstance(result, TransferResult) and result.latest_status == "03" and result.reference_no == "R1"
    [sent] = client.session.sent
    assert sent["url"] == "https://sendme.example" + urls.SENDME_TRANSFER_INTERBANK and sent["timeout"] == 4.0
    body = json.loads(sent["data"])
    assert body["amount"] == {"value": "1250000.00", "currency": "IDR"}
    public_key = client.signer.private_key.public_key()
    assert signing.verify_asymmetric(public_key, "POST", urls.SENDME_TRANSFER_INTERBANK, sent["data"],
                                     sent["headers"]["X-TIMESTAMP"], sent["headers"]["X-SIGNATURE"])


@pytest.mark.parametrize(("topup", "path", "service"), [(False, urls.SENDME_TRANSFER_STATUS, "18"),
                                                        (True, urls.SENDME_EMONEY_TOPUP_STATUS, "38")])
def test_status_inquiry_paths(topup, path, service):
    client = sendme_client((200, {"responseCode": "2003600", "latestTransactionStatus": "00"}))
    assert client.transfer_status(partner_reference_no="DSB1", reference_no="R1", topup=topup).latest_status == "00"
    assert client.session.sent[0]["url"].endswith(path)
    assert json.loads(client.session.sent[0]["data"])["serviceCode"] == service


@pytest.mark.parametrize("answer", [(200, b"<html>"), (200, b"[]"), (404, b""), (400, {"error": "x"}),
                                    (200, {"responseCode": "2003600", "latestTransactionStatus": "ok"}),
                                    (200, {"responseCode": "2003600", "amount": {"value": "1.50"}}),
                                    requests.ReadTimeout("slow")])
def test_no_usable_sendme_answer_is_unavailable_after_one_request(answer):
    client = sendme_client(answer)
    with pytest.raises(FaspayUnavailable):
        client.transfer_status(partner_reference_no="DSB1")
    assert len(client.session.sent) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_5xx_or_429_without_a_body_is_an_answer(status):
    result = sendme_client((status, b"")).balance_inquiry()
    assert result.http_status == status and result.response_code == f"{status}0000" and result.accounts == ()


def test_history_and_balance_are_typed():
    client = sendme_client(
        (200, {"responseCode": "2001100", "accountInfos": [{"amount": {"value": "10.00", "currency": "IDR"},
                                                            "availableBalance": {"value": "9.00"}}]}),
        (200, {"responseCode": "2001200", "detailData": [{"amount": {"value": "5.00"}, "remark": "x DSB1",
                                                          "additionalInfo": {"debitCredit": "D"}}]}))
    assert [(a.amount, a.available) for a in client.balance_inquiry().accounts] == [(10, 9)]
    [mutation] = client.transaction_history(dt.datetime(2026, 11, 28, tzinfo=WIB),
                                            dt.datetime(2026, 11, 29, tzinfo=WIB)).mutations
    assert mutation.amount == 5 and mutation.is_debit and "DSB1" in mutation.remark_tokens
    assert json.loads(client.session.sent[1]["data"])["fromDateTime"] == "2026-11-28T00:00:00+07:00"


def test_amounts_that_are_not_whole_rupiah_are_never_sent():
    client = sendme_client()
    with pytest.raises(ValueError):
        client.emoney_topup(partner_reference_no="DSB1", amount=-5, phone="0812", platform="gpy", email="",
                            description="", transaction_date="", callback_url="")
    assert client.session.sent == []
