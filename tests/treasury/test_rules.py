"""The treasury rules of the SendMe terms, at their boundaries (treasury/rules.py)."""
import datetime as dt

import pytest

from intrasa.wib import WIB
from treasury import rules
from workdays.calendar import WorkingCalendar


def wib(*args):
    return dt.datetime(*args, tzinfo=WIB)


CAL = WorkingCalendar()  # Indonesian holidays from the package, no staff overrides

# --- terms A: domestic --------------------------------------------------------------------------


def test_domestic_maximum_is_fifty_million_per_instruction():
    quote = rules.domestic_quote(50_000_000, wib(2026, 8, 12, 9, 0))
    assert quote.amount == 50_000_000
    with pytest.raises(rules.WithdrawalRuleError) as exc:
        rules.domestic_quote(50_000_001, wib(2026, 8, 12, 9, 0))
    assert exc.value.code == "domestic_maximum"


@pytest.mark.parametrize("amount", [0, -1])
def test_domestic_amount_must_be_positive(amount):
    with pytest.raises(rules.WithdrawalRuleError):
        rules.domestic_check_amount(amount)


def test_domestic_fee_is_five_thousand_plus_eleven_percent_vat():
    quote = rules.domestic_quote(1_000_000, wib(2026, 8, 12, 9, 0))
    assert (quote.fee, quote.vat) == (5_000, 550)
    assert quote.balance_needed == 1_005_550
    assert quote.rate_time is None and quote.processing_date == dt.date(2026, 8, 12)


def test_vat_rate_is_a_setting(settings):
    settings.TREASURY_WITHDRAWAL_VAT_BASIS_POINTS = 1200
    assert rules.domestic_vat() == 600


# --- terms B: overseas --------------------------------------------------------------------------


def test_overseas_minimum_is_five_hundred_thousand():
    assert rules.overseas_quote(500_000, wib(2026, 8, 12, 9, 0), CAL).amount == 500_000
    with pytest.raises(rules.WithdrawalRuleError) as exc:
        rules.overseas_quote(499_999, wib(2026, 8, 12, 9, 0), CAL)
    assert exc.value.code == "overseas_minimum"


def test_overseas_fee_is_added_on_top_below_four_hundred_million():
    quote = rules.overseas_quote(1_000_000, wib(2026, 8, 12, 9, 0), CAL)
    assert (quote.fee, quote.vat, quote.balance_needed) == (400_000, 0, 1_400_000)  # the terms' own example
    assert rules.overseas_fee(399_999_999) == 400_000
    assert rules.overseas_fee(400_000_000) == 0
    assert rules.overseas_quote(400_000_000, wib(2026, 8, 12, 9, 0), CAL).balance_needed == 400_000_000


def test_no_maximum_for_overseas():
    assert rules.overseas_quote(5_000_000_000, wib(2026, 8, 12, 9, 0), CAL).fee == 0


@pytest.mark.parametrize("clock, expected", [
    ((0, 1), dt.date(2026, 8, 12)),
    ((11, 59), dt.date(2026, 8, 12)),
    ((12, 0), dt.date(2026, 8, 12)),
    ((12, 1), dt.date(2026, 8, 13)),
    ((23, 59), dt.date(2026, 8, 13)),
])
def test_overseas_cutoff_is_noon_wib(clock, expected):
    instructed = wib(2026, 8, 12, *clock)  # a Wednesday, working day
    assert rules.overseas_processing_date(instructed, CAL) == expected


def test_overseas_rate_is_ten_o_clock_of_the_processing_day():
    quote = rules.overseas_quote(1_000_000, wib(2026, 8, 12, 12, 1), CAL)
    assert quote.rate_time == wib(2026, 8, 13, 10, 0)


def test_cutoff_is_in_wib_even_for_utc_instants():
    instructed = dt.datetime(2026, 8, 12, 4, 59, tzinfo=dt.timezone.utc)  # 11.59 WIB
    assert rules.overseas_processing_date(instructed, CAL) == dt.date(2026, 8, 12)
    instructed = dt.datetime(2026, 8, 12, 5, 1, tzinfo=dt.timezone.utc)  # 12.01 WIB
    assert rules.overseas_processing_date(instructed, CAL) == dt.date(2026, 8, 13)


def test_friday_afternoon_before_a_holiday_goes_to_the_next_business_day_after_it():
    # Friday 14 August 2026, 15.00 WIB; Monday 17 August is Independence Day.
    assert CAL.is_working_day(dt.date(2026, 8, 17)) is False
    assert rules.overseas_processing_date(wib(2026, 8, 14, 15, 0), CAL) == dt.date(2026, 8, 18)
    # Friday 13 February 2026; Monday 16 and Tuesday 17 are Lunar New Year (joint) holidays.
    assert rules.overseas_processing_date(wib(2026, 2, 13, 12, 1), CAL) == dt.date(2026, 2, 18)
    # Before noon that Friday it is still the same day.
    assert rules.overseas_processing_date(wib(2026, 8, 14, 11, 59), CAL) == dt.date(2026, 8, 14)


def test_instruction_on_a_holiday_morning_waits_for_the_next_business_day():
    assert rules.overseas_processing_date(wib(2026, 8, 17, 9, 0), CAL) == dt.date(2026, 8, 18)
    assert rules.overseas_processing_date(wib(2026, 8, 15, 9, 0), CAL) == dt.date(2026, 8, 18)  # Saturday


def test_staff_calendar_override_counts():
    # Staff declare Tuesday 18 August 2026 a day off too (e.g. an office closure).
    calendar = WorkingCalendar({dt.date(2026, 8, 18): (True, "office closed")})
    assert rules.overseas_processing_date(wib(2026, 8, 14, 15, 0), calendar) == dt.date(2026, 8, 19)


# --- terms C: penalty ---------------------------------------------------------------------------


@pytest.mark.parametrize("target, achieved, gap, penalty", [
    (1_000, 1_000, 0, 0),            # target met: nothing owed
    (1_000, 1_500, 0, 0),            # exceeded: the gap is never negative
    (1_000, 999, 1, 1_000_000),      # 1 × 4.000 × 1% = Rp 40 → the minimum
    (1_000, 0, 1_000, 1_000_000),    # 1.000 × 4.000 × 1% = Rp 40.000 → the minimum
    (25_000, 0, 25_000, 1_000_000),  # exactly the minimum
    (25_001, 0, 25_001, 1_000_040),  # above the minimum: gap × Rp 40
    (100_000, 40_000, 60_000, 2_400_000),
])
def test_monthly_penalty(target, achieved, gap, penalty):
    assert rules.transaction_gap(target, achieved) == gap
    assert rules.monthly_penalty(target, achieved) == penalty
    month = rules.MonthPenalty(dt.date(2026, 1, 1), target, achieved)
    assert month.gap_amount == gap * 4_000 and month.penalty == penalty


def test_penalty_periods_follow_the_terms_simulation():
    # Live in January: periods February–April (invoiced 1 May) and May–July (invoiced 1 August).
    first = dt.date(2025, 2, 1)
    assert rules.penalty_period(dt.date(2025, 3, 15), first) == (dt.date(2025, 2, 1), dt.date(2025, 4, 1),
                                                                 dt.date(2025, 5, 1))
    assert rules.penalty_period(dt.date(2025, 7, 31), first) == (dt.date(2025, 5, 1), dt.date(2025, 7, 1),
                                                                 dt.date(2025, 8, 1))
    assert rules.penalty_period(dt.date(2026, 1, 2), first)[2] == dt.date(2026, 2, 1)


def test_penalty_periods_default_to_calendar_quarters():
    assert rules.penalty_period(dt.date(2026, 5, 20)) == (dt.date(2026, 4, 1), dt.date(2026, 6, 1),
                                                         dt.date(2026, 7, 1))
    assert rules.penalty_period(dt.date(2026, 12, 31))[2] == dt.date(2027, 1, 1)
