"""The whole product in a real browser, in Bahasa Indonesia and in English."""
import pytest
from django.core.management import call_command

from disbursements.models import Disbursement
from tests.factories import UserFactory
from transactions.models import EscrowTransaction, Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "Kata-Sandi-Kuat-2026!"


def sign_up(person, full_name, email, phone):
    page = person.page
    page.goto("/akun/daftar/")
    page.fill("#id_full_name", full_name)
    page.fill("#id_email", email)
    page.fill("#id_phone", phone)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    person.shot("signup")
    page.click("form[action$='/akun/daftar/'] button[type=submit]")
    page.wait_for_url("**/transaksi/")
    verify_email(person, email)


def verify_email(person, email):
    """Open the verification link INTRASA emailed (inviting and accepting invitations need a
    verified address)."""
    import re

    from django.core import mail

    body = next(message.body for message in reversed(mail.outbox) if message.to == [email])
    person.page.goto(re.search(r"(/akun/verifikasi/[^/\s]+/)", body).group(1))
    person.page.wait_for_url("**/akun/profil/**")


def open_transaction(person, reference):
    person.page.goto(f"/transaksi/{reference}/")
    return person.page.inner_text("[data-testid=status]")


def status_of(reference):
    return EscrowTransaction.objects.get(reference=reference).status


# Indonesian, the default, in `make test`; the English run of each journey is in `make test-long`.
@pytest.mark.parametrize("language", ["id", pytest.param("en", marks=pytest.mark.long)])
def test_seller_and_buyer_complete_a_transaction(people, faspay, sendme, live_server, language):
    seller, buyer, visitor = people("seller", language), people("buyer", language), people("visitor", language)

    # The seller signs up and adds a payout bank account (checked with SendMe's account inquiry).
    sign_up(seller, "Sari Wulandari", f"sari.{language}@example.co.id", "081234567801")
    sendme("account_register", number="7001234567", holder_name="SARI WULANDARI")
    seller.page.goto("/akun/profil/")
    seller.page.select_option("#id_bank-bank_code", "014")
    seller.page.fill("#id_bank-account_number", "7001234567")
    seller.page.fill("#id_bank-account_holder_name", "Sari Wulandari")
    seller.page.click("form[action*='tujuan-pencairan/bank'] button[type=submit]")
    seller.page.wait_for_selector("[data-testid^=destination-]")
    seller.shot("payout-account")

    # The seller creates the transaction; the fee breakdown is shown live.
    seller.page.goto("/transaksi/baru/")
    seller.page.fill("#id_title", "Kamera <b>Fujifilm</b> X-T30")
    seller.page.fill("#id_description", "Lensa kit 15-45mm, kondisi 95%, lengkap dengan dus.")
    seller.page.select_option("#id_category", "physical")
    seller.page.fill("#id_price", "1.500.000")
    seller.page.fill("#id_shipping_cost", "25.000")
    seller.page.select_option("#id_fee_payer", "buyer")
    seller.page.fill("#id_buyer_email", f"budi.{language}@example.co.id")
    # A locator, not wait_for_function: a string predicate is eval'd in the page, which the CSP forbids.
    seller.page.locator("[data-field=buyer_pays]").filter(has_text="1.540.000").wait_for()
    seller.shot("create")
    seller.page.click("#create-form button:not([name=preview])")
    seller.page.wait_for_selector("[data-testid=reference]")
    reference = seller.page.inner_text("[data-testid=reference]")
    invitation = seller.page.input_value("#invitation-url")
    assert "<b>" not in seller.page.inner_html("h1") or "&lt;b&gt;" in seller.page.inner_html("h1")
    seller.shot("created")

    # The buyer opens the invitation, signs up, accepts and pays by BCA virtual account.
    sign_up(buyer, "Budi Santoso", f"budi.{language}@example.co.id", "081234567802")
    buyer.page.goto(invitation)
    buyer.shot("invitation")
    buyer.page.click("button[name=accept]")
    buyer.page.click("[data-testid=pay-link]")
    buyer.page.check("input[name=channel][value='702']")
    buyer.page.click("[data-testid=method-form] button[type=submit]")
    buyer.page.wait_for_selector("[data-testid=instructions]")
    assert buyer.page.input_value("[data-testid=pay-code]")
    buyer.shot("virtual-account")
    buyer.page.goto(buyer.page.get_attribute("[data-testid=sandbox-link]", "href"))
    buyer.shot("sandbox-payment-page")
    buyer.page.click("input[name=action][value=pay] + button")
    assert status_of(reference) == Status.VERIFIED
    open_transaction(buyer, reference)
    buyer.shot("paid")

    # The seller ships with a courier receipt number.
    open_transaction(seller, reference)
    seller.page.select_option("select[name=courier]", "jne")
    seller.page.fill("input[name=tracking_number]", "JNE0123456789")
    seller.shot("ship")
    seller.page.click(f"form[action$='/{reference}/ship/'] button[type=submit]")
    seller.page.wait_for_selector("[data-testid=inspection-ends]")
    assert status_of(reference) == Status.SHIPPED

    # The buyer confirms; the payout goes out through SendMe.
    open_transaction(buyer, reference)
    buyer.page.check("[data-testid=confirm-understood]")  # confirming releases the money: it asks first
    buyer.page.click(f"form[action$='/{reference}/confirm/'] button[type=submit]")
    buyer.page.wait_for_selector("[data-testid=documents]")
    assert status_of(reference) == Status.DISBURSED
    assert Disbursement.objects.get().status == Disbursement.Status.SUCCEEDED
    buyer.shot("confirmed")
    open_transaction(seller, reference)
    seller.page.wait_for_selector("[data-testid=payouts]")
    seller.shot("paid-out")

    # Both download their PDFs.
    for person, document in ((buyer, "kuitansi"), (seller, "laporan-pencairan")):
        href = person.page.get_attribute(f"[data-testid=document-{document}]", "href")
        response = person.context.request.get(live_server.url + href)
        assert response.status == 200 and response.body().startswith(b"%PDF")

    # Anyone checks the reference on Cek Transaksi and sees no personal data.
    visitor.page.goto("/cek-transaksi/")
    visitor.page.fill("[data-testid=check-form] input[name=reference]", reference.lower().replace("-", " "))
    visitor.page.click("[data-testid=check-form] button[type=submit]")
    visitor.page.wait_for_selector("[data-testid=public-transaction]")
    html = visitor.page.content()
    for private in ("Sari", "Budi", "example.co.id", "7001234567", "0812"):
        assert private not in html
    visitor.shot("cek-transaksi")
    call_command("ledger_check")


CHANNELS = ["800", "801", "802", "402", "706", "707", "711", "715"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_buyer_pays_with_each_method_on_the_sandbox_page(people, faspay, seller, buyer, channel):
    from tests import scenarios

    language = "id" if CHANNELS.index(channel) % 2 == 0 else "en"
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    person = people("buyer", language)
    person.context.add_cookies(login_cookie(buyer, person))
    person.page.goto(f"/pembayaran/{txn.reference}/")
    person.page.check(f"input[name=channel][value='{channel}']")
    person.page.click("[data-testid=method-form] button[type=submit]")
    person.page.wait_for_selector("[data-testid=instructions]")
    if channel in ("711", "715"):
        assert person.page.locator("[data-testid=qr] svg").count() == 1
        # A buyer paying from this phone saves the QR as an image (issue 17).
        with person.page.expect_download() as download:
            person.page.click("[data-testid=qris-download]")
        path = download.value.path()
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        assert download.value.suggested_filename == f"QRIS-{txn.reference}.png"
    else:
        assert person.page.input_value("[data-testid=pay-code]")
        assert person.page.locator("[data-testid=copy-pay-code]").is_visible()
    if channel in ("706", "707"):
        # The convenience-store code comes with a barcode the cashier can scan, drawn locally.
        barcode = person.page.locator("[data-testid=barcode] svg")
        assert barcode.count() == 1 and person.page.input_value("[data-testid=pay-code]") in barcode.get_attribute(
            "aria-label")
    person.shot(f"instructions-{channel}")
    person.page.goto(person.page.get_attribute("[data-testid=sandbox-link]", "href"))
    person.page.click("input[name=action][value=pay] + button")
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED


def test_bank_transfer_is_verified_when_finance_imports_the_statement(people, faspay, seller, buyer, tmp_path):
    from django.contrib.auth.models import Permission

    from tests import scenarios

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    person = people("buyer", "id")
    person.context.add_cookies(login_cookie(buyer, person))
    person.page.goto(f"/pembayaran/{txn.reference}/")
    person.page.check("input[name=channel][value=transfer]")
    person.page.click("[data-testid=method-form] button[type=submit]")
    person.page.wait_for_selector("[data-testid=instructions]")
    amount = int("".join(ch for ch in person.page.inner_text("[data-testid=amount]") if ch.isdigit()))
    # The digits that identify the transfer are highlighted and explained; every number has a copy button.
    assert person.page.inner_text("[data-testid=unique-code]") == str(amount)[-3:]
    assert str(amount)[-3:] in person.page.inner_text("[data-testid=unique-code-why]")
    assert person.page.input_value("#amount-digits") == str(amount)
    for button in ("copy-amount", "copy-bank-account"):
        assert person.page.locator(f"[data-testid={button}]").is_visible()
    person.shot("bank-transfer")

    finance = UserFactory(email="keuangan@intrasa.co.id", is_staff=True)
    finance.user_permissions.add(*Permission.objects.filter(codename__in=["add_bankstatementline",
                                                                         "view_bankstatementline"]))
    staff = people("finance", "id")
    staff.context.add_cookies(login_cookie(finance, staff))
    statement = tmp_path / "mutasi.csv"
    statement.write_text(f"date,description,amount,reference\n2026-11-23,TRSF CR BUDI,{amount},BCA-77\n")
    staff.page.goto("/admin/payments/bankstatementline/import/")
    staff.page.set_input_files("input[type=file]", str(statement))
    staff.page.click("input[type=submit]")
    staff.page.wait_for_url("**/admin/payments/bankstatementline/")
    staff.shot("statement-imported")
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED


def login_cookie(user, person):
    """A session cookie for ``user`` (the sign-up journey itself is tested above); a staff member's
    session has passed the second factor."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.UserBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if user.is_staff:
        from tests.staff_login import mark_session_verified

        mark_session_verified(session, user)  # the admin's second factor, passed (tests/staff_login.py)
    session.save()
    return [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": person.base_url}]


@pytest.mark.parametrize("language", ["id", pytest.param("en", marks=pytest.mark.long)])
def test_dispute_with_a_photo_answered_by_the_seller_and_split_by_staff(people, faspay, sendme, seller, buyer,
                                                                       language, tmp_path):
    from django.contrib.auth.models import Group
    from PIL import Image

    from disputes.models import Dispute
    from tests import scenarios
    from tests.disbursements.conftest import verified_bank

    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    photo = tmp_path / "retak.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo, "JPEG")

    # The buyer opens a dispute with a photo.
    person = people("buyer", language)
    person.context.add_cookies(login_cookie(buyer, person))
    open_transaction(person, txn.reference)
    form = "[data-testid=dispute-open-form]"
    person.page.click("[data-testid=dispute-toggle] summary")  # a secondary action behind its button
    person.page.select_option(f"{form} select[name=reason]", "defective")
    person.page.fill(f"{form} textarea[name=description]", "Kaki meja retak saat diterima.")
    person.page.set_input_files(f"{form} input[type=file]", str(photo))
    person.shot("open-dispute")
    person.page.click(f"{form} button[type=submit]")
    person.page.wait_for_selector("[data-testid=dispute-status]")
    assert status_of(txn.reference) == Status.DISPUTED
    person.shot("dispute")

    # The seller answers in the thread.
    seller_person = people("seller", language)
    seller_person.context.add_cookies(login_cookie(seller, seller_person))
    dispute = Dispute.objects.get()
    seller_person.page.goto(dispute.get_absolute_url())
    assert seller_person.page.locator("[data-testid=evidence-link]").count() == 1
    seller_person.page.fill("textarea[name=body]", "Mohon maaf, kami tawarkan pengembalian sebagian.")
    seller_person.page.click("form[action$='/pesan/'] button[type=submit]")
    seller_person.page.wait_for_selector("[data-testid=messages] li >> nth=1")
    seller_person.shot("seller-answer")

    # A dispute officer splits it in the admin, with a reason.
    officer = UserFactory(email=f"petugas.{language}@intrasa.co.id", is_staff=True, full_name="Dewi Petugas")
    officer.groups.add(Group.objects.get(name="Dispute officer"))
    staff = people("officer", language)
    staff.context.add_cookies(login_cookie(officer, staff))
    staff.page.goto("/admin/disputes/dispute/")
    staff.page.check(f"input[name=_selected_action][value='{dispute.pk}']")
    staff.page.select_option("select[name=action]", "split")
    staff.page.click("button[name=index]")
    staff.page.fill("input[name=buyer_amount]", "500.000")
    staff.page.fill("textarea[name=reason]", "Cacat terbukti dari foto; dibagi sesuai kesepakatan awal.")
    staff.shot("split")
    staff.page.click("input[type=submit][value]")
    staff.page.wait_for_url("**/admin/disputes/dispute/**")
    staff.shot("resolved")
    dispute.refresh_from_db()
    txn.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.outcome == "split" and dispute.resolved_by == officer
    assert txn.status in (Status.CONFIRMED, Status.DISBURSED)
    call_command("ledger_check")

    # The buyer's part ends at the buyer (issue 15): Finance approve it, the buyer adds an account in
    # their own name on the refund page, SendMe pays exactly Rp 500.000, the page and receipt say so.
    from refunds.models import RefundRequest
    from tests.browser.refund_steps import buyer_adds_account_and_is_paid, finance_approves_in_the_admin, finance_member

    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.amount == 500_000
    finance = people("finance", language)
    finance.context.add_cookies(login_cookie(finance_member(), finance))
    finance_approves_in_the_admin(finance, request, "Bagian pembeli sesuai putusan sengketa")
    sendme("account_register", number="7009991005", holder_name="BUDI PEMBELI")
    buyer_adds_account_and_is_paid(person, sendme, txn, request, "7009991005")
