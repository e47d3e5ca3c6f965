"""Treasury state changes: withdrawal instructions and reconciliation items.

Each function writes its audit row in the same database transaction as the change. None of them
moves money in the ledger: a withdrawal is executed by Faspay on finance's instruction (and booked
when the bank statement shows it), and reconciliation only reports.
"""
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError
from intrasa.money import RUPIAH_CEILING, check_rupiah_range, format_rupiah
from ledger.models import AccountCategory, EntryKind
from ledger.selectors import category_balance
from ledger.services import credit, debit, entry_post
from workdays.calendar import working_calendar

from . import rules
from .models import FaspayInvoice, ReconciliationItem, WithdrawalInstruction


class TreasuryError(ServiceError):
    """A refused action; nothing changed."""


def withdrawal_quote(*, kind: str, amount: int, instructed_at: dt.datetime) -> rules.WithdrawalQuote:
    """The fee, VAT, processing day and rate time of an instruction given at ``instructed_at``."""
    if not check_rupiah_range(amount, minimum=1, maximum=RUPIAH_CEILING):
        raise TreasuryError(_("Enter an amount between %(min)s and %(max)s.")
                            % {"min": format_rupiah(1), "max": format_rupiah(RUPIAH_CEILING)},
                            code="amount_out_of_range")
    if kind == WithdrawalInstruction.Kind.OVERSEAS and not overseas_offered():
        raise TreasuryError(_("Overseas withdrawals (terms B) are only for a Partner that is an overseas entity "
                              "without an Indonesian bank account; INTRASA is not declared as one."),
                            code="overseas_not_applicable")
    try:
        if kind == WithdrawalInstruction.Kind.OVERSEAS:
            return rules.overseas_quote(amount, instructed_at, working_calendar())
        return rules.domestic_quote(amount, instructed_at)
    except rules.WithdrawalRuleError as exc:
        raise TreasuryError(str(exc), code=exc.code) from exc


def overseas_offered() -> bool:
    return bool(getattr(settings, "TREASURY_OVERSEAS_ENTITY", False))


@dataclass(frozen=True)
class DepositCover:
    """Whether the SendMe deposit can give up ``needed`` and still pay everything owed."""

    available: int  # SendMe's available balance
    payables: int  # still owed to sellers and buyers (ledger seller + buyer refund payables)
    prepared: int  # other withdrawals prepared and not yet given
    needed: int  # this withdrawal: amount + fee + VAT

    @property
    def free(self) -> int:
        return self.available - self.payables - self.prepared

    @property
    def shortfall(self) -> int:
        return max(self.needed - self.free, 0)


def deposit_available() -> int:
    """SendMe's available deposit balance (a network call: never inside a database transaction)."""
    from .selectors import sendme_balance

    balance = sendme_balance()
    if not balance.ok or balance.available is None:
        raise TreasuryError(_("The SendMe deposit balance is unknown (%(detail)s); a withdrawal is only prepared or "
                              "given against a known balance.") % {"detail": balance.error or "—"},
                            code="balance_unknown")
    return balance.available


def deposit_cover(*, needed: int, available: int, exclude_pk: int | None = None) -> DepositCover:
    payables = (category_balance(category=AccountCategory.SELLER_PAYABLE)
                + category_balance(category=AccountCategory.BUYER_REFUND_PAYABLE))
    prepared = (WithdrawalInstruction.objects.filter(status=WithdrawalInstruction.Status.PREPARED)
                .exclude(pk=exclude_pk).aggregate(total=Sum("balance_needed"))["total"] or 0)
    return DepositCover(available=available, payables=payables, prepared=prepared, needed=needed)


def _check_deposit_covers(cover: DepositCover) -> None:
    """Refuse, with the numbers, a withdrawal the deposit cannot carry next to what is owed."""
    if cover.shortfall:
        raise TreasuryError(
            _("The SendMe deposit does not cover this withdrawal: available %(available)s, still owed to sellers "
              "and buyers %(payables)s, other prepared withdrawals %(prepared)s, so %(free)s is free; this "
              "withdrawal needs %(needed)s (amount + fee + VAT). Short by %(short)s.")
            % {"available": format_rupiah(cover.available), "payables": format_rupiah(cover.payables),
               "prepared": format_rupiah(cover.prepared), "free": format_rupiah(cover.free),
               "needed": format_rupiah(cover.needed), "short": format_rupiah(cover.shortfall)},
            code="deposit_short")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TreasuryError(_("Please give a reason."), code="reason_required")
    return reason


def withdrawal_instruction_create(
    *, kind: str, amount: int, bank_name: str, account_number: str, account_holder: str, reason: str,
    actor, swift_code: str = "", country: str = "", currency: str = "", instructed_at: dt.datetime | None = None,
    available: int | None = None,
) -> WithdrawalInstruction:
    """Record a withdrawal instruction with the figures the terms give it (the quote is computed
    again here, at the moment of recording, so a preview left open past 12.00 WIB cannot record a
    stale processing day). The deposit must cover it next to everything still owed to sellers and
    buyers: ``available`` is SendMe's available balance, asked for here when not given."""
    reason = _require_reason(reason)
    instructed_at = instructed_at or timezone.now()
    quote = withdrawal_quote(kind=kind, amount=amount, instructed_at=instructed_at)
    if kind == WithdrawalInstruction.Kind.OVERSEAS and not swift_code.strip():
        raise TreasuryError(_("An overseas withdrawal needs the bank's SWIFT/BIC code."), code="swift_required")
    if available is None:
        available = deposit_available()
    with transaction.atomic():
        _check_deposit_covers(deposit_cover(needed=quote.balance_needed, available=available))
        instruction = WithdrawalInstruction.objects.create(
            kind=kind, amount=amount, fee=quote.fee, vat=quote.vat,
            vat_basis_points=rules.vat_basis_points() if quote.vat else 0,
            balance_needed=quote.balance_needed, instructed_at=instructed_at,
            processing_date=quote.processing_date, rate_time=quote.rate_time, arrive_by=quote.arrive_by,
            bank_name=bank_name.strip(),
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
                                      reason: str = "", available: int | None = None,
                                      given_at: dt.datetime | None = None) -> WithdrawalInstruction:
    """Finance gave the instruction to Faspay (dashboard or email); overseas: with the rate noted.

    The 12.00 WIB cut-off (terms B) applies to when Faspay receives the instruction, so the
    processing day, the rate time and the arrival are computed again for this moment; the
    deposit must still cover it (payables may have grown since it was prepared)."""
    given_at = given_at or timezone.now()
    if available is None:
        available = deposit_available()
    with transaction.atomic():
        instruction = _lock_instruction(instruction.pk)
        if instruction.status != WithdrawalInstruction.Status.PREPARED:
            raise TreasuryError(_("Only a prepared instruction can be given to Faspay."), code="not_prepared")
        _check_deposit_covers(deposit_cover(needed=instruction.balance_needed, available=available,
                                            exclude_pk=instruction.pk))
        if instruction.kind == WithdrawalInstruction.Kind.OVERSEAS:
            quote = rules.overseas_quote(instruction.amount, given_at, working_calendar())
        else:
            quote = rules.domestic_quote(instruction.amount, given_at)
        recorded_day = instruction.processing_date
        instruction.give(at=given_at, processing_date=quote.processing_date, rate_time=quote.rate_time,
                         arrive_by=quote.arrive_by, exchange_rate=exchange_rate)
        instruction.save(update_fields=["status", "given_at", "exchange_rate", "processing_date", "rate_time",
                                        "arrive_by"])
        _post_withdrawal(instruction, actor)
        audit_record(actor=actor, action="treasury.withdrawal_given", target=instruction, reason=reason,
                     data={"exchange_rate": instruction.exchange_rate,
                           "processing_date": instruction.processing_date.isoformat(),
                           "processing_date_when_prepared": recorded_day.isoformat()})
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


def _month_setting(name: str) -> dt.date | None:
    value = getattr(settings, name, "")
    if not value:
        return None
    year, month = value.split("-")[:2]
    return dt.date(int(year), int(month), 1)


def penalty_first_month() -> dt.date | None:
    """The first month of the first penalty period: the month after going live (terms C's
    simulation), unless ``TREASURY_PENALTY_FIRST_MONTH`` says otherwise."""
    explicit = _month_setting("TREASURY_PENALTY_FIRST_MONTH")
    if explicit:
        return explicit
    live = _month_setting("TREASURY_GO_LIVE_MONTH")
    return rules.first_penalty_month(live) if live else None


def merchant_joined_on() -> dt.date | None:
    value = getattr(settings, "TREASURY_MERCHANT_JOINED_ON", "")
    return dt.date.fromisoformat(value) if value else None


def faspay_invoice_record(*, month: dt.date, transactions: int, penalty: int, invoice_number: str, actor,
                          penalty_period_start: dt.date | None = None, penalty_period_end: dt.date | None = None,
                          note: str = "") -> tuple[FaspayInvoice, list[ReconciliationItem]]:
    """Record Faspay's invoice and reconcile it: the transactions it counts for ``month`` against
    the SendMe transfers that succeeded that WIB month, and the penalty it charges against the
    penalty INTRASA's forecast computes for the period (terms C). Each difference becomes an open
    reconciliation item; a matching invoice leaves none."""
    from .selectors import penalty_for_period, succeeded_transfers_in

    invoice_number = (invoice_number or "").strip()
    if not invoice_number:
        raise TreasuryError(_("Enter the invoice number."), code="invoice_number_required")
    if transactions < 0 or not check_rupiah_range(penalty, minimum=0, maximum=RUPIAH_CEILING):
        raise TreasuryError(_("Enter the invoiced figures as whole, non-negative numbers."), code="invalid_figures")
    if FaspayInvoice.objects.filter(invoice_number=invoice_number).exists():
        raise TreasuryError(_("This invoice was already entered."), code="duplicate_invoice")
    month = rules.month_start(month)
    if penalty and not (penalty_period_start and penalty_period_end):
        start, end, _invoice_on = rules.penalty_period(month, penalty_first_month())
        penalty_period_start, penalty_period_end = start, end
    ours = succeeded_transfers_in(month)
    expected_penalty = (penalty_for_period(penalty_period_start, penalty_period_end)
                        if penalty_period_start and penalty_period_end else 0)
    with transaction.atomic():
        invoice = FaspayInvoice.objects.create(
            month=month, transactions=transactions, penalty=penalty, invoice_number=invoice_number,
            penalty_period_start=penalty_period_start, penalty_period_end=penalty_period_end, note=note.strip(),
            entered_by=actor)
        items = []
        differences = []
        if transactions != ours:
            differences.append(("invoice_transactions", str(ours), str(transactions), transactions - ours))
        if penalty != expected_penalty:
            differences.append(("invoice_penalty", format_rupiah(expected_penalty), format_rupiah(penalty),
                                penalty - expected_penalty))
        for code, local, provider, difference in differences:
            item, _created = ReconciliationItem.objects.update_or_create(
                day=month, source=ReconciliationItem.Source.FASPAY_INVOICE, reference=invoice_number, code=code,
                defaults={"object_type": "treasury.faspayinvoice", "object_id": str(invoice.pk),
                          "local_status": local[:40], "provider_status": provider[:40],
                          "amount": difference if code == "invoice_penalty" else None,
                          "evidence": {"month": month.isoformat(), "invoiced_transactions": transactions,
                                       "our_transactions": ours, "invoiced_penalty": penalty,
                                       "forecast_penalty": expected_penalty,
                                       "period": [penalty_period_start.isoformat() if penalty_period_start else None,
                                                  penalty_period_end.isoformat() if penalty_period_end else None]}})
            items.append(item)
        audit_record(actor=actor, action="treasury.faspay_invoice", target=invoice, data={
            "month": month.isoformat(), "transactions": transactions, "ours": ours, "penalty": penalty,
            "forecast_penalty": expected_penalty, "differences": [d[0] for d in differences]})
        return invoice, items
