"""Typed, frozen results for every Faspay answer INTRASA reads.

Callers read attributes, never the provider's JSON: each answer is parsed here, once, with every
field's type checked. A body that does not fit raises :class:`~faspay.errors.MalformedAnswer` (the
outcome is then unknown, exactly as after a timeout) — never a ``KeyError``, ``AttributeError`` or
``TypeError`` that would become a 500 or, worse, a wrong decision.

Absent optional fields read as ``""`` (text) or ``None`` (amounts), so an error answer (which
carries only ``responseCode`` and ``responseMessage``) parses like any other. Amounts go through the
one codec (``faspay.amounts``): a fraction of a Rupiah or garbage is refused, not rounded.

``raw`` keeps the body as received, for evidence only (reconciliation stores it): no caller reads
fields from it.

SNAP (SendMe) answers share :class:`SnapAnswer` (HTTP status, the 7-digit ``responseCode`` =
HTTP status (3) + service code (2) + case (2), the message); Debit answers
(:class:`CreatedBill`, :class:`PaymentStatus`, :class:`Notification`) are parsed in
``faspay.debit``, which owns their field rules.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from . import amounts
from .errors import AmountError, MalformedAnswer

RESPONSE_CODE = re.compile(r"[0-9]{7}")
LATEST_STATUS = re.compile(r"[0-9]{2}")
MAX_TEXT = 1000
MAX_ROWS = 10_000

# latestTransactionStatus (BI enum, REFERENCE.md §1.2)
STATUS_SUCCESS = "00"
STATUS_INITIATED = "01"
STATUS_PAYING = "02"
STATUS_PENDING = "03"
STATUS_REFUNDED = "04"  # SendMe: the transfer was reversed
STATUS_CANCELED = "05"
STATUS_FAILED = "06"
STATUS_NOT_FOUND = "07"


# --- reading fields -----------------------------------------------------------------------------

class _Reader:
    """Typed access to one JSON object of an answer; every refusal names the field."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, dict):
            raise MalformedAnswer(f"{where}: expected an object, got {type(data).__name__}")
        self.data = data
        self.where = where

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise MalformedAnswer(f"{self.where}.{name}: expected text, got {type(value).__name__}")
        text = str(value) if isinstance(value, int) else value
        if len(text) > MAX_TEXT:
            raise MalformedAnswer(f"{self.where}.{name}: longer than {MAX_TEXT} characters")
        return text

    def obj(self, name: str) -> _Reader:
        value = self.data.get(name)
        return _Reader({} if value is None else value, f"{self.where}.{name}")

    def rows(self, name: str) -> list[_Reader]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedAnswer(f"{self.where}.{name}: expected a list, got {type(value).__name__}")
        if len(value) > MAX_ROWS:
            raise MalformedAnswer(f"{self.where}.{name}: more than {MAX_ROWS} rows")
        return [_Reader(row, f"{self.where}.{name}[{i}]") for i, row in enumerate(value)]

    def snap_amount(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        try:
            return amounts.parse_snap_amount(value)
        except AmountError as exc:
            raise MalformedAnswer(f"{self.where}.{name}: {exc}") from None

    def latest_status(self, name: str = "latestTransactionStatus") -> str:
        status = self.text(name)
        if status and not LATEST_STATUS.fullmatch(status):
            raise MalformedAnswer(f"{self.where}.{name}: {status[:20]!r} is not a two-digit status")
        return status


def _latest_status(body: _Reader) -> str:
    """``latestTransactionStatus``: top level in status answers, in ``additionalInfo`` in transfer
    answers (REFERENCE.md §1.1); the top level wins when both are given."""
    return body.latest_status() or body.obj("additionalInfo").latest_status()


# --- SNAP (SendMe) ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SnapAnswer:
    http_status: int
    response_code: str
    message: str
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def http(self) -> str:
        """The HTTP class written in ``responseCode`` (its first three digits)."""
        return self.response_code[:3]

    @property
    def service(self) -> str:
        return self.response_code[3:5]

    @property
    def case(self) -> str:
        """``responseCode`` = HTTP status (3) + service code (2) + case (2): the last two."""
        return self.response_code[-2:]

    @property
    def successful(self) -> bool:
        """``200xxxx``: the request succeeded (for a transfer: accepted, see ``latest_status``)."""
        return self.http == "200"

    def evidence(self) -> dict:
        """What SendMe answered, as a JSON-able dict for the records (a copy)."""
        return {"http_status": self.http_status, "responseCode": self.response_code,
                "responseMessage": self.message, "body": copy.deepcopy(self.raw)}

    @classmethod
    def _head(cls, http_status: int, body: dict) -> dict:
        reader = _Reader(body, "answer")
        code = reader.text("responseCode")
        if not RESPONSE_CODE.fullmatch(code):
            raise MalformedAnswer(f"answer.responseCode: {code[:20]!r} is not a 7-digit SNAP code")
        return {"http_status": http_status, "response_code": code, "message": reader.text("responseMessage"),
                "raw": body}

    @classmethod
    def without_body(cls, http_status: int, reason: str = "") -> SnapAnswer:
        """A 5xx or 429 that came without a SNAP body: still an answer ("unknown" / "not
        processed"), written as ``<status>0000``."""
        return cls(http_status=http_status, response_code=f"{http_status}0000", message=reason[:MAX_TEXT])

    @classmethod
    def parse(cls, http_status: int, body: dict) -> SnapAnswer:
        return cls(**cls._head(http_status, body))


@dataclass(frozen=True, kw_only=True)
class TransferAnswer(SnapAnswer):
    """What SendMe says about one transfer or top-up: the money state is ``latest_status``."""

    reference_no: str = ""
    partner_reference_no: str = ""
    amount: int | None = None
    latest_status: str = ""
    status_description: str = ""

    @property
    def not_found(self) -> bool:
        """SendMe has no such transfer: ``404xx01``, or an answer that says ``07`` Not Found."""
        return (self.http == "404" and self.case == "01") or self.latest_status == STATUS_NOT_FOUND


@dataclass(frozen=True, kw_only=True)
class TransferResult(TransferAnswer):
    """The answer to transfer-interbank (svc 18) or emoney/topup (svc 38)."""

    @classmethod
    def parse(cls, http_status: int, body: dict) -> TransferResult:
        head = cls._head(http_status, body)
        reader, info = _Reader(body, "answer"), _Reader(body, "answer").obj("additionalInfo")
        return cls(**head, reference_no=reader.text("referenceNo"),
                   partner_reference_no=reader.text("partnerReferenceNo"), amount=reader.snap_amount("amount"),
                   latest_status=_latest_status(reader),
                   status_description=reader.text("transactionStatusDesc") or info.text("transactionStatusDesc"))


@dataclass(frozen=True, kw_only=True)
class TransferStatus(TransferAnswer):
    """The answer to transfer/status (svc 36) or emoney/topup-status (svc 39)."""

    service_code: str = ""
    transaction_date: str = ""
    status_date: str = ""

    @classmethod
    def parse(cls, http_status: int, body: dict) -> TransferStatus:
        head = cls._head(http_status, body)
        reader = _Reader(body, "answer")
        info = reader.obj("additionalInfo")
        return cls(**head,
                   reference_no=reader.text("originalReferenceNo") or reader.text("referenceNo"),
                   partner_reference_no=reader.text("originalPartnerReferenceNo"),
                   amount=reader.snap_amount("amount"), latest_status=_latest_status(reader),
                   status_description=reader.text("transactionStatusDesc") or info.text("transactionStatusDesc"),
                   service_code=reader.text("serviceCode"), transaction_date=reader.text("transactionDate"),
                   status_date=info.text("transactionStatusDate"))


@dataclass(frozen=True, kw_only=True)
class AccountInquiry(SnapAnswer):
    """The answer to account-inquiry-external (svc 16): whose account this is."""

    reference_no: str = ""
    account_name: str = ""
    account_no: str = ""
    bank_code: str = ""
    bank_name: str = ""

    @property
    def account_invalid(self) -> bool:
        """``404xx11``: no such account at that bank."""
        return self.http == "404" and self.case == "11"

    @classmethod
    def parse(cls, http_status: int, body: dict) -> AccountInquiry:
        head = cls._head(http_status, body)
        reader = _Reader(body, "answer")
        return cls(**head, reference_no=reader.text("referenceNo"),
                   account_name=reader.text("beneficiaryAccountName"),
                   account_no=reader.text("beneficiaryAccountNo"), bank_code=reader.text("beneficiaryBankCode"),
                   bank_name=reader.text("beneficiaryBankName"))


@dataclass(frozen=True)
class AccountBalance:
    balance_type: str
    amount: int | None
    available: int | None
    status: str


@dataclass(frozen=True, kw_only=True)
class Balance(SnapAnswer):
    """The answer to balance-inquiry (svc 11): the SendMe deposit."""

    accounts: tuple[AccountBalance, ...] = ()

    @classmethod
    def parse(cls, http_status: int, body: dict) -> Balance:
        head = cls._head(http_status, body)
        rows = _Reader(body, "answer").rows("accountInfos")
        return cls(**head, accounts=tuple(
            AccountBalance(balance_type=row.text("balanceType"), amount=row.snap_amount("amount"),
                           available=row.snap_amount("availableBalance"), status=row.text("status"))
            for row in rows))


DEBIT = "D"
CREDIT = "K"  # BI/Faspay write credits as K (kredit)


@dataclass(frozen=True)
class Mutation:
    """One movement of the SendMe deposit. ``direction`` is ``D`` (debit) or ``K`` (credit)."""

    date_time: str
    amount: int
    remark: str
    status: str
    type: str
    direction: str
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_debit(self) -> bool:
        return self.direction == DEBIT

    @property
    def remark_tokens(self) -> list[str]:
        return self.remark.split()

    def evidence(self) -> dict:
        """The mutation as SendMe wrote it, for the records (a copy)."""
        return copy.deepcopy(self.raw)


@dataclass(frozen=True, kw_only=True)
class TransactionHistory(SnapAnswer):
    """The answer to transaction-history-list (svc 12)."""

    mutations: tuple[Mutation, ...] = ()

    @classmethod
    def parse(cls, http_status: int, body: dict) -> TransactionHistory:
        head = cls._head(http_status, body)
        mutations = []
        for row in _Reader(body, "answer").rows("detailData"):
            amount = row.snap_amount("amount")
            if amount is None:
                raise MalformedAnswer(f"{row.where}.amount: missing")
            direction = row.obj("additionalInfo").text("debitCredit").upper()
            if direction not in (DEBIT, CREDIT):
                raise MalformedAnswer(f"{row.where}.additionalInfo.debitCredit: {direction[:8]!r} is neither D nor K")
            mutations.append(Mutation(date_time=row.text("dateTime"), amount=amount, remark=row.text("remark"),
                                      status=row.text("status"), type=row.text("type"), direction=direction,
                                      raw=row.data))
        return cls(**head, mutations=tuple(mutations))


@dataclass(frozen=True)
class SendMeCallback:
    """A SendMe callback whose signature checked out: a hint that a transfer changed; only the
    status inquiry that follows decides anything, so only what finds the transfer is read."""

    partner_reference_no: str
    reference_no: str
    latest_status: str


# --- Debit --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreatedBill:
    trx_id: str
    bill_no: str
    redirect_url: str
    qr_content: str


@dataclass(frozen=True)
class PaymentStatus:
    trx_id: str
    bill_no: str
    status_code: str
    status_description: str
    payment_reference: str
    paid_at: dt.datetime | None
    paid_amount: int | None  # whole Rupiah, when Faspay reports it


@dataclass(frozen=True)
class Notification:
    """A payment notification whose signature checked out."""

    trx_id: str
    bill_no: str
    status_code: str
    status_description: str
    payment_reference: str
    paid_at: dt.datetime | None
    bill_total: int | None
    paid_amount: int | None
    channel_code: str
