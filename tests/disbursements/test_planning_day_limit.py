"""A payout is split by the Daily Nominal Total in force on the day its parts may first go out,
read with the seller's account by one query: at night that day is the next WIB day for a bank
transfer (held until 05.00) but today for an e-wallet top-up."""
import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import PayoutDestination
from disbursements.models import DailyLimitChange, Disbursement
from escrow import services as escrow_services
from intrasa.wib import WIB, to_wib
from tests import scenarios
from transactions.models import Status

from .conftest import verified_bank

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "amounts"), [("bank", [500_000, 500_000, 275_000]), ("ewallet", [1_275_000])])
def test_a_payout_is_split_by_the_limit_of_the_day_its_parts_first_go(seller, buyer, settings, clock, kind, amounts):
    settings.SENDME_NIGHT_HOLD_BANK = True
    settings.SENDME_NIGHT_HOLD_EWALLET = False
    if kind == "bank":
        verified_bank(seller)
    else:
        PayoutDestination.objects.create(owner=seller, kind="ewallet", ewallet_provider="gpy",
                                         ewallet_phone="+6281200000404", account_holder_name=seller.full_name,
                                         is_default=True)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    night = dt.datetime.combine(to_wib(timezone.now()).date() + dt.timedelta(days=2), dt.time(23, 30), WIB)
    tomorrow = night.date() + dt.timedelta(days=1)
    DailyLimitChange.objects.create(effective_from=tomorrow, limit=500_000, changed_by=seller,
                                    reason="Permintaan tertulis ke Faspay")

    clock.set(night)
    escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer)

    parts = list(Disbursement.objects.filter(payout__escrow_transaction=txn).order_by("sequence"))
    assert [part.amount for part in parts] == amounts
    assert {part.kind for part in parts} == {kind}
    if kind == "bank":  # held for the night: tomorrow's limit, not tonight's
        assert all(part.not_before == dt.datetime.combine(tomorrow, dt.time(5, 0), WIB) for part in parts)


def test_the_limit_read_with_the_account_is_limit_for(seller, settings):
    """The expression the planning query reads is ``quota.limit_for``: the latest change in force
    on the day, else the configured default."""
    from accounts.models import User
    from disbursements import quota

    def read(day):
        return User.objects.filter(pk=seller.pk).annotate(limit=quota.limit_for_expression(day)) \
            .values_list("limit", flat=True).get()

    day = dt.date(2026, 6, 12)
    assert read(day) == quota.limit_for(day) == settings.SENDME_DAILY_NOMINAL_TOTAL
    DailyLimitChange.objects.create(effective_from=day, limit=30_000_000, changed_by=seller, reason="Turun")
    DailyLimitChange.objects.create(effective_from=day + dt.timedelta(days=2), limit=40_000_000, changed_by=seller,
                                    reason="Naik")
    DailyLimitChange.objects.create(effective_from=day, limit=20_000_000, changed_by=seller, reason="Turun lagi")
    for offset, expected in ((-1, settings.SENDME_DAILY_NOMINAL_TOTAL), (0, 20_000_000), (1, 20_000_000),
                             (2, 40_000_000)):
        moment = day + dt.timedelta(days=offset)
        assert read(moment) == quota.limit_for(moment) == expected
