"""Hostile review: a due date in year 9999 was accepted, and accepting (or opening) the plan then
counted every working day up to it, one by one, with the plan and both people locked: 35 s for ten
milestones, past gunicorn's 30 s, so the buyer could never accept. Due dates are within
``MAX_DUE_DAYS`` of today, and the count stops where its cap does."""
import datetime as dt
import time

import pytest

from milestones import services
from tests.milestones.conftest import TODAY
from workdays.calendar import working_calendar

pytestmark = pytest.mark.django_db


def plan_with(seller, buyer, due):
    return services.milestone_plan_propose(
        seller=seller, buyer_email=buyer.email, title="Renovasi dapur", fee_payer="buyer",
        description="Tiga tahap pekerjaan.", payment_schedule="upfront", inspection_days=2,
        milestones=[{"title": f"Tahap {i}", "amount": 100_000, "due_date": due} for i in (1, 2)])


@pytest.mark.parametrize("days", [services.MAX_DUE_DAYS + 1, 3_000_000])
def test_a_due_date_beyond_the_limit_is_refused(seller, buyer, days):
    due = dt.date.max if days > 100_000 else TODAY + dt.timedelta(days=days)
    with pytest.raises(services.MilestonePlanError) as refused:
        plan_with(seller, buyer, due)
    assert refused.value.code == "invalid_due_date"


def test_the_last_day_within_the_limit_is_accepted(seller, buyer):
    plan = plan_with(seller, buyer, TODAY + dt.timedelta(days=services.MAX_DUE_DAYS))
    assert plan.milestones.count() == 2


def test_counting_working_days_stops_at_its_cap():
    calendar = working_calendar()
    started = time.perf_counter()
    assert calendar.working_days_between(TODAY, dt.date(9999, 12, 31), at_most=30) == 30
    assert time.perf_counter() - started < 0.5  # not three million days, one by one
    assert calendar.working_days_between(TODAY, TODAY + dt.timedelta(days=10), at_most=30) == \
        calendar.working_days_between(TODAY, TODAY + dt.timedelta(days=10))


def test_the_form_says_so_in_the_sellers_language(client, seller, buyer):
    client.force_login(seller)
    data = {"buyer_email": buyer.email, "title": "Renovasi dapur", "description": "Tiga tahap.",
            "payment_schedule": "upfront", "fee_payer": "buyer", "inspection_days": 2,
            "m-TOTAL_FORMS": 2, "m-INITIAL_FORMS": 0, "m-MIN_NUM_FORMS": 2, "m-MAX_NUM_FORMS": 10}
    for i in range(2):
        data.update({f"m-{i}-title": f"Tahap {i}", f"m-{i}-amount": "100000", f"m-{i}-due_date": "9999-12-31"})
    response = client.post("/termin/baru/", data)
    assert response.status_code == 200
    assert "dalam satu tahun" in response.content.decode()


def test_the_sellers_daily_limit_is_told_as_the_sellers(seller, buyer, settings):
    """Review: accepting a plan on a day the seller had used up their transactions told the buyer
    "you have created 20 transactions today"."""
    from django.utils import translation

    settings.INTRASA_INVITATIONS_PER_DAY = 1
    plan = plan_with(seller, buyer, TODAY + dt.timedelta(days=7))
    with translation.override("en"), pytest.raises(services.MilestonePlanError) as refused:
        services.milestone_plan_accept(plan=plan, buyer=buyer)
    assert refused.value.code == "daily_limit"
    assert refused.value.message.startswith("The seller has started") and "You have" not in refused.value.message
