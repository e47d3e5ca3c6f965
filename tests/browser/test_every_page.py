"""Every page of the journeys, on a phone (390×844) and a desktop, in both languages (issue 17): none
scrolls sideways, no amount can wrap away from its "Rp", axe-core finds no serious or critical
violation, and on a phone the page's main action is in reach at the bottom of the screen. Screenshots
of every page are saved under test-results/screenshots/.

The transactions are put in each state through the services (tests/scenarios.py); the other browser
tests drive the same states through the pages themselves."""
import pytest

from escrow import services as escrow_services
from payments import services as payment_services
from refunds.models import RefundRequest
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.factories import UserFactory
from transactions.models import Status

from .conftest import DESKTOP, PHONE, check_page
from .test_journeys import login_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# Every payment method a buyer may choose: virtual accounts, convenience stores, QRIS, e-wallets and
# the bank transfer to INTRASA's escrow account.
CHANNELS = ["702", "800", "402", "706", "707", "711", "801", "transfer"]


def signed_in(people, user, name, language, viewport):
    person = people(name, language, viewport=viewport)
    person.context.add_cookies(login_cookie(user, person))
    return person


def visit(person, path, label, main_action=None):
    """Open ``path`` and run the checks every journey page passes; on a phone, the page's main
    action (a selector) is on the first screen, in the bar at its bottom."""
    response = person.page.goto(path)
    assert response.status < 400, f"{path} answered {response.status}"
    if main_action and person.page.viewport_size == PHONE:
        box = person.page.locator(main_action).bounding_box()
        assert box is not None, f"{path}: {main_action} is not shown"
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (
            f"{path}: the main action {main_action} is not on the first screen: {box}")
    check_page(person, label)


@pytest.mark.parametrize("viewport,language", [
    pytest.param(PHONE, "id", id="phone-id"),
    # The other sizes and languages walk the same pages: `make test-long` (and CI) runs them.
    pytest.param(DESKTOP, "en", id="desktop-en", marks=pytest.mark.long),
    pytest.param(PHONE, "en", id="phone-en", marks=pytest.mark.long),
    pytest.param(DESKTOP, "id", id="desktop-id", marks=pytest.mark.long),
])
def test_every_page_fits_and_passes_axe(people, faspay, sendme, seller, buyer, viewport, language):
    verified_bank(seller)
    invited = scenarios.create(seller, buyer, title="Sepeda Lipat Brompton")
    to_pay = scenarios.advance(scenarios.create(seller, buyer, title="Jam Tangan Seiko"), buyer, Status.CREATED)
    verified = scenarios.advance(scenarios.create(seller, buyer, title="Kamera Fujifilm X-T30"), buyer, Status.VERIFIED)
    shipped = scenarios.advance(scenarios.create(seller, buyer, title="Meja Kayu Jati"), buyer, Status.SHIPPED)
    disputed_txn = scenarios.advance(scenarios.create(seller, buyer, title="Lemari Pakaian"), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(disputed_txn, buyer, description="Pintu lemari retak saat diterima.")
    refunded = scenarios.advance(scenarios.create(seller, buyer, title="Speaker Bluetooth"), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=refunded, actor=seller, reason="Stok habis")
    assert RefundRequest.objects.filter(escrow_transaction=refunded).exists()
    paid_out = scenarios.advance(scenarios.create(seller, buyer, title="Lensa Sigma 30mm"), buyer, Status.CONFIRMED)

    # Anyone: the public pages, Cek Transaksi with an answer, the fee calculator with a result.
    visitor = people("visitor", language, viewport=viewport)
    visit(visitor, "/", "home")
    visit(visitor, f"/cek-transaksi/?reference={shipped.reference}", "cek-transaksi")
    visit(visitor, f"/cek-transaksi/?reference={invited.reference}", "cek-transaksi-invited")
    visit(visitor, f"/cek-pembayaran/?code={shipped.reference}", "cek-pembayaran")
    visit(visitor, "/biaya-layanan/?price=1.500.000&shipping_cost=25.000&fee_payer=buyer", "fee-calculator")
    visit(visitor, "/akun/daftar/", "signup")
    visit(visitor, "/akun/masuk/", "login")
    visit(visitor, f"/transaksi/undangan/{invited.invitation_token}/", "invitation-signed-out")

    # The seller: dashboard, the new-transaction form, each transaction, the profile with its payout
    # accounts, the notifications.
    seller_person = signed_in(people, seller, "seller", language, viewport)
    visit(seller_person, "/transaksi/", "seller-dashboard")
    visit(seller_person, "/transaksi/baru/", "create")
    visit(seller_person, invited.get_absolute_url(), "seller-invitation")
    visit(seller_person, verified.get_absolute_url(), "seller-ship", main_action="#ship-form button[type=submit]")
    visit(seller_person, shipped.get_absolute_url(), "seller-shipped")
    visit(seller_person, dispute.get_absolute_url(), "seller-dispute")
    visit(seller_person, paid_out.get_absolute_url(), "seller-paid-out")
    visit(seller_person, "/akun/profil/", "profile-destinations")
    visit(seller_person, "/notifikasi/", "notifications")
    # Notifications were stored in the seller's language (Indonesian); they read in the page's language.
    assert seller.preferred_language == "id"
    notes = seller_person.page.inner_text("[data-testid=notifications]")
    if language == "en":
        assert f"Payment verified: please ship {verified.reference}" in notes and "Pembayaran" not in notes
    else:
        assert f"Pembayaran terverifikasi: silakan kirim {verified.reference}" in notes

    # The buyer: the dashboard, the invitation, the payment page of every method, the transaction
    # before and after delivery, the dispute and the refund page.
    buyer_person = signed_in(people, buyer, "buyer", language, viewport)
    visit(buyer_person, "/transaksi/", "buyer-dashboard")
    visit(buyer_person, f"/transaksi/undangan/{invited.invitation_token}/", "buyer-invitation",
          main_action="button[name=accept]")
    visit(buyer_person, to_pay.get_absolute_url(), "buyer-to-pay", main_action="[data-testid=pay-link]")
    visit(buyer_person, f"/pembayaran/{to_pay.reference}/", "pay-methods",
          main_action="[data-testid=method-form] button[type=submit]")
    for channel in CHANNELS:
        payment_services.payment_start(escrow_transaction=to_pay, buyer=buyer, channel_code=channel)
        visit(buyer_person, f"/pembayaran/{to_pay.reference}/", f"pay-{channel}")
        assert buyer_person.page.locator("[data-testid=instructions]").count() == 1
        bill = to_pay.bills.order_by("-created_at").first()
        visit(visitor, f"/cek-pembayaran/?code={bill.pay_code or to_pay.reference}", f"cek-pembayaran-{channel}")
    visit(buyer_person, verified.get_absolute_url(), "buyer-verified")
    visit(buyer_person, shipped.get_absolute_url(), "buyer-shipped", main_action="[data-testid=confirm-form] button")
    visit(buyer_person, dispute.get_absolute_url(), "buyer-dispute")
    visit(buyer_person, f"/pengembalian-dana/{refunded.reference}/", "buyer-refund")
    visit(buyer_person, paid_out.get_absolute_url(), "buyer-paid-out")
    visit(buyer_person, "/akun/profil/", "buyer-profile")

    # A buyer who has not verified the address yet is told why invitations are not listed.
    newcomer = UserFactory(full_name="Rina Baru", email="rina.baru@example.co.id", email_verified_at=None)
    newcomer_person = signed_in(people, newcomer, "newcomer", language, viewport)
    visit(newcomer_person, "/transaksi/", "unverified-dashboard")
    assert newcomer_person.page.locator("[data-testid=invitations-hidden]").is_visible()
    visit(newcomer_person, f"/transaksi/undangan/{invited.invitation_token}/", "unverified-invitation")


def in_view(person, selector):
    box = person.page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= person.page.viewport_size["height"]


@pytest.mark.parametrize("language", ["id", pytest.param("en", marks=pytest.mark.long)])
def test_confirmation_messages_stay_in_view_on_a_phone(people, sendme, language):
    """On a phone the message that confirms what just happened is on the screen the page opens at: the
    verified email address (top of the profile) and a payout account added (its section, lower down)."""
    from .test_journeys import sign_up

    person = people("seller", language, viewport=PHONE)
    sign_up(person, "Sari Wulandari", f"sari.{language}@example.co.id", "081234567801")  # opens the email's link
    assert person.page.locator(".message.success").count() >= 1
    assert in_view(person, ".message.success"), "the verification message is off screen"
    check_page(person, "verified")

    sendme("account_register", number="7001234567", holder_name="SARI WULANDARI")
    person.page.select_option("#id_bank-bank_code", "014")
    person.page.fill("#id_bank-account_number", "7001234567")
    person.page.fill("#id_bank-account_holder_name", "Sari Wulandari")
    person.page.click("form[action*='tujuan-pencairan/bank'] button[type=submit]")
    person.page.wait_for_selector("[data-testid^=destination-]")
    assert person.page.url.endswith("#tujuan-pencairan")
    assert in_view(person, ".message.success"), "the account-added message is off screen"
    # The bank answered while the seller waited, and the message says so (not "we will check it").
    assert ("nama pemiliknya cocok" if language == "id" else "the holder's name matches") in person.page.inner_text(
        ".message.success")
    check_page(person, "account-added")
