"""Faspay SendMe SNAP client (REFERENCE.md §1–2): account inquiry, interbank transfer, e-wallet
top-up, their status inquiries and the deposit balance.

A provider client in the sense of DESIGN.md §3: a ``requests.Session``, explicit timeouts, no
hidden retries, no Django models. Every call returns a ``SnapResult`` (HTTP status, the 7-digit
``responseCode``, the body) or raises ``SendMeUnreachable`` when there was no usable answer — the
caller then does not know whether SendMe acted, and must find out by status inquiry.
"""
import datetime as dt
import json
from dataclasses import dataclass, field

import requests

from intrasa import snap

SERVICE_TRANSFER = "18"
SERVICE_TOPUP = "38"


class SendMeUnreachable(Exception):
    """Timeout, connection error, or a reply that is not SNAP JSON: the outcome is unknown."""


@dataclass(frozen=True)
class SnapResult:
    http_status: int
    response_code: str
    message: str
    body: dict = field(default_factory=dict)

    @property
    def case(self) -> str:
        """``responseCode`` = HTTP status (3) + service code (2) + case (2): the last two."""
        return self.response_code[-2:]

    @property
    def latest_status(self) -> str:
        info = self.body.get("additionalInfo") if isinstance(self.body.get("additionalInfo"), dict) else {}
        return str(self.body.get("latestTransactionStatus") or info.get("latestTransactionStatus") or "")

    @property
    def reference_no(self) -> str:
        return str(self.body.get("referenceNo") or self.body.get("originalReferenceNo") or "")


def amount_value(rupiah: int) -> dict:
    """SNAP amounts are strings with two decimals: Rp 10.000 → ``"10000.00"``."""
    return {"value": f"{rupiah}.00", "currency": "IDR"}


class SendMeClient:
    def __init__(self, *, base_url: str, partner_id: str, channel_id: str, source_account: str,
                 signer: snap.SnapSigner, timeout: float = 15.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.partner_id = partner_id
        self.channel_id = channel_id
        self.source_account = source_account
        self.signer = signer
        self.timeout = timeout
        self.session = session or requests.Session()

    def _call(self, path: str, body: dict) -> SnapResult:
        # Every call gets a fresh X-EXTERNAL-ID: it must be unique per day (409xx00 otherwise),
        # even when the business reference (partnerReferenceNo) is the same on a resend.
        request = snap.build_signed_request(self.signer, method="POST", path=path, body=body,
                                            partner_id=self.partner_id, channel_id=self.channel_id)
        try:
            response = self.session.post(self.base_url + path, data=request.body, headers=request.headers,
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise SendMeUnreachable(f"{path}: {exc.__class__.__name__}") from exc
        try:
            payload = response.json()
        except (ValueError, json.JSONDecodeError):
            payload = None
        if not isinstance(payload, dict) or "responseCode" not in payload:
            if response.status_code >= 500 or response.status_code == 429:
                # A 5xx without a SNAP body is still an answer we must treat as "unknown".
                return SnapResult(response.status_code, f"{response.status_code}0000", response.reason or "", {})
            raise SendMeUnreachable(f"{path}: HTTP {response.status_code} without a SNAP body")
        return SnapResult(response.status_code, str(payload["responseCode"]), str(payload.get("responseMessage", "")),
                          payload)

    def account_inquiry(self, *, bank_code: str, account_number: str, partner_reference_no: str) -> SnapResult:
        return self._call("/account/v1.0/account-inquiry-external", {
            "beneficiaryBankCode": bank_code, "beneficiaryAccountNo": account_number,
            "partnerReferenceNo": partner_reference_no, "additionalInfo": {"sourceAccount": self.source_account},
        })

    def transfer_interbank(self, *, partner_reference_no: str, amount: int, account_name: str, account_number: str,
                           bank_code: str, email: str, description: str, transaction_date: str,
                           callback_url: str) -> SnapResult:
        return self._call("/account/v1.0/transfer-interbank", {
            "partnerReferenceNo": partner_reference_no, "amount": amount_value(amount),
            "beneficiaryAccountName": account_name, "beneficiaryAccountNo": account_number,
            "beneficiaryBankCode": bank_code, "beneficiaryEmail": email, "sourceAccountNo": self.source_account,
            "transactionDate": transaction_date,
            "additionalInfo": {"instructDate": "", "transactionDescription": description, "callbackUrl": callback_url},
        })

    def emoney_topup(self, *, partner_reference_no: str, amount: int, phone: str, platform: str, email: str,
                     description: str, transaction_date: str, callback_url: str) -> SnapResult:
        return self._call("/account/v1.0/emoney/topup", {
            "partnerReferenceNo": partner_reference_no, "customerNumber": phone, "amount": amount_value(amount),
            "transactionDate": transaction_date,
            "additionalInfo": {"sourceAccount": self.source_account, "platformCode": platform, "instructDate": "",
                               "beneficiaryEmail": email, "transactionDescription": description,
                               "callbackUrl": callback_url},
        })

    def transfer_status(self, *, partner_reference_no: str, reference_no: str = "", topup: bool = False) -> SnapResult:
        path = "/account/v1.0/emoney/topup-status" if topup else "/account/v1.0/transfer/status"
        return self._call(path, {
            "originalPartnerReferenceNo": partner_reference_no, "originalReferenceNo": reference_no,
            "serviceCode": SERVICE_TOPUP if topup else SERVICE_TRANSFER,
        })

    def balance_inquiry(self) -> SnapResult:
        return self._call("/account/v1.0/balance-inquiry", {"accountNo": self.source_account})

    def transaction_history(self, start: dt.datetime, end: dt.datetime) -> SnapResult:
        """The deposit's mutations between two instants (service 12): ``detailData[]`` with
        ``dateTime``, ``amount``, ``remark``, ``status``, ``type`` and ``additionalInfo.debitCredit``."""
        return self._call("/account/v1.0/transaction-history-list", {
            "fromDateTime": snap.snap_timestamp(start), "toDateTime": snap.snap_timestamp(end),
            "additionalInfo": {"accountNo": self.source_account},
        })


def default_client() -> SendMeClient:
    from django.conf import settings

    return SendMeClient(base_url=settings.SENDME_BASE_URL, partner_id=settings.SENDME_PARTNER_ID,
                        channel_id=settings.SENDME_CHANNEL_ID, source_account=settings.SENDME_SOURCE_ACCOUNT,
                        signer=snap.default_signer(), timeout=settings.FASPAY_HTTP_TIMEOUT_SECONDS)
