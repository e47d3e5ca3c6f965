"""The SendMe SNAP side of the sandbox: header checks, the operations, their response bodies.

Request checks, in the order a caller hits them (REFERENCE.md §1–2):

1. body is JSON                                   → 400xx00
2. mandatory headers present                      → 400xx02 ``Invalid Mandatory Field {X-...}``
3. X-TIMESTAMP parses, within ± skew              → 400xx01 / 401xx00
4. X-PARTNER-ID is ``settings.SENDME_PARTNER_ID`` → 401xx00
5. X-SIGNATURE verifies with the merchant public key over ``/account/v1.0/<op>`` → 401xx00
6. X-EXTERNAL-ID numeric ≤ 36, unused today (WIB) → 400xx01 / 409xx00
7. body fields, then business rules.

Transfers and top-ups are accepted with ``latestTransactionStatus`` 03 and settle after
``SandboxConfig.settle_delay_seconds`` (evaluated lazily on every read and by the periodic sweep;
0 settles inside the request). The deposit is debited on acceptance and refunded on 06/04.
"""
import datetime as dt
import hashlib
import json
import re
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from faspay import keys, signing
from intrasa.wib import WIB

from . import catalogue, faults
from .callbacks import callback_enqueue
from .models import Callback, DepositAccount, DepositMovement, ExternalId, Fault, SandboxConfig, Transfer

SNAP_PREFIX = "/account/v1.0/"
AMOUNT_FORMAT = re.compile(r"^\d{1,16}\.\d{2}$")
EXTERNAL_ID_FORMAT = re.compile(r"^\d{1,36}$")
DEFAULT_DEPOSIT_BALANCE = 1_000_000_000

SERVICE_CODES = {
    "account-inquiry-external": "16",
    "transfer-interbank": "18",
    "transfer/status": "36",
    "balance-inquiry": "11",
    "transaction-history-list": "12",
    "emoney/topup": "38",
    "emoney/topup-status": "39",
}


class SnapError(Exception):
    """A SNAP error answer: HTTP status + case code; the service code is added by the caller."""

    def __init__(self, http_status: int, case: str, message: str, extra: dict | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.case = case
        self.message = message
        self.extra = extra or {}


def response_code(http_status: int, service_code: str, case: str) -> str:
    return f"{http_status}{service_code}{case}"


def format_amount(rupiah: int) -> dict:
    return {"value": f"{rupiah}.00", "currency": "IDR"}


def format_timestamp(value: dt.datetime | None) -> str:
    return signing.snap_timestamp(value) if value else ""


# --- request authentication ------------------------------------------------------------------

def authenticate(*, method: str, operation: str, headers, raw_body: bytes) -> dict:
    """Run checks 1–6; return the parsed body. Raises :class:`SnapError`."""
    try:
        body = json.loads(raw_body.decode("utf-8")) if raw_body else {}
    except (UnicodeDecodeError, ValueError):
        raise SnapError(400, "00", "Bad Request") from None
    if not isinstance(body, dict):
        raise SnapError(400, "00", "Bad Request") from None
    for header in ("X-TIMESTAMP", "X-SIGNATURE", "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID"):
        if not headers.get(header):
            raise SnapError(400, "02", f"Invalid Mandatory Field {header}")
    timestamp = headers["X-TIMESTAMP"]
    try:
        sent_at = signing.parse_snap_timestamp(timestamp)
    except ValueError:
        raise SnapError(400, "01", "Invalid Field Format X-TIMESTAMP") from None
    skew = SandboxConfig.get().timestamp_skew_seconds
    if abs((timezone.now() - sent_at).total_seconds()) > skew:
        raise SnapError(401, "00", "Unauthorized. [X-TIMESTAMP out of range]")
    if headers["X-PARTNER-ID"] != settings.SENDME_PARTNER_ID:
        raise SnapError(401, "00", "Unauthorized. [Unknown client]")
    path = SNAP_PREFIX + operation
    public_key = keys.merchant_public_key()
    signature = headers["X-SIGNATURE"]
    if not signing.verify_asymmetric(public_key, method, path, raw_body, timestamp, signature):
        # The spec hashes minify(body); accept a caller that sent whitespace but signed the
        # minified form, exactly as a lenient server would.
        reminified = signing.minify_body(body) if raw_body else b""
        if reminified == raw_body or not signing.verify_asymmetric(
                public_key, method, path, reminified, timestamp, signature):
            raise SnapError(401, "00", "Unauthorized. [Signature]")
    external_id = headers["X-EXTERNAL-ID"]
    if not EXTERNAL_ID_FORMAT.match(external_id):
        raise SnapError(400, "01", "Invalid Field Format X-EXTERNAL-ID")
    try:
        with transaction.atomic():
            ExternalId.objects.create(partner_id=headers["X-PARTNER-ID"], external_id=external_id,
                                      day=timezone.now().astimezone(WIB).date(), path=path)
    except IntegrityError:
        raise SnapError(409, "00", "Conflict") from None
    return body


# --- field helpers ---------------------------------------------------------------------------

def _required(body: dict, field: str) -> str:
    value: Any = body  # walks down the dotted path: a dict, then whatever the field holds
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or value == "":
        raise SnapError(400, "02", f"Invalid Mandatory Field {field}")
    if not isinstance(value, str):
        raise SnapError(400, "01", f"Invalid Field Format {field}") from None
    return value


def _amount(body: dict, field: str = "amount") -> int:
    amount = body.get(field)
    if not isinstance(amount, dict) or amount.get("value") in (None, ""):
        raise SnapError(400, "02", f"Invalid Mandatory Field {field}.value")
    value, currency = amount.get("value"), amount.get("currency")
    if not isinstance(value, str) or not AMOUNT_FORMAT.match(value):
        raise SnapError(400, "01", f"Invalid Field Format {field}.value")
    if currency != "IDR":
        raise SnapError(400, "01", f"Invalid Field Format {field}.currency")
    rupiah, cents = value.split(".")
    if cents != "00" or int(rupiah) <= 0:
        raise SnapError(404, "13", "Invalid Amount")
    return int(rupiah)


def _source_account(value: str) -> DepositAccount:
    if value != settings.SENDME_SOURCE_ACCOUNT:
        raise SnapError(404, "11", "Invalid Account [sourceAccount]")
    account, _ = DepositAccount.objects.get_or_create(
        account_no=value, defaults={"balance": DEFAULT_DEPOSIT_BALANCE})
    return account


def deposit_account() -> DepositAccount:
    account, _ = DepositAccount.objects.get_or_create(
        account_no=settings.SENDME_SOURCE_ACCOUNT, defaults={"balance": DEFAULT_DEPOSIT_BALANCE})
    return account


def _new_reference_no() -> str:
    return timezone.now().astimezone(WIB).strftime("%y%m%d") + f"{secrets.randbelow(10**10):010d}"


def _fingerprint(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


# --- operations ------------------------------------------------------------------------------

def account_inquiry(body: dict) -> dict:
    account_no = _required(body, "beneficiaryAccountNo")
    bank_code = _required(body, "beneficiaryBankCode")
    source = _required(body, "additionalInfo.sourceAccount")
    if not catalogue.BANK_CODE_FORMAT.match(bank_code):
        raise SnapError(400, "01", "Invalid Field Format beneficiaryBankCode")
    if not catalogue.BANK_ACCOUNT_FORMAT.match(account_no):
        raise SnapError(400, "01", "Invalid Field Format beneficiaryAccountNo")
    _source_account(source)
    if catalogue.bank_behaviour(account_no) == "invalid":
        raise SnapError(404, "11", "Invalid Account")
    return {
        "referenceNo": _new_reference_no(),
        "partnerReferenceNo": body.get("partnerReferenceNo", ""),
        "beneficiaryAccountName": catalogue.holder_name(account_no),
        "beneficiaryAccountNo": account_no,
        "beneficiaryBankCode": bank_code,
        "beneficiaryBankName": catalogue.bank_name(bank_code),
        "currency": "IDR",
        "additionalInfo": {"status": "1", "message": "Success"},
    }


OPERATION_OF_KIND: dict[str, str] = {Transfer.Kind.BANK: "sendme.transfer-interbank", Transfer.Kind.EMONEY: "sendme.emoney/topup"}


def _scenario(kind: str, behaviour: str) -> str:
    """How this attempt will settle: the account's own behaviour, unless a ``transfer_fail`` fault
    makes this one attempt end 06 Failed (a bank that rejected it today, say)."""
    if faults.take(OPERATION_OF_KIND[kind], {Fault.Kind.TRANSFER_FAIL}):
        return "fail"
    return behaviour


def _debit_deposit(account: DepositAccount, amount: int, kind: str, remark: str) -> None:
    account.balance -= amount
    account.save(update_fields=["balance", "updated_at"])
    DepositMovement.objects.create(
        account=account, direction=DepositMovement.Direction.DEBIT, amount=amount, kind=kind, remark=remark)


def _create(kind: str, *, partner_reference_no: str, fingerprint: dict, amount: int, limit: int,
            source_no: str, behaviour: str, fields: dict, body: dict) -> Transfer:
    config = SandboxConfig.get()
    digest = _fingerprint(fingerprint)
    with transaction.atomic():
        existing = Transfer.objects.select_for_update().filter(partner_reference_no=partner_reference_no).first()
        if existing:
            if existing.fingerprint != digest:
                raise SnapError(404, "18", "Inconsistent Request")
            if existing.status != "06":
                raise SnapError(409, "01", "Duplicate partnerReferenceNo",
                                {"partnerReferenceNo": partner_reference_no,
                                 "referenceNo": existing.reference_no})
            return _retry_failed(existing, behaviour=behaviour, config=config, body=body)
        if behaviour in ("invalid", "unregistered"):
            raise SnapError(404, "11", "Invalid Account")
        if amount > limit:
            raise SnapError(403, "02", "Exceeds Transaction Amount Limit")
        _source_account(source_no)
        account = DepositAccount.objects.select_for_update().get(account_no=source_no)
        if account.balance < amount:
            raise SnapError(403, "14", "Insufficient Funds")
        now = timezone.now()
        try:
            with transaction.atomic():
                transfer = Transfer.objects.create(
                    kind=kind, partner_reference_no=partner_reference_no,
                    reference_no=_new_reference_no(), fingerprint=digest, amount=amount,
                    source_account_no=source_no, scenario=_scenario(kind, behaviour), status="03",
                    status_changed_at=now,
                    settle_at=now + dt.timedelta(seconds=config.settle_delay_seconds),
                    request_payload=body, **fields)
        except IntegrityError:
            # A concurrent twin won the race on the unique partnerReferenceNo.
            raise SnapError(409, "01", "Duplicate partnerReferenceNo") from None
        _debit_deposit(account, amount, kind, f"{kind} {partner_reference_no}")
        if config.settle_delay_seconds == 0:
            _advance(transfer, now=now, config=config)
    return transfer


def _retry_failed(transfer: Transfer, *, behaviour: str, config: SandboxConfig, body: dict) -> Transfer:
    """Terms A / REFERENCE §2.1: a retry after a Failed (06) result uses the SAME Transaction ID.
    The same transfer (same ``referenceNo`` **[I]**) is attempted again: accepted as 03, the
    deposit debited again (the failure refunded it), settling like any transfer. Only a 06 reopens:
    after 00/03/04/05 the reference stays a duplicate (409xx01). Called with the row locked."""
    account = DepositAccount.objects.select_for_update().get(account_no=transfer.source_account_no)
    if account.balance < transfer.amount:
        raise SnapError(403, "14", "Insufficient Funds")
    now = timezone.now()
    transfer.status = "03"
    transfer.status_changed_at = now
    transfer.settle_at = now + dt.timedelta(seconds=config.settle_delay_seconds)
    transfer.reverse_at = None
    transfer.scenario = _scenario(transfer.kind, behaviour)
    transfer.refunded = False
    transfer.attempts += 1
    transfer.request_payload = body
    transfer.save()
    _debit_deposit(account, transfer.amount, transfer.kind,
                   f"{transfer.kind} {transfer.partner_reference_no} (retry {transfer.attempts - 1})")
    if config.settle_delay_seconds == 0:
        _advance(transfer, now=now, config=config)
    return transfer


def transfer_interbank(body: dict) -> dict:
    partner_reference_no = _required(body, "partnerReferenceNo")
    amount = _amount(body)
    account_no = _required(body, "beneficiaryAccountNo")
    bank_code = _required(body, "beneficiaryBankCode")
    source_no = _required(body, "sourceAccountNo")
    if not catalogue.BANK_CODE_FORMAT.match(bank_code):
        raise SnapError(400, "01", "Invalid Field Format beneficiaryBankCode")
    if not catalogue.BANK_ACCOUNT_FORMAT.match(account_no):
        raise SnapError(400, "01", "Invalid Field Format beneficiaryAccountNo")
    info = body.get("additionalInfo")
    if not isinstance(info, dict):
        info = {}
    transfer = _create(
        Transfer.Kind.BANK, partner_reference_no=partner_reference_no,
        fingerprint={"amount": amount, "account": account_no, "bank": bank_code, "source": source_no},
        amount=amount, limit=SandboxConfig.get().bank_transfer_limit, source_no=source_no,
        behaviour=catalogue.bank_behaviour(account_no), body=body,
        fields=dict(beneficiary_account_no=account_no, beneficiary_bank_code=bank_code,
                    beneficiary_account_name=catalogue.holder_name(account_no),
                    callback_url=str(info.get("callbackUrl") or ""),
                    transaction_date=str(body.get("transactionDate") or ""),
                    description=str(info.get("transactionDescription") or "")[:200]))
    transfer.refresh_from_db()
    return {
        "referenceNo": transfer.reference_no,
        "partnerReferenceNo": transfer.partner_reference_no,
        "amount": format_amount(transfer.amount),
        "beneficiaryAccountNo": transfer.beneficiary_account_no,
        "beneficiaryBankCode": transfer.beneficiary_bank_code,
        "sourceAccountNo": transfer.source_account_no,
        "additionalInfo": {
            "beneficiaryAccountName": transfer.beneficiary_account_name,
            "beneficiaryBankName": catalogue.bank_name(transfer.beneficiary_bank_code),
            "instructDate": str(info.get("instructDate") or ""),
            "transactionDescription": transfer.description,
            "callbackUrl": transfer.callback_url,
            "latestTransactionStatus": transfer.status,
            "transactionStatusDesc": catalogue.TRANSACTION_STATUS[transfer.status],
        },
    }


def emoney_topup(body: dict) -> dict:
    partner_reference_no = _required(body, "partnerReferenceNo")
    customer_number = _required(body, "customerNumber")
    amount = _amount(body)
    source_no = _required(body, "additionalInfo.sourceAccount")
    platform = _required(body, "additionalInfo.platformCode")
    if platform not in catalogue.EWALLET_PLATFORMS:
        raise SnapError(400, "01", "Invalid Field Format additionalInfo.platformCode")
    if not catalogue.EWALLET_NUMBER_FORMAT.match(customer_number):
        raise SnapError(400, "01", "Invalid Field Format customerNumber")
    info = body["additionalInfo"]
    transfer = _create(
        Transfer.Kind.EMONEY, partner_reference_no=partner_reference_no,
        fingerprint={"amount": amount, "customer": customer_number, "platform": platform,
                     "source": source_no},
        amount=amount, limit=SandboxConfig.get().ewallet_topup_limit, source_no=source_no,
        behaviour=catalogue.ewallet_behaviour(customer_number), body=body,
        fields=dict(beneficiary_account_no=customer_number, platform_code=platform,
                    beneficiary_account_name=catalogue.holder_name(customer_number),
                    callback_url=str(info.get("callbackUrl") or ""),
                    transaction_date=str(body.get("transactionDate") or ""),
                    description=str(info.get("transactionDescription") or "")[:200]))
    transfer.refresh_from_db()
    return {
        "referenceNo": transfer.reference_no,
        "partnerReferenceNo": transfer.partner_reference_no,
        "customerNumber": transfer.beneficiary_account_no,
        "amount": format_amount(transfer.amount),
        "additionalInfo": {
            "sourceAccount": transfer.source_account_no,
            "platformCode": transfer.platform_code,
            "platformName": catalogue.EWALLET_PLATFORMS[transfer.platform_code],
            "customerName": transfer.beneficiary_account_name,
            "instructDate": str(info.get("instructDate") or ""),
            "transactionDescription": transfer.description,
            "callbackUrl": transfer.callback_url,
            "transactionReference": transfer.reference_no,
            "latestTransactionStatus": transfer.status,
            "transactionStatusDesc": catalogue.TRANSACTION_STATUS[transfer.status],
        },
    }


def _lookup(body: dict, kind: str, service_code: str) -> Transfer:
    partner_ref = _required(body, "originalPartnerReferenceNo")
    code = _required(body, "serviceCode")
    if code != service_code:
        raise SnapError(400, "01", "Invalid Field Format serviceCode")
    transfer = Transfer.objects.filter(partner_reference_no=partner_ref, kind=kind).first()
    original_reference = body.get("originalReferenceNo")
    if transfer is None or (original_reference and original_reference != transfer.reference_no):
        raise SnapError(404, "01", "Transaction Not Found")
    return transfer_refresh(transfer_id=transfer.pk)


def transfer_status(body: dict) -> dict:
    transfer = _lookup(body, Transfer.Kind.BANK, "18")
    return {
        "originalReferenceNo": transfer.reference_no,
        "originalPartnerReferenceNo": transfer.partner_reference_no,
        "serviceCode": "18",
        "transactionDate": transfer.transaction_date or format_timestamp(transfer.created_at),
        "amount": format_amount(transfer.amount),
        "beneficiaryAccountNo": transfer.beneficiary_account_no,
        "beneficiaryBankCode": transfer.beneficiary_bank_code,
        "referenceNumber": transfer.reference_no,
        "sourceAccountNo": transfer.source_account_no,
        "latestTransactionStatus": transfer.status,
        "transactionStatusDesc": catalogue.TRANSACTION_STATUS[transfer.status],
        "additionalInfo": {
            "beneficiaryAccountName": transfer.beneficiary_account_name,
            "beneficiaryBankName": catalogue.bank_name(transfer.beneficiary_bank_code),
            "transactionDescription": transfer.description,
            "callbackUrl": transfer.callback_url,
            "transactionStatusDate": format_timestamp(transfer.status_changed_at),
        },
    }


def emoney_topup_status(body: dict) -> dict:
    transfer = _lookup(body, Transfer.Kind.EMONEY, "38")
    return {
        "originalReferenceNo": transfer.reference_no,
        "originalPartnerReferenceNo": transfer.partner_reference_no,
        "serviceCode": "38",
        "transactionDate": transfer.transaction_date or format_timestamp(transfer.created_at),
        "customerNumber": transfer.beneficiary_account_no,
        "amount": format_amount(transfer.amount),
        "latestTransactionStatus": transfer.status,
        "transactionStatusDesc": catalogue.TRANSACTION_STATUS[transfer.status],
        "additionalInfo": {
            "platformCode": transfer.platform_code,
            "platformName": catalogue.EWALLET_PLATFORMS.get(transfer.platform_code, ""),
            "customerName": transfer.beneficiary_account_name,
            "transactionDescription": transfer.description,
            "callbackUrl": transfer.callback_url,
            "transactionStatusDate": format_timestamp(transfer.status_changed_at),
        },
    }


def balance_inquiry(body: dict) -> dict:
    account_no = body.get("accountNo") or settings.SENDME_SOURCE_ACCOUNT
    account = _source_account(account_no)
    return {
        "partnerReferenceNo": body.get("partnerReferenceNo", ""),
        "accountNo": account.account_no,
        "name": settings.FASPAY_MERCHANT_NAME,
        "accountInfos": [{
            "balanceType": "Cash",
            "amount": format_amount(account.balance),
            "availableBalance": format_amount(account.balance),
            "status": "0001",
        }],
    }


def transaction_history(body: dict) -> dict:
    info = body.get("additionalInfo")
    if not isinstance(info, dict):
        info = {}
    account = _source_account(str(info.get("accountNo") or settings.SENDME_SOURCE_ACCOUNT))
    movements = DepositMovement.objects.filter(account=account)
    for field, lookup in (("fromDateTime", "created_at__gte"), ("toDateTime", "created_at__lte")):
        if body.get(field):
            try:
                movements = movements.filter(**{lookup: signing.parse_snap_timestamp(body[field])})
            except ValueError:
                raise SnapError(400, "01", f"Invalid Field Format {field}") from None
    return {
        "referenceNo": _new_reference_no(),
        "partnerReferenceNo": body.get("partnerReferenceNo", ""),
        "detailData": [{
            "dateTime": format_timestamp(movement.created_at),
            "amount": format_amount(movement.amount),
            "remark": movement.remark,
            "status": "SUCCESS",
            "type": movement.kind,
            "additionalInfo": {"debitCredit": movement.direction},
        } for movement in movements[:500]],
    }


OPERATIONS = {
    "account-inquiry-external": account_inquiry,
    "transfer-interbank": transfer_interbank,
    "transfer/status": transfer_status,
    "balance-inquiry": balance_inquiry,
    "transaction-history-list": transaction_history,
    "emoney/topup": emoney_topup,
    "emoney/topup-status": emoney_topup_status,
}


# --- status progression ----------------------------------------------------------------------

def _set_status(transfer: Transfer, status: str, now: dt.datetime) -> None:
    transfer.status = status
    transfer.status_changed_at = now
    if status in ("06", "04") and not transfer.refunded:
        account = DepositAccount.objects.select_for_update().get(account_no=transfer.source_account_no)
        account.balance += transfer.amount
        account.save(update_fields=["balance", "updated_at"])
        DepositMovement.objects.create(
            account=account, direction=DepositMovement.Direction.CREDIT, amount=transfer.amount,
            kind=transfer.kind, remark=f"refund {transfer.partner_reference_no} ({status})")
        transfer.refunded = True
    transfer.save()
    if transfer.callback_url:
        callback_enqueue(kind=Callback.Kind.SENDME, url=transfer.callback_url,
                         payload=callback_payload(transfer), transfer=transfer)


def _advance(transfer: Transfer, *, now: dt.datetime, config: SandboxConfig) -> None:
    """Apply every status change that is due at ``now`` (03 → 00/06, 00 → 04)."""
    if transfer.status == "03" and transfer.scenario != "pending" and now >= transfer.settle_at:
        if transfer.scenario == "fail":
            _set_status(transfer, "06", transfer.settle_at if transfer.settle_at <= now else now)
        else:
            if transfer.scenario == "reverse":
                transfer.reverse_at = transfer.settle_at + dt.timedelta(seconds=config.reverse_delay_seconds)
            _set_status(transfer, "00", now)
    if (transfer.status == "00" and transfer.scenario == "reverse" and transfer.reverse_at
            and now >= transfer.reverse_at):
        _set_status(transfer, "04", now)


def transfer_refresh(*, transfer_id: int) -> Transfer:
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
        _advance(transfer, now=timezone.now(), config=SandboxConfig.get())
    return transfer


def transfers_due() -> list[int]:
    now = timezone.now()
    pending = Transfer.objects.filter(status="03", settle_at__lte=now).exclude(scenario="pending")
    reversing = Transfer.objects.filter(status="00", scenario="reverse", reverse_at__lte=now)
    return list(pending.values_list("pk", flat=True)[:200]) + list(reversing.values_list("pk", flat=True)[:200])


def callback_payload(transfer: Transfer) -> dict:
    """The SNAP-style callback body (undocumented by Faspay; modelled on /transfer/status)."""
    payload: dict[str, Any] = {
        "originalReferenceNo": transfer.reference_no,
        "originalPartnerReferenceNo": transfer.partner_reference_no,
        "serviceCode": transfer.service_code,
        "transactionDate": transfer.transaction_date or format_timestamp(transfer.created_at),
        "amount": format_amount(transfer.amount),
        "latestTransactionStatus": transfer.status,
        "transactionStatusDesc": catalogue.TRANSACTION_STATUS[transfer.status],
        "additionalInfo": {
            "transactionStatusDate": format_timestamp(transfer.status_changed_at),
            "transactionDescription": transfer.description,
        },
    }
    if transfer.kind == Transfer.Kind.BANK:
        payload.update(beneficiaryAccountNo=transfer.beneficiary_account_no,
                       beneficiaryBankCode=transfer.beneficiary_bank_code,
                       sourceAccountNo=transfer.source_account_no)
        payload["additionalInfo"]["beneficiaryAccountName"] = transfer.beneficiary_account_name
        payload["additionalInfo"]["beneficiaryBankName"] = catalogue.bank_name(transfer.beneficiary_bank_code)
    else:
        payload["customerNumber"] = transfer.beneficiary_account_no
        payload["additionalInfo"]["platformCode"] = transfer.platform_code
        payload["additionalInfo"]["customerName"] = transfer.beneficiary_account_name
    return payload
