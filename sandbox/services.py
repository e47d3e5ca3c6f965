"""Control operations of the sandbox (the control page and ``/sandbox/control/api`` call these).

Every mutation of sandbox state outside the two protocols goes through a function here.
"""
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import catalogue, debit, sendme
from .callbacks import callback_attempt, callbacks_due, describe
from .models import (
    NOTIFICATION_FORMATS,
    Bill,
    Callback,
    DepositAccount,
    DepositMovement,
    ExternalId,
    Fault,
    RegisteredAccount,
    SandboxConfig,
    Shipment,
    Transfer,
)


def _boolean(value) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no", ""):
        return False
    raise ValueError(value)


# Each setting and the function that parses a submitted value for it.
CONFIG_FIELDS: dict[str, Callable[[Any], Any]] = {
    "settle_delay_seconds": int, "reverse_delay_seconds": int, "callback_max_attempts": int,
    "callback_retry_seconds": int, "timestamp_skew_seconds": int, "bank_transfer_limit": int,
    "ewallet_topup_limit": int, "debit_amount_scale": int, "notification_url": str, "notification_format": str,
    "qris_content": _boolean,
}


class ControlError(ValueError):
    """A control request that cannot be carried out (shown to the developer)."""


def sandbox_reset() -> None:
    """Forget everything: bills, transfers, callbacks, faults, external ids, config, balance."""
    with transaction.atomic():
        for model in (Callback, Bill, Transfer, DepositMovement, DepositAccount, ExternalId, Fault,
                      SandboxConfig, RegisteredAccount, Shipment):
            model.objects.all().delete()
        SandboxConfig.get()
        sendme.deposit_account()


def config_update(**values) -> SandboxConfig:
    unknown = set(values) - set(CONFIG_FIELDS)
    if unknown:
        raise ControlError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    with transaction.atomic():
        config = SandboxConfig.get()
        for field, value in values.items():
            try:
                value = CONFIG_FIELDS[field](value if value is not None else "")
            except (TypeError, ValueError):
                raise ControlError(f"{field}: not a valid value") from None
            if isinstance(value, int) and value < 0:
                raise ControlError(f"{field}: must not be negative")
            setattr(config, field, value)
        if config.callback_max_attempts < 1 or config.debit_amount_scale < 1:
            raise ControlError("callback_max_attempts and debit_amount_scale must be at least 1")
        if config.notification_format not in dict(NOTIFICATION_FORMATS):
            raise ControlError(f"notification_format: one of {', '.join(dict(NOTIFICATION_FORMATS))}")
        config.save()
    return config


def deposit_set_balance(*, balance: int | None = None, delta: int | None = None) -> DepositAccount:
    with transaction.atomic():
        sendme.deposit_account()
        account = DepositAccount.objects.select_for_update().get(account_no=sendme.deposit_account().account_no)
        new_balance = balance if balance is not None else account.balance + int(delta or 0)
        if new_balance < 0:
            raise ControlError("the balance cannot be negative")
        change = new_balance - account.balance
        account.balance = new_balance
        account.save(update_fields=["balance", "updated_at"])
        if change:
            DepositMovement.objects.create(
                account=account, amount=abs(change), kind="adjustment",
                direction=DepositMovement.Direction.CREDIT if change > 0 else DepositMovement.Direction.DEBIT,
                remark="balance adjusted from the control page")
    return account


def fault_add(*, kind: str, scope: str = "", count: int | None = None, ratio: float = 1.0,
              seconds: float = 0, after_processing: bool = False) -> Fault:
    if kind not in Fault.Kind.values:
        raise ControlError(f"unknown fault kind {kind!r}; one of {', '.join(Fault.Kind.values)}")
    if not 0 < float(ratio) <= 1:
        raise ControlError("ratio must be in (0, 1]")
    if count is not None and int(count) < 1:
        raise ControlError("count must be at least 1 (or empty for no limit)")
    if kind == Fault.Kind.TIMEOUT and not seconds:
        seconds = 30
    return Fault.objects.create(kind=kind, scope=scope or "", remaining=None if count is None else int(count),
                                ratio=float(ratio), seconds=float(seconds),
                                after_processing=bool(after_processing))


def faults_clear() -> int:
    return Fault.objects.all().delete()[0]


def sandbox_tick(*, grace_seconds: float = 0) -> dict:
    """Do now what the periodic sweep would do: settle due transfers, deliver due callbacks,
    expire overdue bills' display (lazy), release held callbacks older than a minute."""
    settled = 0
    for transfer_id in sendme.transfers_due():
        sendme.transfer_refresh(transfer_id=transfer_id)
        settled += 1
    delivered = 0
    for callback_id in callbacks_due(grace_seconds=grace_seconds):
        callback_attempt(callback_id=callback_id)
        delivered += 1
    return {"transfers_checked": settled, "callbacks_attempted": delivered}


def sandbox_state(limit: int = 20) -> dict:
    config = SandboxConfig.get()
    account = sendme.deposit_account()
    return {
        "config": {field: getattr(config, field) for field in CONFIG_FIELDS},
        "deposit": {"account_no": account.account_no, "balance": account.balance},
        "faults": [{"id": f.pk, "scope": f.scope, "kind": f.kind, "remaining": f.remaining,
                    "ratio": f.ratio, "seconds": f.seconds, "after_processing": f.after_processing,
                    "hits": f.hits} for f in Fault.objects.all()],
        "transfers": [{"partner_reference_no": t.partner_reference_no, "reference_no": t.reference_no,
                       "kind": t.kind, "amount": t.amount, "account": t.beneficiary_account_no,
                       "status": t.status, "scenario": t.scenario, "attempts": t.attempts}
                      for t in Transfer.objects.all()[:limit]],
        "bills": [{"trx_id": b.trx_id, "bill_no": b.bill_no, "bill_total": b.bill_total,
                   "channel": b.payment_channel, "status": debit.current_status(b),
                   "payment_total": b.payment_total} for b in Bill.objects.all()[:limit]],
        "callbacks": [describe(c) for c in Callback.objects.all()[:limit]],
        "test_accounts": {
            "bank": [{"number": a.number, "behaviour": a.behaviour, "description": a.description}
                     for a in catalogue.BANK_TEST_ACCOUNTS.values()],
            "ewallet": [{"number": a.number, "behaviour": a.behaviour, "description": a.description}
                        for a in catalogue.EWALLET_TEST_ACCOUNTS.values()],
        },
        "now": timezone.now().isoformat(),
    }
