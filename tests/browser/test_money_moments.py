"""The money moments in a real browser, on a phone (390×844) and a desktop, in both languages
(issue 17): open pages follow the transaction by themselves (htmx polling, no reload), every
transaction page says where it stands and what happens next, irreversible actions ask first, the
invitation is shared as a message that says what it is, and every page fits the screen and passes
axe-core without a serious or critical violation."""
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command

from tests import scenarios
from tests.disbursements.conftest import verified_bank
from transactions.models import EscrowTransaction, Status

from .conftest import DESKTOP, PHONE, check_page
from .test_journeys import login_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

LIVE = 15_000  # ms: a status change reaches an open page within a few seconds (it polls every 3 s)

WORDS = {
    "id": {"awaiting_acceptance": "Menunggu persetujuan pembeli", "verified": "Pembayaran terverifikasi",
           "shipped": "Dikirim", "ship_before": "Kirim barang sebelum", "disbursed": "Dana dicairkan ke penjual"},
    "en": {"awaiting_acceptance": "Awaiting the buyer's acceptance", "verified": "Payment verified",
           "shipped": "Shipped", "ship_before": "Ship the goods before", "disbursed": "Paid out to seller"},
}


def signed_in(people, user, name, language, viewport):
    person = people(name, language, viewport=viewport)
    person.context.add_cookies(login_cookie(user, person))
    return person


def mark_page(person):
    """A flag in the page's window: it survives htmx swaps and is gone after a reload."""
    person.page.evaluate("window.__notReloaded = true")


def was_not_reloaded(person):
    return person.page.evaluate("window.__notReloaded === true")


def step_states(person):
    return {li.get_attribute("data-step"): li.get_attribute("data-state")
            for li in person.page.locator("[data-testid=stepper] li").all()}


@pytest.mark.parametrize("viewport,language", [
    pytest.param(PHONE, "id", id="phone-id"),
    pytest.param(DESKTOP, "en", id="desktop-en", marks=pytest.mark.long),  # `make test-long` and CI
    pytest.param(PHONE, "en", id="phone-en", marks=pytest.mark.long),
    pytest.param(DESKTOP, "id", id="desktop-id"),
])
def test_money_moments_reach_open_pages_and_say_what_happens_next(people, faspay, sendme, seller, buyer,
                                                                  viewport, language):
    words = WORDS[language]
    verified_bank(seller)
    txn = scenarios.create(seller, buyer, title="Kamera Fujifilm X-T30")

    # The seller shares the invitation: a copy button, WhatsApp with a message that says what it is.
    seller_person = signed_in(people, seller, "seller", language, viewport)
    page = seller_person.page
    page.goto(txn.get_absolute_url())
    assert page.inner_text("[data-testid=status]") == words["awaiting_acceptance"]
    assert step_states(seller_person)["created"] == "done" and step_states(seller_person)["paid"] == "current"
    assert page.locator("[data-testid=copy-invitation]").is_visible()
    text = parse_qs(urlparse(page.get_attribute("[data-testid=whatsapp-share]", "href")).query)["text"][0]
    for fact in ("Kamera Fujifilm X-T30", "Rp", seller.full_name, "INTRASA", txn.reference, "/cek-transaksi/",
                 "/transaksi/undangan/"):
        assert fact in text, fact
    check_page(seller_person, "invitation")
    if viewport == PHONE:
        # Near the top on a phone: the invitation is within the first two screens.
        assert page.locator("[data-testid=invite]").bounding_box()["y"] < 2 * PHONE["height"]
        # The header folds into a menu.
        assert not page.locator("#main-nav").is_visible()
        page.click("[data-testid=menu-toggle]")
        assert page.locator("#main-nav").is_visible()

    # The buyer accepts and opens the payment page: the method list shows the total and the deadline.
    txn = scenarios.advance(txn, buyer, Status.CREATED)
    buyer_person = signed_in(people, buyer, "buyer", language, viewport)
    page = buyer_person.page
    page.goto(f"/pembayaran/{txn.reference}/")
    summary = page.inner_text("[data-testid=method-summary]")
    assert "Rp" in summary and "WIB" in summary
    check_page(buyer_person, "methods")
    page.check("input[name=channel][value='702']")
    page.click("[data-testid=method-form] button[type=submit]")
    page.wait_for_selector("[data-testid=instructions]")
    assert page.inner_text("[data-testid=channel-name]") == "BCA Virtual Account"
    assert page.locator("[data-testid=copy-amount]").is_visible()
    assert page.locator("[data-testid=copy-pay-code]").is_visible()
    page.locator("[data-countdown]").filter(has_text=re.compile(r"\d\d:\d\d:\d\d")).wait_for()
    assert page.get_attribute("[data-countdown]", "role") == "timer"  # ticks without being announced
    check_page(buyer_person, "virtual-account")

    # The seller keeps the transaction page and the dashboard open while the buyer pays.
    seller_person.page.goto(txn.get_absolute_url())
    dashboard = seller_person.context.new_page()
    dashboard.goto("/transaksi/")
    for open_page in (seller_person.page, dashboard, page):
        open_page.evaluate("window.__notReloaded = true")

    sandbox = buyer_person.context.new_page()
    sandbox.goto(page.get_attribute("[data-testid=sandbox-link]", "href"))
    sandbox.click("input[name=action][value=pay] + button")
    # The sandbox answers the payment with a redirect to the same page, now offering a reversal. Wait
    # for that page before closing the tab: Chromium can acknowledge a close that races a navigation
    # commit without closing, and page.close() then never returns (crbug.com/536385539).
    sandbox.locator("input[name=action][value=reverse]").wait_for(state="attached")
    assert EscrowTransaction.objects.get(pk=txn.pk).status == Status.VERIFIED
    sandbox.close()

    # Within seconds, without a reload: the payment page, the transaction page and the dashboard.
    page.locator("[data-testid=payment-status]").filter(has_text=words["verified"]).wait_for(timeout=LIVE)
    assert not page.locator("[data-testid=instructions]").count()  # no second payment invited
    assert was_not_reloaded(buyer_person)
    check_page(buyer_person, "paid-live")
    seller_person.page.locator("[data-testid=status]").filter(has_text=words["verified"]).wait_for(timeout=LIVE)
    assert words["ship_before"] in seller_person.page.inner_text("[data-testid=next-step]")
    assert "WIB" in seller_person.page.inner_text("[data-testid=next-step]")
    assert seller_person.page.locator("#ship-form").is_visible()  # the new action arrived with the status
    assert was_not_reloaded(seller_person)
    dashboard.locator("[data-testid=row-status]").filter(has_text=words["verified"]).wait_for(timeout=LIVE)
    assert dashboard.evaluate("window.__notReloaded === true")
    dashboard.close()
    check_page(seller_person, "verified-live")

    # The seller ships; the buyer's open transaction page follows.
    page.goto(txn.get_absolute_url())
    mark_page(buyer_person)
    assert step_states(buyer_person)["verified"] == "done" and step_states(buyer_person)["shipped"] == "current"
    seller_person.page.select_option("select[name=courier]", "jne")
    seller_person.page.fill("input[name=tracking_number]", "JNE0123456789")
    seller_person.page.click("#ship-form button[type=submit]")
    seller_person.page.wait_for_selector("[data-testid=inspection-ends]")
    page.locator("[data-testid=confirm-form]").wait_for(timeout=LIVE)
    assert was_not_reloaded(buyer_person)
    assert page.inner_text("[data-testid=status]") == words["shipped"]

    # After delivery the buyer's main action is confirming; the dispute waits behind a secondary button.
    assert not page.locator("[data-testid=dispute-open-form]").is_visible()
    assert page.locator("[data-testid=dispute-toggle] summary").is_visible()
    check_page(buyer_person, "shipped")
    page.click("[data-testid=dispute-toggle] summary")
    assert page.locator("[data-testid=dispute-open-form]").is_visible()
    assert page.input_value("[data-testid=dispute-open-form] select[name=reason]") == ""  # starts unselected
    page.click("[data-testid=dispute-toggle] summary")

    # Confirming releases the money, so it asks first: without the box ticked nothing happens.
    page.click("[data-testid=confirm-form] button[type=submit]")
    assert EscrowTransaction.objects.get(pk=txn.pk).status == Status.SHIPPED
    assert page.locator("[data-testid=confirm-understood]:invalid").count() == 1
    page.check("[data-testid=confirm-understood]")
    page.click("[data-testid=confirm-form] button[type=submit]")
    page.wait_for_selector("[data-testid=documents]")
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED

    # A plain money statement, no ledger lines, no raw event keys.
    statement = page.inner_text("[data-testid=money-statement]")
    assert "Rp" in statement and page.locator("[data-field=paid_out]").count() == 1
    html = page.content()
    assert "payment_method_chosen" not in html and "ledger-lines" not in html
    assert all(state == "done" for state in step_states(buyer_person).values())
    check_page(buyer_person, "disbursed")
    seller_person.page.goto(txn.get_absolute_url())
    assert seller_person.page.inner_text("[data-testid=status]") == words["disbursed"]
    check_page(seller_person, "paid-out")
    seller_person.page.goto("/transaksi/")
    check_page(seller_person, "dashboard")
    call_command("ledger_check")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_seller_cancel_and_refund_asks_first_with_the_consequence(people, faspay, seller, buyer, viewport):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    person = signed_in(people, seller, "seller", "id", viewport)
    page = person.page
    page.goto(txn.get_absolute_url())
    assert not page.locator("[data-testid=refund-form]").is_visible()
    page.click("[data-testid=refund-toggle] summary")
    label = page.inner_text("label[for=refund-understood]")
    assert "tidak dapat dibatalkan" in label and "Rp" in label
    page.fill("[data-testid=refund-form] textarea[name=reason]", "Stok habis.")
    page.click("[data-testid=refund-form] button[type=submit]")
    assert EscrowTransaction.objects.get(pk=txn.pk).status == Status.VERIFIED
    page.check("[data-testid=refund-understood]")
    page.click("[data-testid=refund-form] button[type=submit]")
    # "Refunded" only once the transfer arrived; until then the page says the refund is on its way.
    page.locator("[data-testid=status]").filter(has_text="Pengembalian dana ke pembeli sedang diproses").wait_for()
    check_page(person, "refunded")


@pytest.mark.parametrize("viewport,language", [pytest.param(PHONE, "id", id="phone-id"),
                                               pytest.param(DESKTOP, "en", id="desktop-en", marks=pytest.mark.long)])
def test_forms_never_show_a_stale_breakdown_and_removing_an_account_asks_first(people, seller, viewport, language):
    person = signed_in(people, seller, "seller", language, viewport)
    page = person.page
    page.goto("/transaksi/baru/")
    page.fill("#id_price", "1.500.000")
    page.locator("[data-field=buyer_pays]").filter(has_text="1.5").wait_for()
    page.fill("#id_price", "2.000.000.000")  # above the maximum
    page.locator("[data-live-error=price]").filter(has_text="1.000.000.000").wait_for()
    assert page.inner_text("#fee-breakdown [data-field=buyer_pays]") == "—"
    check_page(person, "create-too-much")
    page.fill("#id_price", "2.000")  # below the minimum
    page.locator("[data-live-error=price]").filter(has_text="10.000").wait_for()
    assert page.inner_text("#fee-breakdown [data-field=buyer_pays]") == "—"
    page.fill("#id_price", "250.000")
    page.locator("#fee-breakdown [data-field=buyer_pays]").filter(has_text="Rp").wait_for()
    assert page.locator("[data-live-error=price]").count() == 0

    page.goto("/biaya-layanan/")
    page.fill("#fee-calculator input[name=price]", "1.500.000")
    page.wait_for_selector("[data-testid=fee-result]:not([hidden])")
    page.fill("#fee-calculator input[name=price]", "5.000.000.000")
    page.locator("[data-live-error=price]").filter(has_text="1.000.000.000").wait_for()
    assert page.locator("[data-testid=fee-result]").is_hidden()

    # Removing a payout account says what follows and needs a second click.
    from accounts.models import PayoutDestination

    destination = verified_bank(seller)
    page.goto("/akun/profil/")
    check_page(person, "profile")
    page.click(f"[data-testid=remove-{destination.pk}] summary")
    assert page.locator(f"[data-testid=confirm-remove-{destination.pk}]").is_visible()
    page.click(f"[data-testid=confirm-remove-{destination.pk}]")
    page.wait_for_url("**/akun/profil/**")
    assert PayoutDestination.objects.get(pk=destination.pk).is_archived
