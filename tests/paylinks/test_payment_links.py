"""Payment links: a seller's reusable offer; each buyer who opens it starts their own transaction."""
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit.models import AuditEntry
from notifications.models import Notification
from paylinks import services
from paylinks.models import PaymentLink, PaymentLinkUse
from tests.concurrency import race
from tests.factories import UserFactory
from transactions import services as transaction_services
from transactions.models import EscrowTransaction, Status

TERMS = dict(title="iPhone 11 bekas", description="64 GB, baterai 85%, mulus.", category="physical",
             price=2_750_000, shipping_cost=25_000, fee_payer="buyer", inspection_days=2, shipping_days=2)


def make_link(seller, **overrides):
    return services.payment_link_create(seller=seller, **{**TERMS, **overrides})


@pytest.mark.django_db
def test_each_buyer_starts_their_own_accepted_transaction_with_the_links_terms(seller, buyer, stranger):
    link = make_link(seller)
    first = services.payment_link_start(payment_link=link, buyer=buyer)
    second = services.payment_link_start(payment_link=link, buyer=stranger)
    assert first.pk != second.pk
    for txn, who in ((first, buyer), (second, stranger)):
        assert (txn.seller, txn.buyer, txn.status) == (seller, who, Status.CREATED)
        assert txn.is_accepted and txn.payment_due_at is not None
        assert (txn.title, txn.price, txn.shipping_cost, txn.amount_due) == ("iPhone 11 bekas", 2_750_000, 25_000,
                                                                            2_790_000)
        assert list(txn.events.values_list("action", flat=True)) == ["created", "accepted", "payment_link"]
    # No invitation email to the buyer who is acting; the seller is told who accepted.
    assert not Notification.objects.filter(kind="invitation").exists()
    assert Notification.objects.filter(kind="accepted", recipient=seller).count() == 2
    assert PaymentLinkUse.objects.filter(payment_link=link).count() == 2
    assert AuditEntry.objects.filter(action="payment_link.start").count() == 2


@pytest.mark.django_db
def test_a_buyer_pressing_twice_gets_the_same_unpaid_transaction(seller, buyer):
    link = make_link(seller)
    first = services.payment_link_start(payment_link=link, buyer=buyer)
    assert services.payment_link_start(payment_link=link, buyer=buyer).pk == first.pk
    transaction_services.transaction_cancel(escrow_transaction=first, actor=buyer, reason="salah pilih")
    assert services.payment_link_start(payment_link=link, buyer=buyer).pk != first.pk


@pytest.mark.django_db
@pytest.mark.parametrize("action, code", [("pause", "paused"), ("close", "closed")])
def test_paused_and_closed_links_start_nothing(seller, buyer, action, code):
    link = make_link(seller)
    getattr(services, f"payment_link_{action}")(payment_link=link, seller=seller)
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_start(payment_link=link, buyer=buyer)
    assert refused.value.code == code
    assert not EscrowTransaction.objects.exists()
    if action == "pause":
        services.payment_link_resume(payment_link=link, seller=seller)
        assert services.payment_link_start(payment_link=link, buyer=buyer).buyer == buyer
    else:
        with pytest.raises(services.PaymentLinkError) as refused:
            services.payment_link_resume(payment_link=link, seller=seller)
        assert refused.value.code == "illegal_transition"
    assert AuditEntry.objects.filter(action=f"payment_link.{action}", actor=seller).count() == 1


@pytest.mark.django_db
def test_only_the_owner_manages_a_link(seller, stranger):
    link = make_link(seller)
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_pause(payment_link=link, seller=stranger)
    assert refused.value.code == "forbidden"
    link.refresh_from_db()
    assert link.status == PaymentLink.Status.ACTIVE


@pytest.mark.django_db
def test_the_limit_counts_transactions_that_did_not_end_unpaid(seller, buyer, stranger):
    link = make_link(seller, max_transactions=1)
    txn = services.payment_link_start(payment_link=link, buyer=buyer)
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_start(payment_link=link, buyer=stranger)
    assert refused.value.code == "exhausted"
    transaction_services.transaction_cancel(escrow_transaction=txn, actor=seller, reason="pembeli batal")
    assert services.payment_link_start(payment_link=link, buyer=stranger).buyer == stranger
    services.payment_link_set_limit(payment_link=link, seller=seller, max_transactions=None)
    third = UserFactory()
    assert services.payment_link_start(payment_link=link, buyer=third).buyer == third


@pytest.mark.django_db
def test_unverified_people_cannot_use_links(seller, buyer):
    unverified_seller = UserFactory(email_verified_at=None)
    with pytest.raises(services.PaymentLinkError) as refused:
        make_link(unverified_seller)
    assert refused.value.code == "email_unverified"
    link = make_link(seller)
    unverified_buyer = UserFactory(email_verified_at=None)
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_start(payment_link=link, buyer=unverified_buyer)
    assert refused.value.code == "email_unverified"
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_start(payment_link=link, buyer=seller)
    assert refused.value.code == "seller"


@pytest.mark.django_db
@pytest.mark.parametrize("overrides, code", [
    ({"price": 5}, "amount_out_of_range"),
    ({"category": "service"}, "invalid_shipping"),
    ({"max_transactions": 0}, "invalid_limit"),
    ({"inspection_days": 0}, "invalid_days"),
])
def test_bad_terms_are_refused_with_a_message(seller, overrides, code):
    with pytest.raises(services.PaymentLinkError) as refused:
        make_link(seller, **overrides)
    assert refused.value.code == code and refused.value.message
    assert not PaymentLink.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_the_limit_holds_when_many_buyers_press_buy_at_once(seller):
    link = make_link(seller, max_transactions=2)
    buyers = [UserFactory() for _ in range(6)]
    outcomes = race(*[lambda person=person: services.payment_link_start(payment_link=link.pk, buyer=person)
                      for person in buyers])
    assert sorted(outcomes) == ["exhausted"] * 4 + ["ok"] * 2
    assert EscrowTransaction.objects.filter(payment_link_use__payment_link=link).count() == 2


# --- pages -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_seller_creates_a_link_and_manages_it(client, seller, in_english):
    client.force_login(seller)
    response = client.post(reverse("paylinks:create"), {
        "title": "iPhone 11 bekas", "description": "64 GB", "category": "physical", "price": "2.750.000",
        "shipping_cost": "25.000", "fee_payer": "buyer", "inspection_days": 2, "shipping_days": 2,
        "max_transactions": "3"})
    link = PaymentLink.objects.get()
    assert response.status_code == 302 and response.url == reverse("paylinks:manage", args=[link.token])
    assert (link.price, link.shipping_cost, link.max_transactions) == (2_750_000, 25_000, 3)
    page = client.get(response.url).content.decode()
    assert "<svg" in page and link.token in page and "Rp\xa02.790.000" in page
    client.post(reverse("paylinks:act", args=[link.token, "pause"]))
    link.refresh_from_db()
    assert link.status == PaymentLink.Status.PAUSED
    client.post(reverse("paylinks:act", args=[link.token, "limit"]), {"max_transactions": "abc"})
    link.refresh_from_db()
    assert link.max_transactions == 3
    png = client.get(reverse("paylinks:qr_png", args=[link.token]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]
    from PIL import Image

    assert Image.open(io.BytesIO(png.content)).size[0] > 300  # big enough to print


@pytest.mark.django_db
def test_another_seller_cannot_see_the_management_page(client, seller, stranger):
    link = make_link(seller)
    client.force_login(stranger)
    assert client.get(reverse("paylinks:manage", args=[link.token])).status_code == 404
    assert client.post(reverse("paylinks:act", args=[link.token, "close"])).status_code == 404
    link.refresh_from_db()
    assert link.status == PaymentLink.Status.ACTIVE


@pytest.mark.django_db
def test_public_page_answers_every_case_with_a_message(client, seller, buyer, in_english):
    assert "no INTRASA payment link" in client.get(reverse("paylinks:public", args=["tidak-ada"])).content.decode()
    assert client.get(reverse("paylinks:public", args=["tidak-ada"])).status_code == 404
    link = make_link(seller, max_transactions=1)
    page = client.get(link.get_absolute_url()).content.decode()
    assert "escrow service" in page and 'data-testid="buy"' in page and "Rp\xa02.790.000" in page
    # Not signed in: pressing Buy asks to log in, and comes back here.
    response = client.post(link.get_absolute_url())
    assert response.status_code == 302 and "next=" in response.url and link.token in response.url
    client.force_login(buyer)
    response = client.post(link.get_absolute_url())
    txn = EscrowTransaction.objects.get()
    assert response.url == txn.get_absolute_url() and txn.buyer == buyer
    client.force_login(UserFactory())
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200 and "as many transactions" in page.content.decode()
    assert 'data-testid="buy"' not in page.content.decode()
    response = client.post(link.get_absolute_url(), follow=True)
    assert "as many transactions" in response.content.decode() and EscrowTransaction.objects.count() == 1
    services.payment_link_close(payment_link=link, seller=seller)
    assert "closed this payment link" in client.get(link.get_absolute_url()).content.decode()
    call_command("ledger_check")


@pytest.mark.django_db
def test_staff_see_links_and_plans_read_only(client, seller, buyer):
    from milestones import services as milestone_services
    from tests.factories import StaffFactory
    from tests.milestones.conftest import propose

    link = make_link(seller)
    services.payment_link_start(payment_link=link, buyer=buyer)
    plan = propose(seller, buyer)
    milestone_services.milestone_plan_accept(plan=plan, buyer=buyer)
    client.force_login(StaffFactory(is_superuser=True))
    for url in (reverse("admin:paylinks_paymentlink_changelist"),
                reverse("admin:paylinks_paymentlink_change", args=[link.pk]),
                reverse("admin:milestones_milestoneplan_changelist"),
                reverse("admin:milestones_milestoneplan_change", args=[plan.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("admin:milestones_milestoneplan_change", args=[plan.pk])).content.decode()
    assert plan.milestones.first().escrow_transaction.reference in page
    assert client.get(reverse("admin:paylinks_paymentlink_add")).status_code == 403


@pytest.mark.django_db
def test_a_link_whose_seller_is_no_longer_verified_says_so(client, seller, buyer, in_english):
    link = make_link(seller)
    type(seller).objects.filter(pk=seller.pk).update(email_verified_at=None)
    client.force_login(buyer)
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200 and "account is not verified" in page.content.decode()
    with pytest.raises(services.PaymentLinkError) as refused:
        services.payment_link_start(payment_link=link, buyer=buyer)
    assert refused.value.code == "seller_unverified"
    assert not EscrowTransaction.objects.exists()
