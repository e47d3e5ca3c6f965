"""Cek Transaksi for a milestone: "Termin 2 dari 3", each milestone's status and a link to the plan,
with no personal data (no names, emails, titles or amounts of the other milestones), in the page
and in the JSON, at one query more than an ordinary transaction."""
import json
from dataclasses import fields

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from milestones import services
from pages.selectors import PublicMilestone, PublicPlan
from tests import scenarios

from .conftest import propose

pytestmark = pytest.mark.django_db

PAGE = reverse("pages:check_transaction")


def children(plan):
    return [m.escrow_transaction for m in plan.milestones.select_related("escrow_transaction").order_by("position")]


def test_a_milestone_shows_where_it_stands_in_its_plan_without_personal_data(client, seller, buyer):
    seller.full_name = "Sari Wulandari"
    seller.save(update_fields=["full_name"])
    plan = propose(seller, buyer, schedule="upfront", amounts=(1_500_000, 2_000_000, 2_500_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, second, third = children(plan)
    scenarios.pay_by_transfer(second, buyer)  # the plan's one bill: every milestone is verified

    html = client.get(PAGE, {"reference": second.reference}).content.decode()
    assert 'data-testid="public-plan"' in html
    assert "Termin 2 dari 3" in html
    assert plan.get_absolute_url() in html
    assert html.count("Pembayaran terverifikasi") >= 3  # each milestone's status
    for private in (seller.full_name, seller.email, buyer.email, buyer.full_name, plan.title, "Tahap 1", "Tahap 3",
                    plan.description):
        assert private not in html, private

    data = json.loads(client.get(reverse("pages:check_transaction_api", args=[second.reference])).content)
    assert data["milestone"]["number"] == 2 and data["milestone"]["of"] == 3
    assert [m["status"] for m in data["milestone"]["milestones"]] == ["verified"] * 3
    assert plan.title not in json.dumps(data)

    names = {f.name for f in fields(PublicPlan)} | {f.name for f in fields(PublicMilestone)}
    assert not names & {"seller", "buyer", "title", "description", "buyer_email", "amount"}


def test_a_milestone_not_open_yet_is_shown_as_such_and_an_ordinary_transaction_has_no_plan(client, seller, buyer):
    plan = propose(seller, buyer, schedule="per_milestone", amounts=(1_000_000, 1_000_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, _second = children(plan)
    with CaptureQueriesContext(connection) as milestone_queries:
        html = client.get(PAGE, {"reference": first.reference}).content.decode()
    assert "Termin 1 dari 2" in html and "Belum dibuka untuk pembayaran" in html

    ordinary = scenarios.create(seller, buyer)
    with CaptureQueriesContext(connection) as ordinary_queries:
        html = client.get(PAGE, {"reference": ordinary.reference}).content.decode()
    assert 'data-testid="public-plan"' not in html
    # The plan rides on the transaction's query; its milestones' statuses cost one more.
    assert len(milestone_queries) == len(ordinary_queries) + 1
    with CaptureQueriesContext(connection) as cached:
        client.get(PAGE, {"reference": first.reference})
    assert len(cached) in (1, len(milestone_queries))  # cached facts (Redis): only the neighbours' statuses
