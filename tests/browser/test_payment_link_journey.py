"""A social seller's payment link on a phone: the seller makes it, a buyer opens it, signs in and pays."""
import pytest
from django.core.management import call_command

from paylinks.models import PaymentLink
from tests.browser.conftest import PHONE, check_page
from tests.factories import UserFactory
from transactions.models import EscrowTransaction, Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "Kata-Sandi-Kuat-2026!"


def log_in(person, email, next_path=None):
    page = person.page
    if next_path is None:
        page.goto("/akun/masuk/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("form[action*='/akun/masuk/'] button[type=submit]")


@pytest.mark.parametrize("language", ["id"])
def test_seller_shares_a_link_and_a_buyer_pays_through_it(people, faspay, live_server, language):
    UserFactory(email="toko.hp@example.co.id", full_name="Rina Toko HP", password=PASSWORD)
    UserFactory(email="andi@example.co.id", full_name="Andi Pembeli", password=PASSWORD)
    seller, buyer = people("seller", language, viewport=PHONE), people("buyer", language, viewport=PHONE)

    # The seller makes the link: "iPhone 11 bekas, Rp 2.750.000 + ongkir".
    log_in(seller, "toko.hp@example.co.id")
    seller.page.wait_for_url("**/transaksi/")
    seller.page.goto("/tautan/baru/")
    seller.page.fill("#id_title", "iPhone 11 bekas")
    seller.page.fill("#id_description", "64 GB, baterai 85%, mulus, lengkap dengan dus.")
    seller.page.select_option("#id_category", "physical")
    seller.page.fill("#id_price", "2.750.000")
    seller.page.fill("#id_shipping_cost", "25.000")
    seller.page.select_option("#id_fee_payer", "buyer")
    seller.page.fill("#id_max_transactions", "1")
    check_page(seller, "create-link")
    seller.page.click("[data-testid=create-link]")
    seller.page.wait_for_selector("[data-testid=link-qr] svg")
    check_page(seller, "manage-link")
    link_url = seller.page.input_value("#link-url")
    link = PaymentLink.objects.get()
    assert link_url.endswith(f"/tautan/{link.token}/")
    download = seller.context.request.get(live_server.url + seller.page.get_attribute("[data-testid=qr-download]", "href"))
    assert download.status == 200 and download.body().startswith(b"\x89PNG")

    # The buyer opens it from a chat, reads what INTRASA is, signs in and starts their transaction.
    buyer.page.goto(link_url)
    check_page(buyer, "link-public")
    assert "2.790.000" in buyer.page.inner_text("[data-testid=fee-breakdown]")
    buyer.page.click("[data-testid=buy]")
    buyer.page.wait_for_url("**/akun/masuk/**")
    log_in(buyer, "andi@example.co.id", next_path=link_url)
    buyer.page.wait_for_url(f"**/tautan/{link.token}/")
    buyer.page.click("[data-testid=buy]")
    buyer.page.wait_for_selector("[data-testid=reference]")
    txn = EscrowTransaction.objects.get()
    assert txn.buyer.email == "andi@example.co.id" and txn.is_accepted
    check_page(buyer, "transaction-started")

    # It pays through the Faspay sandbox (BCA virtual account).
    buyer.page.click("[data-testid=pay-link]")
    buyer.page.check("input[name=channel][value='702']")
    buyer.page.click("[data-testid=method-form] button[type=submit]")
    buyer.page.wait_for_selector("[data-testid=instructions]")
    buyer.page.goto(buyer.page.get_attribute("[data-testid=sandbox-link]", "href"))
    buyer.page.click("input[name=action][value=pay] + button")
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED

    # The link has started as many transactions as allowed: the next visitor is told, kindly.
    visitor = people("visitor", language, viewport=PHONE)
    visitor.page.goto(link_url)
    assert visitor.page.locator("[data-testid=link-refusal]").is_visible()
    assert visitor.page.locator("[data-testid=buy]").count() == 0
    check_page(visitor, "link-used-up")

    # The seller sees the transaction the link started, and pauses the link.
    seller.page.goto(f"/tautan/{link.token}/kelola/")
    assert txn.reference in seller.page.inner_text("[data-testid=link-transactions]")
    seller.page.click("[data-testid=pause]")
    seller.page.wait_for_selector("[data-testid=resume]")
    check_page(seller, "paused")
    call_command("ledger_check")
