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
