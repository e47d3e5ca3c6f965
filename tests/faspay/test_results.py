"""Every typed result parses the provider's body once; a body that does not fit is a typed
``MalformedAnswer`` (outcome unknown), never a KeyError, TypeError or AttributeError."""
import dataclasses
import json

import pytest

from faspay import outcomes, sendme
from faspay.errors import FaspayUnavailable, MalformedAnswer
from faspay.results import (
    AccountInquiry,
    Balance,
    SnapAnswer,
    TransactionHistory,
    TransferResult,
    TransferStatus,
)

TRANSFER = {
    "responseCode": "2001800", "responseMessage": "Successful", "referenceNo": "2611280000000001",
    "partnerReferenceNo": "DSBTRX1ABC", "amount": {"value": "1250000.00", "currency": "IDR"},
    "beneficiaryAccountNo": "60004400184", "beneficiaryBankCode": "008", "sourceAccountNo": "9920017573",
    "additionalInfo": {"beneficiaryAccountName": "Budi", "latestTransactionStatus": "03",
                       "transactionStatusDesc": "Pending"},
}
STATUS = {
    "responseCode": "2003600", "responseMessage": "Successful", "originalReferenceNo": "2611280000000001",
    "originalPartnerReferenceNo": "DSBTRX1ABC", "serviceCode": "18", "transactionDate": "2026-11-28T10:00:00+07:00",
    "amount": {"value": "1250000.00", "currency": "IDR"}, "latestTransactionStatus": "00",
    "transactionStatusDesc": "Success", "additionalInfo": {"transactionStatusDate": "2026-11-28T10:01:00+07:00"},
}
INQUIRY = {
    "responseCode": "2001600", "responseMessage": "Successful", "referenceNo": "R1",
    "beneficiaryAccountName": "BUDI SANTOSO", "beneficiaryAccountNo": "60004400184",
    "beneficiaryBankCode": "008", "beneficiaryBankName": "Bank Mandiri", "additionalInfo": {"status": "1"},
}
BALANCE = {
    "responseCode": "2001100", "responseMessage": "Successful", "accountNo": "9920017573",
    "accountInfos": [{"balanceType": "Cash", "amount": {"value": "1000000000.00", "currency": "IDR"},
                      "availableBalance": {"value": "999000000.00", "currency": "IDR"}, "status": "0001"}],
}
HISTORY = {
    "responseCode": "2001200", "responseMessage": "Successful",
    "detailData": [
        {"dateTime": "2026-11-28T10:00:00+07:00", "amount": {"value": "1250000.00", "currency": "IDR"},
         "remark": "bank DSBTRX1ABC", "status": "SUCCESS", "type": "bank", "additionalInfo": {"debitCredit": "D"}},
        {"dateTime": "2026-11-28T11:00:00+07:00", "amount": {"value": "5000.00", "currency": "IDR"},
         "remark": "refund DSBTRX2DEF (06)", "status": "SUCCESS", "type": "bank",
         "additionalInfo": {"debitCredit": "k"}},
    ],
}


def test_transfer_result_reads_every_field():
    result = TransferResult.parse(200, TRANSFER)
    assert (result.http_status, result.response_code, result.message) == (200, "2001800", "Successful")
    assert (result.http, result.service, result.case) == ("200", "18", "00")
    assert result.reference_no == "2611280000000001" and result.partner_reference_no == "DSBTRX1ABC"
    assert result.amount == 1_250_000 and result.latest_status == "03" and result.status_description == "Pending"
    assert result.successful and not result.not_found
    assert outcomes.classify(result) == outcomes.Outcome.ACCEPTED


def test_transfer_status_reads_the_original_references_and_top_level_status():
    result = TransferStatus.parse(200, STATUS)
    assert result.reference_no == "2611280000000001" and result.partner_reference_no == "DSBTRX1ABC"
    assert result.latest_status == "00" and result.service_code == "18" and result.amount == 1_250_000
    assert result.status_date == "2026-11-28T10:01:00+07:00"


def test_not_found_is_404xx01_or_status_07():
    assert TransferStatus.parse(404, {"responseCode": "4043601", "responseMessage": "Not Found"}).not_found
    assert TransferStatus.parse(200, {**STATUS, "latestTransactionStatus": "07"}).not_found
    assert not TransferStatus.parse(200, STATUS).not_found


def test_error_answers_parse_with_empty_fields():
    result = TransferResult.parse(403, {"responseCode": "4031814", "responseMessage": "Insufficient Funds"})
    assert result.amount is None and result.latest_status == "" and result.reference_no == ""
    assert outcomes.classify(result) == outcomes.Outcome.FAILED


def test_account_inquiry_reads_the_holder_and_knows_an_invalid_account():
    result = AccountInquiry.parse(200, INQUIRY)
    assert result.successful and result.account_name == "BUDI SANTOSO" and result.bank_name == "Bank Mandiri"
    invalid = AccountInquiry.parse(404, {"responseCode": "4041611", "responseMessage": "Invalid Account"})
    assert invalid.account_invalid and not invalid.successful


def test_balance_reads_each_account():
    [account] = Balance.parse(200, BALANCE).accounts
    assert (account.balance_type, account.amount, account.available, account.status) == \
        ("Cash", 1_000_000_000, 999_000_000, "0001")


def test_history_reads_each_mutation_with_its_direction():
    debit, credit = TransactionHistory.parse(200, HISTORY).mutations
    assert debit.is_debit and debit.amount == 1_250_000 and debit.remark_tokens == ["bank", "DSBTRX1ABC"]
    assert not credit.is_debit and credit.direction == "K" and credit.amount == 5000
    assert debit.evidence() == HISTORY["detailData"][0] and debit.evidence() is not HISTORY["detailData"][0]


def test_results_are_frozen_and_evidence_is_a_copy():
    result = TransferResult.parse(200, TRANSFER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.latest_status = "00"
    evidence = result.evidence()
    evidence["body"]["additionalInfo"]["latestTransactionStatus"] = "00"
    assert result.latest_status == "03" and result.raw["additionalInfo"]["latestTransactionStatus"] == "03"
    assert json.loads(json.dumps(evidence))["responseCode"] == "2001800"


def test_without_body_is_an_answer_of_its_http_class():
    result = TransferResult.without_body(503, "Service Unavailable")
    assert result.response_code == "5030000" and outcomes.classify(result) == outcomes.Outcome.UNKNOWN
    assert outcomes.classify(SnapAnswer.without_body(429)) == outcomes.Outcome.NOT_PROCESSED


def _with(body, path, value):
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


MALFORMED = [
    (TransferResult, TRANSFER, ("responseCode",), None),
    (TransferResult, TRANSFER, ("responseCode",), "200"),
    (TransferResult, TRANSFER, ("responseCode",), {"code": "2001800"}),
    (TransferResult, TRANSFER, ("responseCode",), True),
    (TransferResult, TRANSFER, ("responseMessage",), ["Successful"]),
    (TransferResult, TRANSFER, ("referenceNo",), {"id": 1}),
    (TransferResult, TRANSFER, ("amount",), "1250000.00"),
    (TransferResult, TRANSFER, ("amount", "value"), "1250000.50"),
    (TransferResult, TRANSFER, ("amount", "value"), "satu juta"),
    (TransferResult, TRANSFER, ("amount", "currency"), "USD"),
    (TransferResult, TRANSFER, ("additionalInfo",), "pending"),
    (TransferResult, TRANSFER, ("additionalInfo", "latestTransactionStatus"), {"code": "00"}),
    (TransferResult, TRANSFER, ("additionalInfo", "latestTransactionStatus"), "SUCCESS"),
    (TransferStatus, STATUS, ("latestTransactionStatus",), 0.0),
    (TransferStatus, STATUS, ("latestTransactionStatus",), "0"),
    (TransferStatus, STATUS, ("amount",), {"value": 1250000}),
    (AccountInquiry, INQUIRY, ("beneficiaryAccountName",), ["BUDI"]),
    (AccountInquiry, INQUIRY, ("beneficiaryAccountName",), "B" * 2000),
    (Balance, BALANCE, ("accountInfos",), {"amount": "1"}),
    (Balance, BALANCE, ("accountInfos", 0), "Cash"),
    (Balance, BALANCE, ("accountInfos", 0, "amount", "value"), "-5.00"),
    (TransactionHistory, HISTORY, ("detailData",), "none"),
    (TransactionHistory, HISTORY, ("detailData", 0), None),
    (TransactionHistory, HISTORY, ("detailData", 0, "amount"), None),
    (TransactionHistory, HISTORY, ("detailData", 0, "amount", "value"), "1250000.01"),
    (TransactionHistory, HISTORY, ("detailData", 0, "additionalInfo", "debitCredit"), "X"),
    (TransactionHistory, HISTORY, ("detailData", 0, "additionalInfo"), []),
]


@pytest.mark.parametrize(("result_type", "body", "path", "value"), MALFORMED,
                         ids=[f"{t.__name__}-{'.'.join(map(str, p))}={v!r:.20}" for t, _b, p, v in MALFORMED])
def test_malformed_bodies_are_a_typed_error(result_type, body, path, value):
    with pytest.raises(MalformedAnswer):
        result_type.parse(200, _with(body, path, value))


@pytest.mark.parametrize("body", [None, [], "2001800", 2001800, [TRANSFER]])
def test_a_body_that_is_not_an_object_is_malformed(body):
    for result_type in (TransferResult, TransferStatus, AccountInquiry, Balance, TransactionHistory):
        with pytest.raises(MalformedAnswer):
            result_type.parse(200, body)


def test_malformed_answers_count_as_unavailable():
    """Callers treat an unreadable answer exactly like a timeout: outcome unknown."""
    assert issubclass(MalformedAnswer, FaspayUnavailable)


# --- the SendMe callback body ----------------------------------------------------------------------

def test_callback_names_the_transfer():
    callback = sendme.parse_callback(json.dumps(STATUS).encode())
    assert (callback.partner_reference_no, callback.reference_no, callback.latest_status) == \
        ("DSBTRX1ABC", "2611280000000001", "00")


def test_callback_extras_that_do_not_parse_are_left_empty():
    body = {"originalPartnerReferenceNo": "DSBTRX1ABC", "originalReferenceNo": {"x": 1},
            "latestTransactionStatus": "done"}
    callback = sendme.parse_callback(json.dumps(body).encode())
    assert (callback.reference_no, callback.latest_status) == ("", "")


@pytest.mark.parametrize("body", [
    b"", b"not json", b"\xff\xfe", b"[]", b'"DSB"', b"{}", b'{"originalPartnerReferenceNo": 12345}',
    b'{"originalPartnerReferenceNo": "has space"}', b'{"originalPartnerReferenceNo": ""}',
    json.dumps({"originalPartnerReferenceNo": "A" * 65}).encode(), b"[" * 100_000,
])
def test_callback_bodies_that_name_no_transfer_are_refused(body):
    with pytest.raises(sendme.InvalidCallback):
        sendme.parse_callback(body)
