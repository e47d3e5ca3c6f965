"""A three-milestone service on a phone: proposed, accepted once, paid up front with one bill at the
sandbox (held per milestone), delivered; milestones 1 and 3 confirmed and paid out while milestone 2
is disputed; Cek Transaksi shows a milestone's place in its plan."""

import datetime as dt

import pytest
from django.core.management import call_command

from milestones.models import MilestonePlan
from tests.browser.conftest import PHONE, check_page
from tests.disbursements.conftest import verified_bank
from tests.factories import UserFactory
from transactions.models import EscrowTransaction, Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "Kata-Sandi-Kuat-2026!"


def log_in(person, email, next_path="/"):
    person.page.goto(f"/akun/masuk/?next={next_path}")
    person.page.fill("#id_username", email)
    person.page.fill("#id_password", PASSWORD)
    person.page.click("form[action*='/akun/masuk/'] button[type=submit]")
    person.page.wait_for_url(f"**{next_path}")


def statuses(plan):
    return [EscrowTransaction.objects.get(milestone__plan=plan, milestone__position=n).status for n in (1, 2, 3)]


def test_three_milestones_one_disputed(people, faspay, sendme, live_server):
    seller_user = UserFactory(email="studio@example.co.id", full_name="Dewi Studio Desain", password=PASSWORD)
    UserFactory(email="kopi@example.co.id", full_name="Kedai Kopi Senja", password=PASSWORD)
    verified_bank(seller_user)
    seller, buyer = people("seller", "id", viewport=PHONE), people("buyer", "id", viewport=PHONE)

    # The seller proposes three milestones, paid up front.
    log_in(seller, "studio@example.co.id", "/termin/baru/")
    page = seller.page
    page.fill("#id_title", "Desain logo dan situs Kedai Kopi Senja")
    page.fill("#id_description", "Logo, identitas visual, dan situs satu halaman.")
    page.fill("#id_buyer_email", "kopi@example.co.id")
    page.check("input[name=payment_schedule][value=upfront]")
    page.select_option("#id_fee_payer", "buyer")
    today = dt.date.today()
    for index, (title, amount) in enumerate((("Logo", "1.500.000"), ("Identitas visual", "2.000.000"),
                                             ("Situs", "2.500.000"))):
        page.fill(f"#id_m-{index}-title", title)
        page.fill(f"#id_m-{index}-amount", amount)
        page.fill(f"#id_m-{index}-due_date", (today + dt.timedelta(days=7 * (index + 1))).isoformat())
    check_page(seller, "propose")
    page.click("[data-testid=propose]")
    page.wait_for_selector("#plan-url")
    plan = MilestonePlan.objects.get()
    plan_path = plan.get_absolute_url()
    assert plan.fee_amount == 30_000
    check_page(seller, "proposed")

    # The buyer opens the plan's page, signs in and accepts once.
    log_in(buyer, "kopi@example.co.id", plan_path)
    check_page(buyer, "plan-to-accept")
    buyer.page.click("[data-testid=accept-plan]")
    buyer.page.wait_for_selector("[data-testid=pay-milestone]")
    assert buyer.page.locator("[data-testid=pay-milestone]").count() == 3
    check_page(buyer, "accepted")

    # Everything up front: one bill for the whole plan, paid once at the sandbox.
    assert "Rp\xa06.030.000" in buyer.page.inner_text("[data-testid=pay-plan-card]")
    buyer.page.click("[data-testid=pay-plan]")
    buyer.page.check("input[name=channel][value='702']")
    buyer.page.click("[data-testid=method-form] button[type=submit]")
    buyer.page.wait_for_selector("[data-testid=instructions]")
    assert buyer.page.locator("[data-testid=paid-together] li").count() == 3
    assert "6.030.000" in buyer.page.inner_text("[data-testid=instructions]")
    check_page(buyer, "pay-whole-plan")
    buyer.page.goto(buyer.page.get_attribute("[data-testid=sandbox-link]", "href"))
    buyer.page.click("input[name=action][value=pay] + button")
    assert statuses(plan) == [Status.VERIFIED] * 3
    buyer.page.goto(plan_path)
    assert buyer.page.locator("[data-testid=pay-milestone]").count() == 0  # nothing left to pay

    # Cek Transaksi, for anyone: milestone 2 of 3, each milestone's status, the plan's link.
    reference_2 = EscrowTransaction.objects.get(milestone__plan=plan, milestone__position=2).reference
    buyer.page.goto(f"/cek-transaksi/?reference={reference_2}")
    assert "Termin 2 dari 3" in buyer.page.inner_text("[data-testid=milestone-of]")
    assert buyer.page.locator("[data-testid=plan-milestones] li").count() == 3
    assert buyer.page.get_attribute("[data-testid=plan-link]", "href") == plan_path
    check_page(buyer, "check-milestone")

    # The seller delivers each milestone with a note.
    references = [EscrowTransaction.objects.get(milestone__plan=plan, milestone__position=n).reference for n in (1, 2, 3)]
    for reference in references:
        seller.page.goto(f"/transaksi/{reference}/")
        seller.page.fill("#ship-form textarea[name=delivery_note]", "File final dikirim lewat Google Drive.")
        seller.page.click("#ship-form button[type=submit]")
        seller.page.wait_for_selector("[data-testid=inspection-ends]")
    assert statuses(plan) == [Status.SHIPPED] * 3

    # The buyer confirms milestones 1 and 3, and disputes milestone 2.
    for reference in (references[0], references[2]):
        buyer.page.goto(f"/transaksi/{reference}/")
        buyer.page.check("[data-testid=confirm-understood]")
        buyer.page.click(f"form[action$='/{reference}/confirm/'] button[type=submit]")
        buyer.page.wait_for_selector("[data-testid=documents]")
    buyer.page.goto(f"/transaksi/{references[1]}/")
    form = "[data-testid=dispute-open-form]"
    buyer.page.click("[data-testid=dispute-toggle] summary")
    buyer.page.select_option(f"{form} select[name=reason]", "not_as_described")
    buyer.page.fill(f"{form} textarea[name=description]", "Warna identitas visual tidak sesuai brief.")
    buyer.page.click(f"{form} button[type=submit]")
    buyer.page.wait_for_selector("[data-testid=dispute-status]")
    assert statuses(plan) == [Status.DISBURSED, Status.DISPUTED, Status.DISBURSED]

    # The plan's page shows each milestone's own state.
    buyer.page.goto(plan_path)
    for number, expected in ((1, "Dicairkan"), (2, "sengketa"), (3, "Dicairkan")):
        text = buyer.page.inner_text(f"[data-testid=milestone-{number}] [data-testid=milestone-status]")
        assert expected.lower() in text.lower(), (number, text)
    check_page(buyer, "plan-after")
    call_command("ledger_check")
