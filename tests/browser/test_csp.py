"""The main journeys under the Content-Security-Policy, on a phone (390×844) and a desktop: the
``people`` fixture fails the test on any violation a page reports, and each step checks that the
scripts moved out of the templates still work (language switch, filters, live fee quote, copy
button and countdown, QR code), as do the Faspay sandbox pages and the Django admin.

Waits use locators, never ``wait_for_function`` with a string: Playwright evaluates such a string
with ``eval`` inside the page, which this very policy forbids."""
import re

import pytest
from django.contrib.auth.models import Group

from disputes import services as dispute_services
from tests import scenarios
from tests.factories import UserFactory
from transactions.models import Status

from .conftest import DESKTOP, PHONE
from .test_journeys import login_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def signed_in(people, user, name, language, viewport):
    person = people(name, language, viewport=viewport)
    person.context.add_cookies(login_cookie(user, person))
    return person


# Desktop in `make test` (every other browser test walks a phone); the phone run is in `make test-long`.
@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="phone", marks=pytest.mark.long),
                                      pytest.param(DESKTOP, id="desktop")])
def test_journeys_run_under_the_policy_without_a_violation(people, faspay, seller, buyer, viewport):
    # A visitor: public pages, Cek Transaksi, the live fee calculator, the language switch.
    visitor = people("visitor", "id", viewport=viewport)
    page = visitor.page
    for path in ("/", "/faq/", "/kebijakan-pengembalian-dana/", "/cek-pembayaran/", "/akun/masuk/", "/akun/daftar/"):
        assert page.goto(path).status == 200, path
    page.goto("/biaya-layanan/")
    page.fill("#fee-calculator input[name=price]", "1.500.000")
    page.wait_for_selector("[data-testid=fee-result]:not([hidden])")
    page.select_option("#language-select", "en")  # submits its form by script (static/js/site.js)
    page.wait_for_selector("html[lang=en]")
    visitor.shot("fees-en")

    # The seller: dashboard filter, the create form's live quote, the transaction page.
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    seller_person = signed_in(people, seller, "seller", "id", viewport)
    page = seller_person.page
    page.goto("/transaksi/")
    page.select_option("#status-filter", "created")
    page.wait_for_url("**status=created**")
    page.goto("/transaksi/baru/")
    page.fill("#id_price", "2.000.000")
    page.locator("[data-field=buyer_pays]").filter(has_text="2.0").wait_for()
    page.goto(txn.get_absolute_url())
    page.goto("/akun/profil/")
    seller_person.shot("profile")

    # The buyer pays by QRIS (inline SVG QR, countdown) on the sandbox page.
    buyer_person = signed_in(people, buyer, "buyer", "en", viewport)
    page = buyer_person.page
    page.goto(f"/pembayaran/{txn.reference}/")
    page.check("input[name=channel][value='711']")
    page.click("[data-testid=method-form] button[type=submit]")
    page.wait_for_selector("[data-testid=qr] svg")
    page.locator("[data-countdown]").filter(has_text=re.compile(r"\d\d:\d\d:\d\d")).wait_for()
    buyer_person.shot("qris")
    page.goto(page.get_attribute("[data-testid=sandbox-link]", "href"))
    page.click("input[name=action][value=pay] + button")
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED
    page.goto("/sandbox/control/")

    # A dispute with its pages, then the refund page.
    txn = scenarios.advance(txn, buyer, Status.SHIPPED)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="defective",
                                            description="Layar retak")
    page.goto(dispute.get_absolute_url())
    page.wait_for_selector("[data-testid=dispute-status]")
    page.goto(f"/pengembalian-dana/{txn.reference}/")
    page.goto(txn.get_absolute_url())
    buyer_person.shot("disputed")

    # A dispute officer in the Django admin: index, lists with actions, a change form, an action page.
    officer = UserFactory(email="petugas.csp@intrasa.co.id", is_staff=True, full_name="Dewi Petugas")
    officer.groups.add(Group.objects.get(name="Dispute officer"))
    staff = signed_in(people, officer, "officer", "id", viewport)
    page = staff.page
    page.goto("/admin/")
    page.wait_for_selector("#sla-dashboard")
    page.goto("/admin/transactions/escrowtransaction/")
    page.goto(f"/admin/transactions/escrowtransaction/{txn.pk}/change/")
    page.goto("/admin/disputes/dispute/")
    page.check(f"input[name=_selected_action][value='{dispute.pk}']")
    page.select_option("select[name=action]", "split")
    page.click("button[name=index]")
    page.wait_for_selector("input[name=buyer_amount]")
    staff.shot("admin-split")
