"""Payment-link griefing: a few verified accounts press "Buy" and never pay.

The rules (``paylinks.services``' module doc): a buyer's transactions from a link do not count
against the seller's daily invitation limit; a buyer holds at most
``INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER`` unpaid link transactions at once, across every link and
seller; cancelling one frees its slot at once; the seller sees the slots held unpaid and paid.
"""
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from paylinks import services
from tests import scenarios
from tests.concurrency import race
from tests.factories import UserFactory
from tests.paylinks.test_payment_links import make_link
from transactions import services as transaction_services
from transactions.models import EscrowTransaction, Status

INVITATION = dict(title="Jasa desain logo", description="3 konsep", category="service", price=500_000,
                  shipping_cost=0, fee_payer="buyer", inspection_days=2, shipping_days=3)


def invite(seller, email):
    return transaction_services.transaction_create(seller=seller, buyer_email=email, **INVITATION)


# --- 1. the seller's daily invitation limit is about invitations -----------------------------------

@pytest.mark.django_db
def test_buyers_starting_from_a_link_do_not_use_up_the_sellers_daily_invitations(seller, settings):
    settings.INTRASA_INVITATIONS_PER_DAY = 2
    link = make_link(seller)
    for _ in range(3):  # more buyers than the seller may send invitations in a day
        services.payment_link_start(payment_link=link, buyer=UserFactory())
    # The seller still has the whole day's invitations, and no more.
    invite(seller, "satu@example.co.id")
    invite(seller, "dua@example.co.id")
    with pytest.raises(transaction_services.TransactionActionError) as refused:
        invite(seller, "tiga@example.co.id")
    assert refused.value.code == "daily_limit"
    assert EscrowTransaction.objects.filter(seller=seller).count() == 5


@pytest.mark.django_db
def test_a_seller_at_the_daily_limit_still_sells_through_a_link(seller, settings):
    settings.INTRASA_INVITATIONS_PER_DAY = 1
    invite(seller, "satu@example.co.id")
    link = make_link(seller)
    txn = services.payment_link_start(payment_link=link, buyer=UserFactory())
    assert (txn.seller, txn.status, txn.is_accepted) == (seller, Status.CREATED, True)


@pytest.mark.django_db
def test_milestone_plans_still_count_against_the_daily_limit(seller, buyer, settings):
    """A plan is the seller's proposal to a buyer they name: it stays an invitation."""
    from milestones import services as milestone_services
    from milestones.services import MilestonePlanError
    from tests.milestones.conftest import propose

    settings.INTRASA_INVITATIONS_PER_DAY = 1
    invite(seller, "satu@example.co.id")
    plan = propose(seller, buyer)
    with pytest.raises(MilestonePlanError) as refused:
        milestone_services.milestone_plan_accept(plan=plan, buyer=buyer)
    assert refused.value.code == "daily_limit"


# --- 2. at most N unpaid link transactions per buyer, across the site ------------------------------

@pytest.mark.django_db
def test_a_buyer_holds_at_most_the_set_number_of_unpaid_link_transactions(seller, stranger, buyer, settings):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 2
    first = services.payment_link_start(payment_link=make_link(seller), buyer=buyer)
    second_link = make_link(stranger)  # another seller: the cap is the buyer's, across the site
    second = services.payment_link_start(payment_link=second_link, buyer=buyer)
    third_link = make_link(UserFactory())
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_start(payment_link=third_link, buyer=buyer)
    assert refused.value.code == "unpaid_holds" and refused.value.message
    assert not EscrowTransaction.objects.filter(payment_link_use__payment_link=third_link).exists()
    # Pressing again on a link they hold is still sent back to that transaction.
    assert services.payment_link_start(payment_link=second_link, buyer=buyer).pk == second.pk
    # Paying one frees a slot: a paid transaction is no longer a hold.
    scenarios.advance(first, buyer, Status.VERIFIED)
    assert services.payment_link_start(payment_link=third_link, buyer=buyer).buyer == buyer
    call_command("ledger_check")


@pytest.mark.django_db
def test_other_people_and_ordinary_invitations_are_not_held_against_the_buyer(seller, buyer, stranger, settings):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 1
    # An invitation the buyer accepted and has not paid yet: not a link hold.
    transaction_services.transaction_accept(escrow_transaction=invite(seller, buyer.email), buyer=buyer)
    link = make_link(seller)
    services.payment_link_start(payment_link=link, buyer=buyer)
    # The buyer's holds do not stop someone else.
    assert services.payment_link_start(payment_link=link, buyer=stranger).buyer == stranger


@pytest.mark.django_db
def test_a_buyer_over_the_cap_sees_why_and_links_to_their_unpaid_transactions(client, seller, buyer, settings,
                                                                             in_english):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 1
    held = services.payment_link_start(payment_link=make_link(seller), buyer=buyer)
    other = make_link(UserFactory())
    client.force_login(buyer)
    page = client.get(other.get_absolute_url()).content.decode()
    assert "pay for one or cancel it" in page
    assert 'data-testid="buy"' not in page
    assert held.get_absolute_url() in page and held.reference in page
    response = client.post(other.get_absolute_url(), follow=True)
    assert "pay for one or cancel it" in response.content.decode()
    assert not EscrowTransaction.objects.filter(payment_link_use__payment_link=other).exists()


@pytest.mark.django_db
def test_the_cap_message_is_in_indonesian_by_default(client, seller, buyer, settings):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 1
    services.payment_link_start(payment_link=make_link(seller), buyer=buyer)
    client.force_login(buyer)
    page = client.get(make_link(UserFactory()).get_absolute_url()).content.decode()
    assert "bayar salah satunya atau batalkan" in page


# --- 3. the buyer releases a hold by cancelling it -------------------------------------------------

@pytest.mark.django_db
def test_the_buyer_cancelling_an_unpaid_link_transaction_frees_its_slot_at_once(client, seller, buyer, stranger,
                                                                               settings):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 1
    link = make_link(seller, max_transactions=1)
    txn = services.payment_link_start(payment_link=link, buyer=buyer)
    assert services.payment_link_refusal(payment_link=link, user=stranger)[0] == "exhausted"
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert reverse("transactions:act", args=[txn.reference, "cancel"]) in page  # the buyer is offered it
    response = client.post(reverse("transactions:act", args=[txn.reference, "cancel"]),
                           {"reason": "Tidak jadi beli"})
    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.status == Status.CANCELLED
    # The link's slot and the buyer's own hold are both free again.
    assert services.payment_link_refusal(payment_link=link, user=stranger) is None
    assert services.payment_link_start(payment_link=make_link(UserFactory()), buyer=buyer).buyer == buyer
    assert services.payment_link_start(payment_link=link, buyer=stranger).buyer == stranger


# --- 4. the seller sees the slots held unpaid and paid ---------------------------------------------

@pytest.mark.django_db
def test_the_seller_sees_slots_held_unpaid_and_paid(client, seller, in_english):
    link = make_link(seller, max_transactions=5)
    buyers = [UserFactory() for _ in range(4)]
    started = [services.payment_link_start(payment_link=link, buyer=person) for person in buyers]
    scenarios.advance(started[0], buyers[0], Status.VERIFIED)
    transaction_services.transaction_cancel(escrow_transaction=started[1], actor=buyers[1], reason="batal")
    client.force_login(seller)
    page = client.get(reverse("paylinks:manage", args=[link.token])).content.decode()
    assert 'data-testid="link-count">3</span> / 5' in page
    assert 'data-testid="link-unpaid">2</span>' in page and 'data-testid="link-paid">1</span>' in page
    listing = client.get(reverse("paylinks:list")).content.decode()
    assert 'data-testid="link-unpaid">2</span>' in listing and 'data-testid="link-paid">1</span>' in listing


@pytest.mark.django_db
def test_the_sellers_link_pages_cost_the_same_queries_with_more_transactions(client, seller,
                                                                            django_assert_max_num_queries):
    link = make_link(seller)
    make_link(seller)
    client.force_login(seller)
    pages = [reverse("paylinks:manage", args=[link.token]), reverse("paylinks:list")]

    def costs():
        counts = []
        for path in pages:
            client.get(path)  # session and language settled
            with django_assert_max_num_queries(30) as captured:
                assert client.get(path).status_code == 200
            counts.append(len(captured.captured_queries))
        return counts

    few = costs()
    for n in range(4):
        person = UserFactory()
        txn = services.payment_link_start(payment_link=link, buyer=person)
        if n % 2:
            scenarios.advance(txn, person, Status.VERIFIED)
    assert costs() == few


@pytest.mark.django_db
def test_the_public_page_of_a_buyer_over_the_cap_costs_the_same_queries_with_more_holds(
        client, seller, buyer, settings, django_assert_max_num_queries):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 1
    services.payment_link_start(payment_link=make_link(seller), buyer=buyer)
    other = make_link(UserFactory())
    client.force_login(buyer)

    def cost():
        client.get(other.get_absolute_url())
        with django_assert_max_num_queries(30) as captured:
            assert client.get(other.get_absolute_url()).status_code == 200
        return len(captured.captured_queries)

    few = cost()
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 10
    for _ in range(3):
        services.payment_link_start(payment_link=make_link(UserFactory()), buyer=buyer)
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 4
    assert cost() == few


# --- concurrency: one buyer pressing "Buy" on several links at once --------------------------------

@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_the_cap_holds_when_one_buyer_presses_buy_on_many_links_at_once(settings):
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 2
    buyer = UserFactory()
    links = [make_link(UserFactory()) for _ in range(5)]  # five links, five sellers: five different locks
    outcomes = race(*[lambda link=link: services.payment_link_start(payment_link=link.pk, buyer=buyer)
                      for link in links])
    assert sorted(outcomes) == ["ok"] * 2 + ["unpaid_holds"] * 3
    assert EscrowTransaction.objects.filter(buyer=buyer, status=Status.CREATED).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_sellers_buying_from_each_other_at_once_do_not_deadlock(settings):
    """Each start locks two people (the buyer for the cap, the seller for the daily count): in one
    order, so A buying from B while B buys from A queue instead of deadlocking."""
    settings.INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = 100
    first, second = UserFactory(), UserFactory()
    for _ in range(5):
        of_first, of_second = make_link(first), make_link(second)
        outcomes = race(lambda link=of_second: services.payment_link_start(payment_link=link.pk, buyer=first),
                        lambda link=of_first: services.payment_link_start(payment_link=link.pk, buyer=second))
        assert outcomes == ["ok", "ok"]
