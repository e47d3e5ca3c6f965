"""The SendMe operational terms as small functions, at their boundaries."""
import datetime as dt

import pytest

from disbursements import quota, rules
from disbursements.models import DailyLimitChange, DailyQuota
from intrasa.wib import WIB, wib_date


@pytest.mark.parametrize("total,limit,parts", [
    (50_000_000, 50_000_000, [50_000_000]),
    (50_000_001, 50_000_000, [50_000_000, 1]),
    (120_000_000, 50_000_000, [50_000_000, 50_000_000, 20_000_000]),
    (5_000_000, 5_000_000, [5_000_000]),
    (5_000_001, 5_000_000, [5_000_000, 1]),
    (1, 5_000_000, [1]),
])
def test_split_by_per_transfer_limit(total, limit, parts):
    assert rules.split_amount(total, limit) == parts
    assert sum(parts) == total


def test_per_transfer_limits_come_from_settings(settings):
    assert rules.max_part("bank") == 50_000_000 and rules.max_part("ewallet") == 5_000_000
    settings.SENDME_MAX_BANK_TRANSFER = 25_000_000
    assert rules.max_part("bank") == 25_000_000


@pytest.mark.parametrize("clock,held_until", [
    ((21, 59), None),
    ((22, 0), (2026, 6, 13, 5, 0)),
    ((23, 30), (2026, 6, 13, 5, 0)),
])
def test_night_window_before_midnight(settings, clock, held_until):
    settings.SENDME_NIGHT_HOLD_BANK = True
    moment = dt.datetime(2026, 6, 12, *clock, tzinfo=WIB)
    expected = dt.datetime(*held_until, tzinfo=WIB) if held_until else None
    assert rules.night_hold_until(moment, "bank") == expected


@pytest.mark.parametrize("clock,held", [((0, 30), True), ((4, 59), True), ((5, 0), False)])
def test_night_window_after_midnight(settings, clock, held):
    settings.SENDME_NIGHT_HOLD_BANK = True
    moment = dt.datetime(2026, 6, 13, *clock, tzinfo=WIB)
    until = rules.night_hold_until(moment, "bank")
    assert (until == dt.datetime(2026, 6, 13, 5, 0, tzinfo=WIB)) if held else until is None


def test_night_policy_is_configurable_and_ewallets_go_at_night(settings):
    moment = dt.datetime(2026, 6, 12, 23, 0, tzinfo=WIB)
    settings.SENDME_NIGHT_HOLD_BANK = True
    assert rules.night_hold_until(moment, "ewallet") is None
    settings.SENDME_NIGHT_HOLD_BANK = False
    assert rules.night_hold_until(moment, "bank") is None


def test_instruction_description_carries_the_reference():
    assert rules.transfer_description("INT-AAAA-BBBB-CCCC", 2, 3) == "INTRASA INT-AAAA-BBBB-CCCC 2/3"


@pytest.mark.parametrize("ours,bank,match", [
    ("Sari Penjual", "SARI PENJUAL", True),
    ("Sari Penjual", "PENJUAL SARI", True),
    ("Ibu Sari Penjual", "SARI PENJUAL", True),
    ("Raden Ajeng Sari Kusumawardhani Penjual", "RADEN AJENG SARI KUSUMAW", True),
    ("Sari Penjual", "BUDI SANTOSO", False),
    ("Sari Penjual", "SARI", False),
    ("Sari", "", False),
])
def test_holder_name_matching(ours, bank, match):
    assert rules.names_match(ours, bank) is match


@pytest.mark.django_db
def test_quota_boundaries(settings):
    day = dt.date(2026, 6, 12)
    assert quota.reserve(day, 30_000_000)
    assert not quota.reserve(day, 20_000_001)
    assert quota.reserve(day, 20_000_000)  # exactly the Daily Nominal Total
    assert not quota.reserve(day, 1)
    quota.release(day, 5_000_000)
    assert quota.reserve(day, 5_000_000)
    assert DailyQuota.objects.get(day=day).used == 50_000_000


@pytest.mark.django_db
def test_daily_total_resets_at_midnight_wib_not_utc():
    before = dt.datetime(2026, 6, 12, 23, 59, tzinfo=WIB)
    after = dt.datetime(2026, 6, 13, 0, 0, tzinfo=WIB)  # 17.00 UTC on the 12th
    assert wib_date(before) != wib_date(after)
    assert after.astimezone(dt.timezone.utc).date() == dt.date(2026, 6, 12)
    assert quota.reserve(wib_date(before), 50_000_000)
    assert quota.reserve(wib_date(after), 50_000_000)


@pytest.mark.django_db
def test_limit_change_is_recorded_and_applies_from_its_day(staff_user):
    from audit.models import AuditEntry
    from disbursements.services import daily_limit_change

    day = dt.date(2026, 6, 12)
    quota.reserve(day, 40_000_000)
    daily_limit_change(limit=30_000_000, effective_from=day, actor=staff_user, reason="Permintaan tertulis ke Faspay")
    assert DailyQuota.objects.get(day=day).limit == 40_000_000  # never below what was already used
    assert quota.limit_for(dt.date(2026, 6, 13)) == 30_000_000
    assert quota.limit_for(dt.date(2026, 6, 11)) == 50_000_000
    assert AuditEntry.objects.filter(action="sendme.daily_limit_change", actor=staff_user).exists()


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffFactory

    return StaffFactory(email="keuangan@intrasa.co.id")


# --- limits every payout can finish under ---------------------------------------------------------

@pytest.mark.django_db
def test_a_daily_limit_below_two_minimum_parts_is_refused(staff_user):
    """Below two minimum parts (Rp 20.000 by default) a split payout's parts could never fit a day, and
    the payout would wait for ever: the service refuses it, and nothing is recorded."""
    from disbursements.services import DisbursementError, daily_limit_change

    day = dt.date(2026, 6, 12)
    assert rules.smallest_daily_limit() == 20_000
    with pytest.raises(DisbursementError) as refused:
        daily_limit_change(limit=19_999, effective_from=day, actor=staff_user, reason="Permintaan tertulis ke Faspay")
    assert refused.value.code == "invalid_limit" and "20.000" in refused.value.message
    assert not DailyLimitChange.objects.exists()
    daily_limit_change(limit=20_000, effective_from=day, actor=staff_user, reason="Permintaan tertulis ke Faspay")
    assert quota.limit_for(day) == 20_000


@pytest.mark.django_db
def test_the_admin_says_why_a_daily_limit_below_two_minimum_parts_is_refused(client, in_english):
    from django.urls import reverse

    from intrasa.wib import now_wib
    from tests.staff.conftest import staff_in

    client.force_login(staff_in("Finance", "finance@intrasa.co.id"))
    response = client.post(reverse("admin:disbursements_dailylimitchange_add"), {
        "effective_from": now_wib().date().isoformat(), "limit": "15.000", "reason": "Surat persetujuan Faspay no. 1"})
    [error] = response.context["adminform"].form.errors["limit"]
    assert response.status_code == 200 and "20.000" in error  # the field's range message, with the minimum
    assert "every part must fit one day" in response.content.decode()  # and why, under the field
    assert not DailyLimitChange.objects.exists()


@pytest.mark.parametrize("changes,error", [
    ({}, None),
    ({"SENDME_DAILY_NOMINAL_TOTAL": 19_999}, "disbursements.E003"),
    ({"SENDME_MAX_EWALLET_TOPUP": 15_000}, "disbursements.E002"),
    ({"SENDME_MIN_BANK_TRANSFER": 0}, "disbursements.E001"),
    ({"SENDME_MIN_EWALLET_TOPUP": 30_000, "SENDME_DAILY_NOMINAL_TOTAL": 50_000}, "disbursements.E003"),
])
def test_settings_every_payout_could_not_finish_under_are_refused_at_start(settings, changes, error):
    from django.core.exceptions import ImproperlyConfigured

    from disbursements.checks import check_sendme_limits
    from intrasa.checks import refuse_to_start_with_errors

    for name, value in changes.items():
        setattr(settings, name, value)
    found = [e.id for e in check_sendme_limits()]
    assert found == ([error] if error else [])
    if error:
        settings.DEBUG = False
        with pytest.raises(ImproperlyConfigured, match=error):
            refuse_to_start_with_errors()
