"""Races against real PostgreSQL: the plan's row is locked first, so a double click or the periodic
job racing a person opens each milestone once."""

import pytest
from django.db import connection

from milestones import services
from milestones.models import Milestone
from tests.concurrency import race
from transactions.models import EscrowTransaction

from .conftest import confirm_by_transfer, propose

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_acceptances_at_once_open_each_milestone_once(seller, buyer):
    plan = propose(seller, buyer, schedule="upfront")
    outcomes = race(*[lambda: services.milestone_plan_accept(plan=plan.pk, buyer=buyer)] * 3)
    assert outcomes == ["ok"] * 3  # accepting twice changes nothing
    assert EscrowTransaction.objects.count() == 3
    assert Milestone.objects.filter(plan=plan, escrow_transaction__isnull=False).count() == 3


def test_the_job_and_the_buyer_open_the_next_milestone_once(seller, buyer):
    plan = propose(seller, buyer, schedule="per_milestone", amounts=(1_000_000, 1_000_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    confirm_by_transfer(plan.milestones.get(position=1).escrow_transaction, buyer)
    outcomes = race(lambda: services.milestone_open(plan=plan.pk, position=2, actor=None),
                    lambda: services.milestone_open(plan=plan.pk, position=2, actor=buyer))
    assert sorted(outcomes) == ["not_openable", "ok"]
    assert EscrowTransaction.objects.count() == 2


def test_two_people_accepting_each_others_plans_at_once_do_not_deadlock(seller, buyer, settings):
    """Opening a milestone locks its seller (the daily count) and writes its buyer's key; with both
    people locked in one order, A accepting B's plan while B accepts A's queue instead of
    deadlocking (``milestones.services``)."""
    settings.INTRASA_INVITATIONS_PER_DAY = 1_000
    for _ in range(4):
        of_seller, of_buyer = propose(seller, buyer), propose(buyer, seller)
        outcomes = race(lambda plan=of_seller: services.milestone_plan_accept(plan=plan.pk, buyer=buyer),
                        lambda plan=of_buyer: services.milestone_plan_accept(plan=plan.pk, buyer=seller))
        assert outcomes == ["ok", "ok"]
