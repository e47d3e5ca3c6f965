"""Treasury state changes: withdrawal instructions and reconciliation items.

Each function writes its audit row in the same database transaction as the change. None of them
moves money in the ledger: a withdrawal is executed by Faspay on finance's instruction (and booked
when the bank statement shows it), and reconciliation only reports.
"""
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import RUPIAH_CEILING, check_rupiah_range, format_rupiah
from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from workdays.calendar import working_calendar

from . import rules
from .models import ReconciliationItem, WithdrawalInstruction


class TreasuryError(ServiceError):
    """A refused action; nothing changed."""


def withdrawal_quote(*, kind: str, amount: int, instructed_at: dt.datetime) -> rules.WithdrawalQuote:
    """The fee, VAT, processing day and rate time of an instruction given at ``instructed_at``."""
    if not check_rupiah_range(amount, minimum=1, maximum=RUPIAH_CEILING):
        raise TreasuryError(_("Enter an amount between %(min)s and %(max)s.")
                            % {"min": format_rupiah(1), "max": format_rupiah(RUPIAH_CEILING)},
                            code="amount_out_of_range")
    try:
        if kind == WithdrawalInstruction.Kind.OVERSEAS:
            return rules.overseas_quote(amount, instructed_at, working_calendar())
        return rules.domestic_quote(amount, instructed_at)
    except rules.WithdrawalRuleError as exc:
        raise TreasuryError(str(exc), code=exc.code) from exc


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TreasuryError(_("Please give a reason."), code="reason_required")
    return reason


def withdrawal_instruction_create(
    *, kind: str, amount: int, bank_name: str, account_number: str, account_holder: str, reason: str,
    actor, swift_code: str = "", country: str = "", currency: str = "", instructed_at: dt.datetime | None = None,
) -> WithdrawalInstruction:
    """Record a withdrawal instruction with the figures the terms give it (the quote is computed
    again here, at the moment of recording, so a preview left open past 12.00 WIB cannot record a
    stale processing day)."""
    reason = _require_reason(reason)
    instructed_at = instructed_at or timezone.now()
    quote = withdrawal_quote(kind=kind, amount=amount, instructed_at=instructed_at)
    if kind == WithdrawalInstruction.Kind.OVERSEAS and not swift_code.strip():
        raise TreasuryError(_("An overseas withdrawal needs the bank's SWIFT/BIC code."), code="swift_required")
    with transaction.atomic():
        instruction = WithdrawalInstruction.objects.create(
            kind=kind, amount=amount, fee=quote.fee, vat=quote.vat,
            vat_basis_points=rules.vat_basis_points() if quote.vat else 0,
            balance_needed=quote.balance_needed, instructed_at=instructed_at,
            processing_date=quote.processing_date, rate_time=quote.rate_time, bank_name=bank_name.strip(),
            account_number=account_number.strip(), account_holder=account_holder.strip(),
            swift_code=swift_code.strip().upper(), country=country.strip(), currency=currency.strip().upper(),
            reason=reason, created_by=actor,
        )
        audit_record(actor=actor, action="treasury.withdrawal_create", target=instruction, reason=reason, data={
            "kind": kind, "amount": amount, "fee": quote.fee, "vat": quote.vat,
            "balance_needed": quote.balance_needed, "processing_date": quote.processing_date.isoformat()})
        return instruction


def _lock_instruction(pk: int) -> WithdrawalInstruction:
    return locks.lock(WithdrawalInstruction, pk)


def withdrawal_instruction_mark_given(*, instruction: WithdrawalInstruction, actor, exchange_rate: str = "",
                                      reason: str = "") -> WithdrawalInstruction:
    """Finance gave the instruction to Faspay (dashboard or email); overseas: with the rate noted."""
    with transaction.atomic():
        instruction = _lock_instruction(instruction.pk)
        if instruction.status != WithdrawalInstruction.Status.PREPARED:
            raise TreasuryError(_("Only a prepared instruction can be given to Faspay."), code="not_prepared")
        instruction.give(at=timezone.now(), exchange_rate=exchange_rate)
        instruction.save(update_fields=["status", "given_at", "exchange_rate"])
        _post_withdrawal(instruction, actor)
        audit_record(actor=actor, action="treasury.withdrawal_given", target=instruction, reason=reason,
                     data={"exchange_rate": instruction.exchange_rate})
        return instruction


def _post_withdrawal(instruction: WithdrawalInstruction, actor) -> None:
    """The deposit gives up the amount plus the fee (and VAT); the amount reaches INTRASA's own
    account, the fee is an expense. Booked when the instruction is given; the nightly
    reconciliation against SendMe's mutation history catches a withdrawal Faspay did not carry out."""
    fee = instruction.fee + instruction.vat
    lines = [debit(AccountCategory.OPERATING_BANK, instruction.amount),
             credit(AccountCategory.SENDME_DEPOSIT, instruction.amount + fee)]
    if fee:
        lines.insert(1, debit(AccountCategory.WITHDRAWAL_FEES, fee))
    entry_post(idempotency_key=f"withdrawal:{instruction.pk}", kind=EntryKind.WITHDRAWAL,
               memo=f"Withdrawal #{instruction.pk} to {instruction.bank_name} {instruction.account_number[-4:]}",
               actor=actor, lines=lines)


def withdrawal_instruction_cancel(*, instruction: WithdrawalInstruction, actor, reason: str) -> WithdrawalInstruction:
    reason = _require_reason(reason)
    with transaction.atomic():
        instruction = _lock_instruction(instruction.pk)
        if instruction.status != WithdrawalInstruction.Status.PREPARED:
            raise TreasuryError(_("Only a prepared instruction can be cancelled."), code="not_prepared")
        instruction.cancel()
        instruction.save(update_fields=["status"])
        audit_record(actor=actor, action="treasury.withdrawal_cancel", target=instruction, reason=reason)
        return instruction


def reconciliation_item_resolve(*, item: ReconciliationItem, actor, resolution: str) -> ReconciliationItem:
    """Staff explain how a difference was settled (the fix itself goes through the owning app)."""
    resolution = _require_reason(resolution)
    with transaction.atomic():
        item = locks.lock(ReconciliationItem, item.pk)
        if item.state == ReconciliationItem.State.RESOLVED:
            return item
        item.state = ReconciliationItem.State.RESOLVED
        item.resolution = resolution
        item.resolved_by = actor
        item.resolved_at = timezone.now()
        item.save(update_fields=["state", "resolution", "resolved_by", "resolved_at", "last_seen_at"])
        audit_record(actor=actor, action="treasury.reconciliation_resolve", target=item, reason=resolution)
        return item


def penalty_first_month() -> dt.date | None:
    value = getattr(settings, "TREASURY_PENALTY_FIRST_MONTH", "")
    if not value:
        return None
    year, month = value.split("-")[:2]
    return dt.date(int(year), int(month), 1)
