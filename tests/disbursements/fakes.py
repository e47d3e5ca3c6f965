"""A SendMe client double for tests about INTRASA's own rules (limits, windows, retries, the
forecast), where the answer SendMe gives must be chosen precisely and the clock set to the minute.
The protocol itself is tested against the sandbox over real HTTP (``test_payouts``)."""
import datetime as dt

import pytest
from django.utils import timezone

from faspay.results import SnapAnswer, TransferResult, TransferStatus


def accepted(ref: str, status: str = "00", code: str = "2001800") -> TransferResult:
    """SendMe's answer to a send (``2001800``) or, parsed as a status answer, to an inquiry."""
    body = {"responseCode": code, "responseMessage": "Successful", "referenceNo": f"R{ref[-8:]}",
            "partnerReferenceNo": ref, "originalPartnerReferenceNo": ref, "latestTransactionStatus": status}
    parse = TransferStatus.parse if code[3:5] in ("36", "39") else TransferResult.parse
    return parse(200, body)


def answer(code: str, message: str = "") -> SnapAnswer:
    return TransferResult.parse(int(code[:3]), {"responseCode": code, "responseMessage": message or code})


class FakeSendMe:
    def __init__(self):
        self.sent: list[tuple[str, int, str]] = []  # (partnerReferenceNo, amount, transactionDate)
        self.inquiries: list[str] = []
        self.answers: list[TransferResult] = []  # next answers to sends, in order; then success
        self.status_answers: list[TransferResult] = []

    def _send(self, reference, amount, transaction_date):
        self.sent.append((reference, amount, transaction_date))
        if self.answers:
            return self.answers.pop(0)
        return accepted(reference)

    def transfer_interbank(self, *, partner_reference_no, amount, transaction_date, **_):
        return self._send(partner_reference_no, amount, transaction_date)

    def emoney_topup(self, *, partner_reference_no, amount, transaction_date, **_):
        return self._send(partner_reference_no, amount, transaction_date)

    def transfer_status(self, *, partner_reference_no, **_):
        self.inquiries.append(partner_reference_no)
        if self.status_answers:
            return self.status_answers.pop(0)
        return accepted(partner_reference_no, code="2003600")


class Clock:
    def __init__(self, monkeypatch):
        self.now = None
        monkeypatch.setattr(timezone, "now", lambda: self.now if self.now is not None else dt.datetime.now(dt.UTC))

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment.astimezone(dt.UTC)
        return self.now


@pytest.fixture
def fake_sendme(monkeypatch):
    fake = FakeSendMe()
    monkeypatch.setattr("disbursements.services.default_client", lambda: fake)
    monkeypatch.setattr("disbursements.tasks.default_client", lambda: fake)
    return fake


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
