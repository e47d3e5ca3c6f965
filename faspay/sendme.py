"""Faspay SendMe SNAP client (REFERENCE.md §1–2): account inquiry, interbank transfer, e-wallet
top-up, their status inquiries, the deposit balance and its history; and the callback's body.

A provider client in the sense of DESIGN.md §3: a ``requests.Session``, explicit timeouts, no
hidden retries, no Django models. Every call returns a typed, frozen result
(``faspay.results``) or raises :class:`~faspay.errors.FaspayUnavailable` when there was no usable
answer — the caller then does not know whether SendMe acted, and must find out by status inquiry.
An answer that arrives but does not parse raises its subclass ``MalformedAnswer``: just as unknown.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import requests

from . import amounts, signing, urls
from .errors import FaspayError, FaspayUnavailable, MalformedAnswer
from .results import (
    LATEST_STATUS,
    AccountInquiry,
    Balance,
    SendMeCallback,
    SnapAnswer,
    TransactionHistory,
    TransferResult,
    TransferStatus,
)

SERVICE_TRANSFER = "18"
SERVICE_TOPUP = "38"
DEFAULT_TIMEOUT_SECONDS = 15.0


class SendMeClient:
    def __init__(self, *, base_url: str, partner_id: str, channel_id: str, source_account: str,
                 signer: signing.SnapSigner, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.partner_id = partner_id
        self.channel_id = channel_id
        self.source_account = source_account
        self.signer = signer
        self.timeout = timeout
        self.session = session or requests.Session()

    def _call(self, path: str, body: dict, result_type: type[SnapAnswer]):
        # Every call gets a fresh X-EXTERNAL-ID: it must be unique per day (409xx00 otherwise),
        # even when the business reference (partnerReferenceNo) is the same on a resend.
        request = signing.build_signed_request(self.signer, method="POST", path=path, body=body,
                                               partner_id=self.partner_id, channel_id=self.channel_id)
        try:
            response = self.session.post(urls.join(self.base_url, path), data=request.body,
                                         headers=request.headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise FaspayUnavailable(f"{path}: {exc.__class__.__name__}") from exc
        try:
            payload = response.json()
        except (ValueError, RecursionError):
            payload = None
        if not isinstance(payload, dict) or "responseCode" not in payload:
            if response.status_code >= 500 or response.status_code == 429:
                # A 5xx without a SNAP body is still an answer we must treat as "unknown".
                return result_type.without_body(response.status_code, response.reason or "")
            raise MalformedAnswer(f"{path}: HTTP {response.status_code} without a SNAP body")
        try:
            return result_type.parse(response.status_code, payload)
        except MalformedAnswer as exc:
            raise MalformedAnswer(f"{path}: HTTP {response.status_code}: {exc}") from None

    def account_inquiry(self, *, bank_code: str, account_number: str, partner_reference_no: str) -> AccountInquiry:
        return self._call(urls.SENDME_ACCOUNT_INQUIRY, {
            "beneficiaryBankCode": bank_code, "beneficiaryAccountNo": account_number,
            "partnerReferenceNo": partner_reference_no, "additionalInfo": {"sourceAccount": self.source_account},
        }, AccountInquiry)

    def transfer_interbank(self, *, partner_reference_no: str, amount: int, account_name: str, account_number: str,
                           bank_code: str, email: str, description: str, transaction_date: str,
                           callback_url: str) -> TransferResult:
        return self._call(urls.SENDME_TRANSFER_INTERBANK, {
            "partnerReferenceNo": partner_reference_no, "amount": amounts.snap_amount(amount),
            "beneficiaryAccountName": account_name, "beneficiaryAccountNo": account_number,
            "beneficiaryBankCode": bank_code, "beneficiaryEmail": email, "sourceAccountNo": self.source_account,
            "transactionDate": transaction_date,
            "additionalInfo": {"instructDate": "", "transactionDescription": description, "callbackUrl": callback_url},
        }, TransferResult)

    def emoney_topup(self, *, partner_reference_no: str, amount: int, phone: str, platform: str, email: str,
                     description: str, transaction_date: str, callback_url: str) -> TransferResult:
        return self._call(urls.SENDME_EMONEY_TOPUP, {
            "partnerReferenceNo": partner_reference_no, "customerNumber": phone,
            "amount": amounts.snap_amount(amount), "transactionDate": transaction_date,
            "additionalInfo": {"sourceAccount": self.source_account, "platformCode": platform, "instructDate": "",
                               "beneficiaryEmail": email, "transactionDescription": description,
                               "callbackUrl": callback_url},
        }, TransferResult)

    def transfer_status(self, *, partner_reference_no: str, reference_no: str = "",
                        topup: bool = False) -> TransferStatus:
        path = urls.SENDME_EMONEY_TOPUP_STATUS if topup else urls.SENDME_TRANSFER_STATUS
        return self._call(path, {
            "originalPartnerReferenceNo": partner_reference_no, "originalReferenceNo": reference_no,
            "serviceCode": SERVICE_TOPUP if topup else SERVICE_TRANSFER,
        }, TransferStatus)

    def balance_inquiry(self) -> Balance:
        return self._call(urls.SENDME_BALANCE_INQUIRY, {"accountNo": self.source_account}, Balance)

    def transaction_history(self, start: dt.datetime, end: dt.datetime) -> TransactionHistory:
        """The deposit's mutations between two instants (service 12)."""
        return self._call(urls.SENDME_TRANSACTION_HISTORY, {
            "fromDateTime": signing.snap_timestamp(start), "toDateTime": signing.snap_timestamp(end),
            "additionalInfo": {"accountNo": self.source_account},
        }, TransactionHistory)


# --- the callback (SendMe → us) -----------------------------------------------------------------

PARTNER_REFERENCE = re.compile(r"[A-Za-z0-9._\-]{1,64}")


class InvalidCallback(FaspayError):
    """A callback body that names no transfer of ours: refused with 400, nothing done."""


def parse_callback(body: bytes) -> SendMeCallback:
    """The transfer a (signature-checked) callback body is about. Faspay has not documented this
    body (REFERENCE.md §1.3); the sandbox's is modelled on /transfer/status. Raises
    :class:`InvalidCallback`."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidCallback("body is not JSON") from None
    reference = payload.get("originalPartnerReferenceNo") if isinstance(payload, dict) else None
    if not isinstance(reference, str) or not PARTNER_REFERENCE.fullmatch(reference):
        raise InvalidCallback("originalPartnerReferenceNo missing or not one of ours")
    # The rest is informational (the inquiry decides): kept when well formed, else left empty.
    reference_no = payload.get("originalReferenceNo")
    status = payload.get("latestTransactionStatus")
    return SendMeCallback(
        partner_reference_no=reference,
        reference_no=reference_no if isinstance(reference_no, str) and PARTNER_REFERENCE.fullmatch(reference_no) else "",
        latest_status=status if isinstance(status, str) and LATEST_STATUS.fullmatch(status) else "")


def default_client() -> SendMeClient:
    """The client configured from settings (the sandbox unless SendMe credentials are set)."""
    from django.conf import settings

    from . import keys

    return SendMeClient(base_url=urls.sendme_base_url(), partner_id=settings.SENDME_PARTNER_ID,
                        channel_id=settings.SENDME_CHANNEL_ID, source_account=settings.SENDME_SOURCE_ACCOUNT,
                        signer=keys.default_signer(), timeout=settings.FASPAY_HTTP_TIMEOUT_SECONDS)
