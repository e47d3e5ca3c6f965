"""Milestone plans and payment links: the retention job and account erasure reach them.

A plan (or a link) that became transactions is part of their records: its buyer's email, title,
description and milestone titles go when the last of its transactions is past its period
(``privacy.obligations``), not before, and never while one of them is still in motion. One that
never became a transaction (declined, withdrawn, left unanswered; a link closed unused) is an
offer and nothing else: retention rule ``unaccepted_offers``. Erasure anonymises the offers the
person made that never became transactions at once, and is refused while a plan is in motion."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from milestones import services as milestone_services
from milestones.models import Milestone, MilestonePlan
from paylinks import services as paylink_services
from paylinks.models import PaymentLink
from privacy import purge, retention, services
from tests.milestones.conftest import propose
from transactions import services as txn_services
from transactions.models import EscrowTransaction
from transactions.tasks import expire_unpaid_transactions

from .test_purge_in_motion import TWELVE_YEARS

TERMS = dict(description="64 GB, mulus. Hubungi 0812-9999-0000.", category="physical", price=2_750_000,
             shipping_cost=25_000, fee_payer="buyer", inspection_days=2, shipping_days=2)


def plan_row(plan) -> tuple:
    plan = MilestonePlan.objects.get(pk=plan.pk)
    return plan.buyer_email, plan.title, plan.description, sorted(plan.milestones.values_list("title", flat=True))


def anonymised(plan) -> bool:
    email, title, description, titles = plan_row(plan)
    return (email, title, description) == ("", purge.ANONYMISED, purge.ANONYMISED) and \
        set(titles) == {purge.ANONYMISED}


def accepted_and_ended_unpaid(seller, buyer, **kwargs):
    plan = milestone_services.milestone_plan_accept(plan=propose(seller, buyer, **kwargs), buyer=buyer)
    EscrowTransaction.objects.filter(milestone__plan=plan).update(payment_due_at=timezone.now())
    expire_unpaid_transactions()
    return plan


def offers_period_over(now=None):
    """An instant at which a plan closed now is past the unaccepted-offers period, and no transaction is."""
    now = now or timezone.now()
    return retention.UNACCEPTED_OFFERS.period.until(now) + dt.timedelta(days=1)


@pytest.mark.django_db
def test_an_accepted_plan_goes_with_its_transactions_not_before(seller, buyer):
    plan = accepted_and_ended_unpaid(seller, buyer, amounts=(1_000_000, 1_000_000))
    before = plan_row(plan)
    purge.retention_apply(now=offers_period_over())  # its transactions' 10 years are not over
    assert plan_row(plan) == before

    run = purge.retention_apply(now=timezone.now() + TWELVE_YEARS)
    assert anonymised(plan)
    assert all(txn.title == purge.ANONYMISED for txn in EscrowTransaction.objects.filter(milestone__plan=plan))
    assert run.removed["milestone_plans"] == 1
    assert purge.retention_apply(now=timezone.now() + TWELVE_YEARS).removed.get("milestone_plans") is None


@pytest.mark.django_db
def test_a_plan_with_a_milestone_in_motion_or_not_opened_keeps_everything(seller, buyer):
    in_motion = accepted_and_ended_unpaid(seller, buyer, amounts=(1_000_000, 1_000_000))
    # Milestone 2 opened again: its new transaction waits for payment.
    milestone_services.milestone_open(plan=in_motion, position=2, actor=buyer)
    not_opened = milestone_services.milestone_plan_accept(plan=propose(seller, buyer, schedule="per_milestone"),
                                                          buyer=buyer)
    first = not_opened.milestones.get(position=1).escrow_transaction
    txn_services.transaction_cancel(escrow_transaction=first, actor=seller, reason="Jadwal berubah")
    before = {plan.pk: plan_row(plan) for plan in (in_motion, not_opened)}

    purge.retention_apply(now=timezone.now() + TWELVE_YEARS)

    assert {plan.pk: plan_row(plan) for plan in (in_motion, not_opened)} == before


@pytest.mark.django_db
def test_a_plan_that_never_became_a_transaction_goes_after_the_offers_period(seller, buyer):
    declined = milestone_services.milestone_plan_decline(plan=propose(seller, buyer), user=buyer, reason="Mahal")
    withdrawn = milestone_services.milestone_plan_cancel(plan=propose(seller, buyer), seller=seller, reason="Batal")
    unanswered = propose(seller, buyer)
    before = {plan.pk: plan_row(plan) for plan in (declined, withdrawn, unanswered)}
    inside = retention.UNACCEPTED_OFFERS.period.until(timezone.now()) - dt.timedelta(days=1)

    purge.retention_apply(now=inside)
    assert {plan.pk: plan_row(plan) for plan in (declined, withdrawn, unanswered)} == before

    run = purge.retention_apply(now=offers_period_over())
    assert all(anonymised(plan) for plan in (declined, withdrawn, unanswered))
    assert run.removed["milestone_plans"] == 3
    # An anonymised unanswered plan can no longer be accepted by anyone: no account has an empty address.
    assert milestone_services.milestone_plan_refusal(plan=MilestonePlan.objects.get(pk=unanswered.pk),
                                                     user=buyer)[0] == "not_addressee"


@pytest.mark.django_db
def test_payment_links_go_with_their_transactions_or_after_the_offers_period(seller, buyer):
    unused = paylink_services.payment_link_close(
        payment_link=paylink_services.payment_link_create(seller=seller, title="Casing iPhone", **TERMS), seller=seller)
    used = paylink_services.payment_link_create(seller=seller, title="iPhone 11 bekas", **TERMS)
    started = paylink_services.payment_link_start(payment_link=used, buyer=buyer)
    used = paylink_services.payment_link_close(payment_link=used, seller=seller)
    active = paylink_services.payment_link_create(seller=seller, title="Charger", **TERMS)

    purge.retention_apply(now=offers_period_over())
    links = {link.pk: link for link in PaymentLink.objects.all()}
    assert links[unused.pk].title == purge.ANONYMISED and links[unused.pk].description == purge.ANONYMISED
    assert links[used.pk].title == "iPhone 11 bekas"  # its transaction is still waiting for payment
    assert links[active.pk].title == "Charger"  # the seller's live listing

    txn_services.transaction_cancel(escrow_transaction=started, actor=seller, reason="Stok habis")
    run = purge.retention_apply(now=timezone.now() + TWELVE_YEARS)
    links = {link.pk: link for link in PaymentLink.objects.all()}
    assert links[used.pk].title == purge.ANONYMISED and links[used.pk].description == purge.ANONYMISED
    assert links[active.pk].title == "Charger"
    assert run.removed["payment_links"] == 1


@pytest.mark.django_db
def test_erasure_anonymises_the_offers_the_person_made_that_never_became_transactions(seller, buyer):
    unanswered = propose(buyer, seller)  # withdrawn by the erasure
    declined = milestone_services.milestone_plan_decline(plan=propose(buyer, seller), user=seller, reason="Mahal")
    sold = accepted_and_ended_unpaid(buyer, seller, amounts=(1_000_000, 1_000_000))
    received = milestone_services.milestone_plan_decline(plan=propose(seller, buyer), user=buyer, reason="Mahal")
    unused_link = paylink_services.payment_link_create(seller=buyer, title="Casing iPhone", **TERMS)
    used_link = paylink_services.payment_link_create(seller=buyer, title="iPhone 11 bekas", **TERMS)
    txn_services.transaction_cancel(
        escrow_transaction=paylink_services.payment_link_start(payment_link=used_link, buyer=seller), actor=buyer,
        reason="Stok habis")
    sold_before = plan_row(sold)

    services.account_erase(user=buyer)

    assert anonymised(unanswered) and anonymised(declined)
    assert plan_row(sold) == sold_before  # became transactions: kept with their records
    # The seller's own plan, declined by the erased person: only the erased person's address goes.
    assert plan_row(received)[0] == "" and plan_row(received)[1] == "Desain dan pembuatan situs toko"
    links = {link.pk: link for link in PaymentLink.objects.all()}
    assert (links[unused_link.pk].title, links[unused_link.pk].description) == (purge.ANONYMISED, purge.ANONYMISED)
    assert links[used_link.pk].title == "iPhone 11 bekas"
    assert not Milestone.objects.filter(plan__in=[unanswered, declined]).exclude(title=purge.ANONYMISED).exists()


@pytest.mark.django_db
def test_erasure_is_refused_while_a_milestone_transaction_is_open(seller, buyer):
    plan = milestone_services.milestone_plan_accept(plan=propose(seller, buyer), buyer=buyer)
    before = plan_row(plan)
    with pytest.raises(services.PrivacyError) as refused:
        services.account_erase(user=seller)
    assert "is not closed yet" in refused.value.message
    assert plan_row(plan) == before


@pytest.mark.django_db
def test_the_retention_table_and_the_erasure_page_say_what_happens_to_offers(client, buyer):
    client.force_login(buyer)
    erase_page = client.get(reverse("privacy:erase")).content.decode()
    assert "milestone plans and payment links you made that never became a transaction" in erase_page
    page = client.get(reverse("privacy:notice")).content.decode()
    assert "Offers that never became a transaction" in page
    rule = retention.BY_KEY["unaccepted_offers"]
    assert rule.period == retention.Period(years=5)
    assert "milestone plans and payment links" in str(retention.TRANSACTION_RECORDS.contents)
