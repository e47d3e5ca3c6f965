"""The money rules of Faspay SendMe's operational terms that concern INTRASA's own treasury:
withdrawals from the SendMe deposit (sections A and B) and the monthly-target penalty (section C).

Pure functions of their arguments (plus settings for the configurable numbers and the working-day
calendar for dates), so every boundary is tested directly in ``tests/treasury/test_rules.py``.

Decisions written down here (the terms are silent or ambiguous):

* **VAT on the domestic Withdrawal Fee** is ``TREASURY_WITHDRAWAL_VAT_BASIS_POINTS`` (default
  1100 = 11%). Since 1 January 2025 the statutory PPN rate is 12% (UU HPP), but PMK 131/2024 taxes
  everything except luxury goods on a base of 11/12 of the price, so the effective rate on a
  payment-service fee is 11%; 12% applies in full only to luxury goods (PPnBM). A withdrawal fee
  is a service, so 11%. The setting exists for the day the rule changes.
* **Overseas withdrawals carry no VAT line**: terms B's own example (Rp 1.000.000 needs a balance
  of Rp 1.400.000) adds exactly the Rp 400.000 fee.
* **12.00 WIB cut-off**: terms B say "00.01–12.00" is processed the same Business Day and "above
  12.00" the next. An instruction stamped 12.00 (any second within that minute) is still "at
  12.00"; 12.01 is above. An instruction on a day that is not a Business Day is processed on the
  next Business Day. Business Days are INTRASA's working-day calendar (Indonesian public holidays
  and cuti bersama, plus staff overrides).
* **Exchange rate**: the rate of 10.00 WIB on the processing day; ``overseas_rate_time`` gives the
  instant finance must note the rate for.
* **Penalty**: the gap is never negative; a month that meets its target owes nothing (the Rp
  1.000.000 minimum applies to a positive gap only — the terms' formula starts from a gap, and a
  minimum on a zero gap would fine a partner that met its target). 1% of gap × Rp 4.000 is gap ×
  Rp 40, an exact integer: no rounding.
"""
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from intrasa.money import percent_of
from intrasa.wib import WIB, to_wib

DOMESTIC_MAX_PER_INSTRUCTION = 50_000_000
DOMESTIC_WITHDRAWAL_FEE = 5_000
OVERSEAS_MINIMUM = 500_000
OVERSEAS_WITHDRAWAL_FEE = 400_000
OVERSEAS_FEE_WAIVED_FROM = 400_000_000
OVERSEAS_CUTOFF = dt.time(12, 0)
OVERSEAS_RATE_TIME = dt.time(10, 0)
OVERSEAS_ARRIVAL_BUSINESS_DAYS = 5
PENALTY_APPLIES_FROM = dt.date(2025, 4, 1)  # terms C: merchants who first joined on or after
PENALTY_TRANSACTION_FEE = 4_000
PENALTY_BASIS_POINTS = 100  # 1%
PENALTY_MINIMUM = 1_000_000


class WithdrawalRuleError(ValueError):
    """The instruction breaks a rule of the terms; ``code`` names which one."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WithdrawalQuote:
    amount: int
    fee: int
    vat: int
    processing_date: dt.date
    rate_time: dt.datetime | None
    arrive_by: dt.date | None = None  # overseas: at most 5 Business Days after processing

    @property
    def balance_needed(self) -> int:
        """What leaves the SendMe deposit: the amount plus the charges."""
        return self.amount + self.fee + self.vat


# --- section A: domestic ----------------------------------------------------------------------

def vat_basis_points() -> int:
    return getattr(settings, "TREASURY_WITHDRAWAL_VAT_BASIS_POINTS", 1100)


def domestic_check_amount(amount: int) -> None:
    if amount <= 0:
        raise WithdrawalRuleError(_("The amount must be positive."), "amount_not_positive")
    if amount > DOMESTIC_MAX_PER_INSTRUCTION:
        raise WithdrawalRuleError(_("At most Rp 50.000.000 per withdrawal instruction to a domestic account."),
                                  "domestic_maximum")


def domestic_fee() -> int:
    return DOMESTIC_WITHDRAWAL_FEE


def domestic_vat(fee: int | None = None) -> int:
    return percent_of(DOMESTIC_WITHDRAWAL_FEE if fee is None else fee, vat_basis_points())


def domestic_quote(amount: int, instructed_at: dt.datetime) -> WithdrawalQuote:
    """A domestic Withdrawal Instruction: processed as given (no cut-off in terms A)."""
    domestic_check_amount(amount)
    return WithdrawalQuote(amount=amount, fee=domestic_fee(), vat=domestic_vat(),
                           processing_date=to_wib(instructed_at).date(), rate_time=None)


# --- section B: overseas ----------------------------------------------------------------------

def overseas_check_amount(amount: int) -> None:
    if amount < OVERSEAS_MINIMUM:
        raise WithdrawalRuleError(_("The minimum overseas withdrawal is Rp 500.000."), "overseas_minimum")


def overseas_fee(amount: int) -> int:
    """Rp 400.000 added on top, none from Rp 400.000.000."""
    return 0 if amount >= OVERSEAS_FEE_WAIVED_FROM else OVERSEAS_WITHDRAWAL_FEE


def overseas_processing_date(instructed_at: dt.datetime, calendar) -> dt.date:
    """Same Business Day if given by 12.00 WIB on a Business Day, otherwise the next one."""
    local = to_wib(instructed_at)
    day = local.date()
    same_day = calendar.is_working_day(day) and (local.hour, local.minute) <= (OVERSEAS_CUTOFF.hour,
                                                                                OVERSEAS_CUTOFF.minute)
    return day if same_day else calendar.next_working_day(day)


def overseas_rate_time(processing_date: dt.date) -> dt.datetime:
    return dt.datetime.combine(processing_date, OVERSEAS_RATE_TIME, WIB)


def overseas_arrive_by(processing_date: dt.date, calendar) -> dt.date:
    """Terms B: the money arrives at most 5 Business Days after Media processed the instruction."""
    day = processing_date
    for _day in range(OVERSEAS_ARRIVAL_BUSINESS_DAYS):
        day = calendar.next_working_day(day)
    return day


def overseas_quote(amount: int, instructed_at: dt.datetime, calendar) -> WithdrawalQuote:
    overseas_check_amount(amount)
    day = overseas_processing_date(instructed_at, calendar)
    return WithdrawalQuote(amount=amount, fee=overseas_fee(amount), vat=0, processing_date=day,
                           rate_time=overseas_rate_time(day), arrive_by=overseas_arrive_by(day, calendar))


# --- section C: penalty -----------------------------------------------------------------------

@dataclass(frozen=True)
class MonthPenalty:
    month: dt.date  # first day of the month
    target: int
    achieved: int

    @property
    def gap(self) -> int:
        return transaction_gap(self.target, self.achieved)

    @property
    def gap_amount(self) -> int:
        return self.gap * PENALTY_TRANSACTION_FEE

    @property
    def penalty(self) -> int:
        return monthly_penalty(self.target, self.achieved)


def penalty_applies(joined_on: dt.date | None) -> bool:
    """Terms C: only for merchants who first joined or registered on or after 1 April 2025. An
    unknown join date forecasts no penalty (the page says why)."""
    return joined_on is not None and joined_on >= PENALTY_APPLIES_FROM


def first_penalty_month(go_live_month: dt.date) -> dt.date:
    """The simulation: live in January → the first period is February–April (invoiced 1 May)."""
    return add_months(month_start(go_live_month), 1)


def transaction_gap(target: int, achieved: int) -> int:
    return max(target - achieved, 0)


def monthly_penalty(target: int, achieved: int) -> int:
    gap = transaction_gap(target, achieved)
    if gap == 0:
        return 0
    return max(gap * PENALTY_TRANSACTION_FEE * PENALTY_BASIS_POINTS // 10_000, PENALTY_MINIMUM)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def penalty_period(month: dt.date, first_month: dt.date | None = None) -> tuple[dt.date, dt.date, dt.date]:
    """The three-month penalty period containing ``month``: (first month, last month, invoice day).

    Terms C accumulate penalties every three months and invoice them on the first day after the
    period (the simulation: live in January, invoices on 1 May and 1 August, i.e. periods
    February–April and May–July counted from the first full month after going live).
    ``first_month`` is that first counted month (``TREASURY_PENALTY_FIRST_MONTH``); without it the
    periods are calendar quarters.
    """
    month = month_start(month)
    anchor = month_start(first_month) if first_month else dt.date(month.year, 1, 1)
    offset = (month.year * 12 + month.month) - (anchor.year * 12 + anchor.month)
    start = add_months(anchor, (offset // 3) * 3)
    end = add_months(start, 2)
    return start, end, add_months(start, 3)
