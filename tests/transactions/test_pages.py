"""The transaction pages through the Django test client: who sees what, and what each form does."""
import pytest
from django.urls import reverse

from tests import scenarios
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def url(txn, action=None):
    if action:
        return reverse("transactions:act", args=[txn.reference, action])
    return reverse("transactions:detail", args=[txn.reference])


CREATE_FORM = {
    "title": "Sepeda Lipat", "description": "Warna hitam, lengkap dengan tas.", "category": "physical",
    "price": "Rp 2.500.000", "shipping_cost": "75.000", "fee_payer": "split", "inspection_days": "3",
    "shipping_days": "2", "buyer_email": "budi@example.co.id", "buyer_phone": "",
}


def test_pages_need_a_login(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    for path in (reverse("transactions:dashboard"), reverse("transactions:create"), url(txn)):
        response = client.get(path)
        assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
    response = client.post(url(txn, "cancel"), {"reason": "x"})
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


def test_create_with_fee_preview_then_submit(client, seller):
    client.force_login(seller)
    response = client.post(reverse("transactions:create"), {**CREATE_FORM, "preview": "1"})
    assert response.status_code == 200
    assert not EscrowTransaction.objects.exists()
    html = response.content.decode()
    assert "Rp\xa015.000" in html  # the fee on Rp\xa02.575.000
    assert "Rp\xa02.582.500" in html  # buyer pays price + shipping + half the fee
    response = client.post(reverse("transactions:create"), CREATE_FORM)
    txn = EscrowTransaction.objects.get()
    assert response.status_code == 302 and response["Location"] == txn.get_absolute_url()
    assert (txn.price, txn.shipping_cost, txn.buyer_fee, txn.seller_fee) == (2_500_000, 75_000, 7_500, 7_500)


@pytest.mark.parametrize("field,value,message", [
    ("price", "USD 100", "Only Rupiah"),
    ("price", "12,50", "whole Rupiah"),
    ("price", "5000", "between"),
    ("buyer_phone", "+1 415 555 2671", "Indonesian"),
    ("buyer_email", "", "email address or mobile number"),
])
def test_create_refuses_bad_input_clearly(client, seller, field, value, message):
    seller.preferred_language = "en"
    seller.save()
    client.force_login(seller)
    response = client.post(reverse("transactions:create"), {**CREATE_FORM, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EscrowTransaction.objects.exists()


def test_quote_endpoint(client):
    response = client.get(reverse("transactions:quote"), {"price": "1.000.000", "fee_payer": "buyer"})
    assert response.json()["buyer_pays"] == {"amount": 1_005_000, "formatted": "Rp 1.005.000"}
    assert client.get(reverse("transactions:quote"), {"price": "abc", "fee_payer": "buyer"}).status_code == 400


def test_stranger_gets_404_not_403(client, seller, buyer, stranger):
    txn = scenarios.create(seller, buyer)
    client.force_login(stranger)
    assert client.get(url(txn)).status_code == 404
    assert client.post(url(txn, "cancel"), {"reason": "iseng"}).status_code == 404
    txn.refresh_from_db()
    assert txn.status == Status.CREATED


def test_unknown_action_is_404(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    client.force_login(seller)
    assert client.post(url(txn, "mark_disbursed")).status_code == 404


def test_invitation_accept_flow(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    invitation = reverse("transactions:invitation", args=[txn.invitation_token])
    page = client.get(invitation)
    assert page.status_code == 200 and txn.title in page.content.decode()
    response = client.post(invitation, {"accept": "1"})
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
    client.force_login(buyer)
    response = client.post(invitation, {"accept": "1"})
    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.buyer == buyer and txn.payment_due_at is not None


def test_unknown_invitation_token_is_404(client):
    assert client.get(reverse("transactions:invitation", args=["tidak-ada"])).status_code == 404


def test_seller_ships_and_buyer_confirms_through_the_pages(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    assert "ship" not in client.get(url(txn)).context["actions"]
    client.post(url(txn, "ship"), {"courier": "jne", "tracking_number": "X1"})
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED  # the buyer cannot ship
    client.force_login(seller)
    page = client.get(url(txn))
    assert page.context["actions"] == ["ship", "refund"]
    client.post(url(txn, "ship"), {"courier": "sicepat", "tracking_number": "SCP123456"})
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED and txn.tracking_number == "SCP123456"
    client.force_login(buyer)
    assert client.get(url(txn)).context["actions"] == ["confirm", "open_dispute"]
    client.post(url(txn, "confirm"))
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED


def test_illegal_action_through_the_page_shows_a_message_and_changes_nothing(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(buyer)
    response = client.post(url(txn, "confirm"), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert "Receipt confirmed" not in messages[0] and "Tidak" not in messages[0].split()[0:0]
    assert "tidak dapat" in messages[0].lower() or "not possible" in messages[0].lower()
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED


def test_disputes_are_not_opened_through_the_generic_action_url(client, seller, buyer):
    """Opening a dispute goes through the disputes page (reason, description, evidence)."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    client.force_login(buyer)
    assert client.post(url(txn, "open_dispute"), {"reason": "rusak"}).status_code == 404
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED


def test_user_text_is_escaped(client, seller, buyer):
    txn = scenarios.create(seller, buyer, title="<script>alert('x')</script>")
    client.force_login(seller)
    html = client.get(url(txn)).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_dashboard_filters_by_role_and_status(client, seller, buyer):
    sold = scenarios.create(seller, buyer)
    bought = scenarios.create(buyer, seller, title="Jasa Desain")
    scenarios.advance(bought, seller, Status.VERIFIED)
    client.force_login(seller)
    assert list(client.get(reverse("transactions:dashboard"), {"role": "seller"}).context["page"]) == [sold]
    bought.refresh_from_db()
    assert list(client.get(reverse("transactions:dashboard"), {"status": "verified"}).context["page"]) == [bought]


def test_dashboard_and_detail_cost_a_constant_number_of_queries(client, seller, buyer,
                                                                 django_assert_max_num_queries):
    for _ in range(3):
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    client.force_login(seller)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("transactions:dashboard"))
    for _ in range(15):
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("transactions:dashboard"))
    txn = EscrowTransaction.objects.first()
    with django_assert_max_num_queries(12):
        client.get(url(txn))


def test_language_switch_to_english(client, seller):
    client.force_login(seller)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My transactions" in client.get(reverse("transactions:dashboard")).content.decode()
