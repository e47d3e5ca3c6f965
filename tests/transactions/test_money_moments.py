"""What the transaction pages tell people at each money moment (issue 17): the live status
fragment, the stepper and the next step, the collapsed and translated timeline, the plain money
statement instead of ledger lines, and the invitation message."""
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from disputes.models import Dispute
from escrow import services as escrow_services
from ledger.selectors import money_statement, transaction_postings
from payments import services as payment_services
from tests import scenarios
from tests.factories import UserFactory
from transactions import progress, services
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def detail(client, txn):
    return client.get(reverse("transactions:detail", args=[txn.reference]))


def poll(client, txn, seen):
    return client.get(reverse("transactions:status", args=[txn.reference]), {"seen": seen},
                      HTTP_HX_REQUEST="true")


def test_live_status_answers_204_until_the_transaction_changes(client, seller, buyer, django_assert_max_num_queries):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    client.force_login(buyer)
    token = detail(client, txn).context["live_token"]
    with django_assert_max_num_queries(3):  # session, user, the transaction
        unchanged = poll(client, txn, token)
    assert unchanged.status_code == 204 and unchanged["Cache-Control"] == "no-store"

    scenarios.advance(txn, buyer, Status.VERIFIED)
    changed = poll(client, txn, token)
    assert changed.status_code == 200
    assert changed["HX-Trigger"] == '{"intrasa:changed": {}}'
    assert changed.content.decode() == "Diperbarui: Pembayaran terverifikasi."
    # The page it refreshes carries the new token, so the next poll is quiet again.
    assert poll(client, txn, detail(client, txn).context["live_token"]).status_code == 204


def test_live_status_is_only_for_the_parties(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    client.force_login(UserFactory())
    assert poll(client, txn, "x").status_code == 404
    client.logout()
    assert poll(client, txn, "x").status_code == 302


def test_dashboard_polls_one_token_for_all_the_users_transactions(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    client.force_login(seller)
    page = client.get(reverse("transactions:dashboard"))
    token = page.context["live_token"]
    assert f"seen={token}" in page.content.decode()
    status_url = reverse("transactions:dashboard_status")
    assert client.get(status_url, {"seen": token}).status_code == 204
    scenarios.advance(txn, buyer, Status.PAID)
    changed = client.get(status_url, {"seen": token})
    assert changed.status_code == 200 and "intrasa:changed" in changed["HX-Trigger"]


def test_closed_transactions_stop_polling(client, seller, buyer):
    txn = scenarios.create(seller, buyer)
    client.force_login(seller)
    assert 'data-testid="live-poll"' in detail(client, txn).content.decode()
    scenarios.advance(txn, buyer, Status.CREATED)
    services.transaction_cancel(escrow_transaction=EscrowTransaction.objects.get(pk=txn.pk), actor=seller,
                                reason="Batal")
    assert 'data-testid="live-poll"' not in detail(client, txn).content.decode()


def states(txn):
    return [(step.key, step.state) for step in progress.steps(txn)]


def test_stepper_follows_the_main_road_and_shows_the_branch(seller, buyer):
    txn = scenarios.create(seller, buyer)
    assert states(txn)[:3] == [("created", "done"), ("paid", "current"), ("verified", "todo")]
    txn = scenarios.advance(txn, buyer, Status.SHIPPED)
    assert states(txn) == [("created", "done"), ("paid", "done"), ("verified", "done"), ("shipped", "done"),
                           ("confirmed", "current"), ("disbursed", "todo")]
    scenarios.open_dispute(txn, buyer)
    txn.refresh_from_db()
    assert states(txn) == [("created", "done"), ("paid", "done"), ("verified", "done"), ("shipped", "done"),
                           ("disputed", "current")]


def test_next_step_says_who_acts_and_by_when_in_wib(seller, buyer):
    txn = scenarios.create(seller, buyer)
    with translation.override("id"):
        assert progress.status_label(txn) == "Menunggu persetujuan pembeli"
        txn = scenarios.advance(txn, buyer, Status.VERIFIED)
        seller_says = progress.next_step(txn, "seller")
        buyer_says = progress.next_step(txn, "buyer")
    assert seller_says.startswith("Pembayaran sudah ditahan oleh INTRASA. Kirim barang sebelum ")
    assert re.search(r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} \w+ \d{4} \d\d\.\d\d WIB", seller_says)
    assert "Menunggu penjual mengirim sebelum" in buyer_says and "WIB" in buyer_says


def test_transaction_page_shows_stepper_next_step_and_no_ledger_lines(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    client.force_login(buyer)
    html = detail(client, txn).content.decode()
    assert 'data-testid="stepper"' in html and 'data-testid="next-step"' in html
    assert 'data-testid="ledger-lines"' not in html and "Escrow hold" not in html and "Debit" not in html
    txn.refresh_from_db()
    statement = money_statement(list(transaction_postings(escrow_transaction=txn)))
    assert statement["paid"] == scenarios.buyer_paid(txn) and statement["paid"] + statement["discount"] == txn.amount_due
    assert statement["fee"] == txn.fee_amount
    assert statement["held"] == 0
    assert statement["paid_out"] + statement["seller_pending"] == txn.seller_receives
    assert 'data-testid="money-statement"' in html


def test_money_statement_of_a_refund(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    statement = money_statement(list(transaction_postings(escrow_transaction=txn)))
    assert statement["held"] == 0 and statement["fee"] == 0
    assert statement["refund_pending"] + statement["refunded"] == statement["paid"] > 0
    assert statement["discount"] == 0  # the unique code went back to INTRASA with the refund


def test_timeline_collapses_repeated_method_choices_and_translates_them(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer")
    for _ in range(3):  # as when the buyer tries one method after another
        services.transaction_record_event(txn, action="payment_method_chosen", actor=buyer, role="buyer",
                                          data={"channel": "702"})
    client.force_login(buyer)
    html = detail(client, txn).content.decode()
    assert "payment_method_chosen" not in html
    assert html.count("Pembeli memilih metode pembayaran") == 1 and "(4 kali)" in html


def test_invitation_message_says_what_it_is(client, seller, buyer):
    txn = scenarios.create(seller, buyer, title="Kamera Fujifilm X-T30")
    client.force_login(seller)
    html = detail(client, txn).content.decode()
    href = re.search(r'data-testid="whatsapp-share" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    text = parse_qs(urlparse(href).query)["text"][0]
    assert "Kamera Fujifilm X-T30" in text and seller.full_name in text and txn.reference in text
    assert "rekening bersama" in text and "/cek-transaksi/" in text and "/transaksi/undangan/" in text
    assert text.count("http") == 2  # the invitation and Cek Transaksi, nothing else


def test_unverified_buyer_is_told_why_invitations_are_hidden(client, seller):
    stranger = UserFactory(email_verified_at=None)
    client.force_login(stranger)
    assert 'data-testid="invitations-hidden"' in client.get(reverse("transactions:dashboard")).content.decode()
    client.force_login(seller)
    assert 'data-testid="invitations-hidden"' not in client.get(reverse("transactions:dashboard")).content.decode()


def test_confirm_and_refund_forms_spell_out_the_consequence(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(seller)
    html = detail(client, txn).content.decode()
    assert re.search(r'name="understood" id="refund-understood" required', html)
    assert "tidak dapat dibatalkan" in html
    scenarios.advance(txn, buyer, Status.SHIPPED)
    client.force_login(buyer)
    html = detail(client, txn).content.decode()
    assert re.search(r'name="understood" id="confirm-understood" required', html)
    # The dispute form is there, behind a secondary button, with no reason chosen for the buyer.
    assert '<details class="secondary-action" data-testid="dispute-toggle">' in html
    assert re.search(r'<select name="reason"[^>]*>\s*<option value="" selected>', html)


def test_customers_see_no_file_hashes_in_a_dispute(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    image = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(image, "JPEG")
    client.force_login(buyer)
    client.post(reverse("disputes:open", args=[txn.reference]), {
        "reason": "defective", "description": "Retak.", "evidence_purpose": "photo",
        "evidence": SimpleUploadedFile("retak.jpg", image.getvalue(), content_type="image/jpeg")})
    dispute = Dispute.objects.get()
    html = client.get(dispute.get_absolute_url()).content.decode()
    assert "retak.jpg" in html and "SHA-256" not in html


def test_a_refused_shipment_keeps_the_courier_and_shows_the_error_at_the_form(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client.force_login(seller)
    response = client.post(reverse("transactions:act", args=[txn.reference, "ship"]),
                           {"courier": "sicepat", "tracking_number": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<option value="sicepat" selected>' in html
    # The error is at the field that lacks it (the receipt number), not in a box above the form.
    field = re.search(r'<p><label for="id_tracking_number">.*?</p>', html, re.S).group(0)
    assert "Masukkan nomor resi." in field and 'aria-invalid="true"' in field
    assert "Pilih kurirnya." not in html  # the courier was chosen
    assert f'hx-get="{txn.get_absolute_url()}"' in html  # the live refresh fetches the page, not the form's URL
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED


def test_before_acceptance_every_status_waits_for_the_buyer(client, seller, buyer):
    """Nobody can pay before the buyer accepts: the transaction page, the dashboard and the model's label
    (which the PDFs and the admin use) say it awaits the buyer's acceptance, then awaiting payment."""
    txn = scenarios.create(seller, buyer)
    client.force_login(seller)
    with translation.override("id"):
        assert txn.status_label == "Menunggu persetujuan pembeli"
    def shown():
        page = detail(client, txn).content.decode()
        rows = client.get(reverse("transactions:dashboard")).content.decode()
        return (re.search(r'data-testid="status">([^<]*)<', page).group(1),
                re.search(r'data-testid="row-status">([^<]*)<', rows).group(1))

    assert shown() == ("Menunggu persetujuan pembeli", "Menunggu persetujuan pembeli")
    txn = scenarios.advance(txn, buyer, Status.CREATED)
    with translation.override("id"):
        assert txn.status_label == "Menunggu pembayaran"
    assert shown() == ("Menunggu pembayaran", "Menunggu pembayaran")


def test_a_refused_creation_shows_the_error_at_its_field_and_keeps_the_input(client, seller):
    """The service refuses a shipping cost for a service: the error sits at the shipping cost, not above the
    form, and what the seller typed and chose stays (issue 17)."""
    from tests.transactions.test_pages import CREATE_FORM

    client.force_login(seller)
    response = client.post(reverse("transactions:create"), {**CREATE_FORM, "category": "service",
                                                              "shipping_cost": "10.000"})
    html = response.content.decode()
    field = re.search(r'<p><label for="id_shipping_cost">.*?</p>', html, re.S).group(0)
    assert "Ongkos kirim hanya berlaku untuk barang fisik." in field
    assert '<option value="service" selected>' in html and 'value="Sepeda Lipat"' in html
    assert not EscrowTransaction.objects.exists()
