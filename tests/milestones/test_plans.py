"""Proposing, accepting and opening milestone plans (the services; the money tests are in test_money)."""
import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from milestones import services
from milestones.models import Milestone, MilestonePlan
from notifications.models import Notification
from tests.factories import UserFactory
from transactions.models import Category, EscrowTransaction, Status

from .conftest import TODAY, confirm_by_transfer, propose

pytestmark = pytest.mark.django_db


def test_upfront_acceptance_opens_every_milestone_with_its_fee_share(seller, buyer):
    plan = propose(seller, buyer, amounts=(1_500_000, 2_000_000, 2_500_000))
    assert (plan.total, plan.fee_amount) == (6_000_000, 30_000)  # 0,5 % of the whole, at least Rp 25.000
    assert [m.fee_amount for m in plan.milestones.all()] == [7_500, 10_000, 12_500]
    invitation = Notification.objects.get(kind="milestone_plan_proposed")
    assert invitation.email == buyer.email and invitation.link == plan.get_absolute_url()
    assert "Rp 6.030.000" in invitation.subject and "Tahap" not in invitation.subject
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    plan.refresh_from_db()
    assert plan.status == MilestonePlan.Status.ACCEPTED and plan.buyer == buyer
    children = [m.escrow_transaction for m in plan.milestones.select_related("escrow_transaction")]
    assert all(t is not None for t in children)
    for txn, amount, fee in zip(children, (1_500_000, 2_000_000, 2_500_000), (7_500, 10_000, 12_500), strict=True):
        assert (txn.seller, txn.buyer, txn.status, txn.category) == (seller, buyer, Status.CREATED, Category.SERVICE)
        assert txn.is_accepted and (txn.price, txn.fee_amount, txn.amount_due) == (amount, fee, amount + fee)
    assert sum(t.amount_due for t in children) == plan.buyer_pays
    assert AuditEntry.objects.filter(action="milestone_plan.accept", actor=buyer).count() == 1


def test_milestone_by_milestone_opens_the_next_only_after_the_previous_is_confirmed(seller, buyer):
    plan = propose(seller, buyer, schedule="per_milestone", amounts=(1_000_000, 1_000_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, second = plan.milestones.order_by("position")
    first.refresh_from_db()
    assert first.escrow_transaction is not None and second.escrow_transaction_id is None
    with pytest.raises(services.MilestonePlanError) as refused:
        services.milestone_open(plan=plan, position=2, actor=buyer)
    assert refused.value.code == "not_openable"
    confirm_by_transfer(first.escrow_transaction, buyer)
    txn = services.milestone_open(plan=plan, position=2, actor=seller)
    assert txn.buyer == buyer and txn.is_accepted
    with pytest.raises(services.MilestonePlanError):
        services.milestone_open(plan=plan, position=2, actor=buyer)  # once


def test_the_next_milestone_opens_at_the_previous_due_date(seller, buyer):
    plan = propose(seller, buyer, schedule="per_milestone", amounts=(1_000_000, 1_000_000))
    plan = services.milestone_plan_accept(plan=plan, buyer=buyer)
    first, second = plan.milestones.select_related("escrow_transaction").order_by("position")
    assert services.milestone_open_refusal(plan=plan, milestone=second, previous=first) is not None
    assert services.milestone_open_refusal(plan=plan, milestone=second, previous=first,
                                           today=first.due_date) is None


def test_only_the_invited_verified_buyer_accepts(seller, buyer, stranger):
    plan = propose(seller, buyer)
    for person, code in ((stranger, "not_addressee"), (seller, "seller")):
        with pytest.raises(services.MilestonePlanError) as refused:
            services.milestone_plan_accept(plan=plan, buyer=person)
        assert refused.value.code == code
    assert not EscrowTransaction.objects.exists()
    services.milestone_plan_decline(plan=plan, user=buyer, reason="Terlalu mahal")
    plan.refresh_from_db()
    assert plan.status == MilestonePlan.Status.DECLINED
    with pytest.raises(services.MilestonePlanError):
        services.milestone_plan_accept(plan=plan, buyer=buyer)


@pytest.mark.parametrize("change, code", [
    ({"amounts": (1_000_000,)}, "milestone_count"),
    ({"amounts": (1_000_000,) * 11}, "milestone_count"),
    ({"amounts": (1_000_000, 5)}, "amount_out_of_range"),
])
def test_bad_plans_are_refused(seller, buyer, change, code):
    with pytest.raises(services.MilestonePlanError) as refused:
        propose(seller, buyer, **change)
    assert refused.value.code == code
    assert not MilestonePlan.objects.exists() and not Milestone.objects.exists()


def test_due_dates_must_run_forward(seller, buyer):
    with pytest.raises(services.MilestonePlanError) as refused:
        services.milestone_plan_propose(
            seller=seller, buyer_email=buyer.email, title="Jasa", description="x", fee_payer="buyer",
            payment_schedule="upfront", inspection_days=2,
            milestones=[{"title": "A", "amount": 100_000, "due_date": TODAY + dt.timedelta(days=9)},
                        {"title": "B", "amount": 100_000, "due_date": TODAY + dt.timedelta(days=2)}])
    assert refused.value.code == "invalid_due_date"


def test_the_plan_pages(client, seller, buyer, in_english):
    client.force_login(seller)
    response = client.post(reverse("milestones:create"), {
        "title": "Aplikasi kasir", "description": "Tiga tahap", "buyer_email": buyer.email,
        "payment_schedule": "per_milestone", "fee_payer": "split", "inspection_days": 3,
        "m-TOTAL_FORMS": "3", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "2", "m-MAX_NUM_FORMS": "10",
        **{f"m-{i}-{k}": v for i in range(3) for k, v in (
            ("title", f"Tahap {i + 1}"), ("amount", "1.000.000"),
            ("due_date", (TODAY + dt.timedelta(days=10 * (i + 1))).isoformat()))}})
    plan = MilestonePlan.objects.get()
    assert response.status_code == 302 and response.url == plan.get_absolute_url()
    assert plan.milestones.count() == 3 and plan.fee_amount == 15_000
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "Rp\xa03.007.500" in page and "Not open yet" in page
    client.force_login(buyer)
    client.post(reverse("milestones:act", args=[plan.token, "accept"]))
    page = client.get(plan.get_absolute_url()).content.decode()
    first = plan.milestones.get(position=1).escrow_transaction
    assert first.reference in page and 'data-testid="pay-milestone"' in page
    client.force_login(UserFactory())  # after the answer, only the parties see the plan
    assert client.get(plan.get_absolute_url()).status_code == 404
    assert client.get(reverse("milestones:detail", args=["nope"])).status_code == 404


def test_the_periodic_job_opens_the_next_milestone_once_the_previous_is_confirmed(seller, buyer):
    from milestones import tasks

    plan = propose(seller, buyer, schedule="per_milestone", amounts=(1_000_000, 1_000_000, 1_000_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    assert tasks.open_due_milestones() == 0  # the first is open, unpaid: nothing else is due
    first = plan.milestones.get(position=1).escrow_transaction
    confirm_by_transfer(first, buyer)
    assert tasks.open_due_milestones() == 1
    assert tasks.open_due_milestones() == 0  # once; the third waits for the second
    second = plan.milestones.get(position=2).escrow_transaction
    assert second.buyer == buyer and second.is_accepted and second.status == Status.CREATED
    assert plan.milestones.get(position=3).escrow_transaction_id is None
    assert AuditEntry.objects.filter(action="milestone_plan.open", actor=None).count() == 1


def test_a_milestone_that_expired_unpaid_can_be_opened_again(seller, buyer, client):
    from transactions import services as transaction_services

    plan = propose(seller, buyer, schedule="upfront", amounts=(1_000_000, 1_000_000))
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    second = plan.milestones.get(position=2).escrow_transaction
    with pytest.raises(services.MilestonePlanError):
        services.milestone_open(plan=plan, position=2, actor=buyer)  # open and payable: nothing to do
    transaction_services.transaction_expire(escrow_transaction=second)
    client.force_login(buyer)
    assert 'data-testid="open-milestone"' in client.get(plan.get_absolute_url()).content.decode()
    client.post(reverse("milestones:open", args=[plan.token, 2]))
    again = plan.milestones.get(position=2).escrow_transaction
    assert again.pk != second.pk and again.status == Status.CREATED and again.is_accepted
    assert again.fee_amount == second.fee_amount and again.amount_due == second.amount_due
    second.refresh_from_db()
    assert second.status == Status.EXPIRED


def test_the_plan_pdf_lists_every_milestone(client, seller, buyer, stranger):
    plan = propose(seller, buyer)
    services.milestone_plan_accept(plan=plan, buyer=buyer)
    client.force_login(buyer)
    response = client.get(reverse("milestones:pdf", args=[plan.token]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    from django.template.loader import render_to_string

    from milestones.views import _rows

    plan = MilestonePlan.objects.get(pk=plan.pk)
    html = render_to_string("milestones/plan_pdf.html", {"plan": plan, "rows": _rows(plan, None), "issued_at": None})
    for milestone in plan.milestones.select_related("escrow_transaction"):
        assert milestone.escrow_transaction.reference in html and milestone.title in html
    client.force_login(stranger)
    assert client.get(reverse("milestones:pdf", args=[plan.token])).status_code == 404
