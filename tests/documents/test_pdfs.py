"""PDF documents: each renders, carries the reference, Rupiah amounts and WIB times; access rules."""
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from pypdf import PdfReader

from ledger.models import AccountCategory
from tests import scenarios
from tests.factories import StaffFactory
from transactions import services
from transactions.models import Status

pytestmark = pytest.mark.django_db

WIB_TIME = re.compile(r"\d{1,2}[.:]\d{2} WIB")


def url(txn, kind):
    return reverse("documents:download", kwargs={"reference": txn.reference, "kind": kind})


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    # Collapse the layout's line breaks so that phrases can be searched for.
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def staff(db):
    user = StaffFactory(full_name="Staf Operasional", email="ops@intrasa.co.id")
    user.user_permissions.add(Permission.objects.get(codename="view_escrowtransaction"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def verified(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)


@pytest.fixture
def confirmed(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)


@pytest.fixture
def refunded(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    return services.transaction_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")


def test_buyer_receipt(client, buyer, verified):
    client.force_login(buyer)
    text = pdf_text(client.get(url(verified, "kuitansi")))
    assert verified.reference in text
    assert "Rp 1.290.000" in text  # what the buyer paid
    assert "Rp 1.250.000" in text and "Rp 25.000" in text and "Rp 15.000" in text  # the fee breakdown
    assert WIB_TIME.search(text)
    assert "Bukti pembayaran" in text  # the buyer reads Bahasa Indonesia, the default


def test_receipt_is_an_invoice_before_payment(client, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    client.force_login(buyer)
    buyer.preferred_language = "en"
    buyer.save()
    text = pdf_text(client.get(url(txn, "kuitansi")))
    assert "Invoice" in text and "NOT PAID YET" in text


def test_seller_payout_statement_shows_a_plain_money_statement(client, seller, confirmed):
    client.force_login(seller)
    seller.preferred_language = "en"
    seller.save()
    text = pdf_text(client.get(url(confirmed, "laporan-pencairan")))
    assert confirmed.reference in text
    assert "Payout statement" in text
    assert "Rp 1.275.000" in text  # released to the seller: price + shipping, the buyer paid the fee
    # A plain money statement, not the double-entry lines (those stay for staff).
    assert "Money in this transaction" in text and "Paid by the buyer" in text
    assert "Escrow released to seller" not in text and "Debit" not in text
    assert WIB_TIME.search(text)


def test_refund_receipt(client, buyer, refunded):
    client.force_login(buyer)
    buyer.preferred_language = "en"
    buyer.save()
    text = pdf_text(client.get(url(refunded, "kuitansi-pengembalian")))
    assert refunded.reference in text
    assert "Refund receipt" in text
    assert "Rp 1.290.000" in text  # owed back to the buyer
    assert "Stok habis" in text  # the buyer may read the reason in their own document
    assert WIB_TIME.search(text)


def test_documents_follow_the_readers_language(client, buyer, verified):
    client.force_login(buyer)
    indonesian = pdf_text(client.get(url(verified, "kuitansi")))
    buyer.preferred_language = "en"
    buyer.save()
    english = pdf_text(client.get(url(verified, "kuitansi")))
    assert "Reference number" in english
    assert "Nomor referensi" in indonesian or "Reference number" not in indonesian


def test_the_qr_code_opens_cek_transaksi(client, buyer, verified, settings):
    from documents.selectors import check_url

    assert check_url(verified.reference) == (
        f"{settings.SITE_URL}{reverse('pages:check_transaction')}?reference={verified.reference}")
    client.force_login(buyer)
    from unittest import mock

    import documents.views

    with mock.patch.object(documents.views, "qr_svg", wraps=documents.views.qr_svg) as qr:
        text = pdf_text(client.get(url(verified, "kuitansi")))
    assert qr.call_args.args[0] == check_url(verified.reference)
    assert check_url(verified.reference) in text.replace(" ", "")  # printed under the code too


@pytest.mark.parametrize("who,kind,expected", [
    ("buyer", "kuitansi", 200),
    ("seller", "kuitansi", 404),
    ("stranger", "kuitansi", 404),
    ("seller", "laporan-pencairan", 200),
    ("buyer", "laporan-pencairan", 404),
    ("stranger", "laporan-pencairan", 404),
    ("staff", "kuitansi", 200),
    ("staff", "laporan-pencairan", 200),
    ("dispute_officer", "kuitansi", 404),  # staff, but without the permission to view transactions
])
def test_only_the_owner_or_staff_may_download(client, request, confirmed, who, kind, expected):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(confirmed, kind)).status_code == expected


def test_anonymous_is_sent_to_login(client, verified):
    response = client.get(url(verified, "kuitansi"))
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


def test_documents_that_do_not_exist_yet_are_404(client, seller, buyer, verified):
    client.force_login(seller)
    assert client.get(url(verified, "laporan-pencairan")).status_code == 404  # not released yet
    client.force_login(buyer)
    assert client.get(url(verified, "kuitansi-pengembalian")).status_code == 404  # nothing refunded
    assert client.get(url(verified, "unknown-kind")).status_code == 404


def test_staff_see_refund_receipt_and_links_in_the_admin(client, staff, refunded):
    client.force_login(staff)
    assert client.get(url(refunded, "kuitansi-pengembalian")).status_code == 200
    staff.is_superuser = True  # the admin change page needs more than the view permission of one model
    staff.save()
    page = client.get(reverse("admin:transactions_escrowtransaction_change", args=[refunded.pk]))
    html = page.content.decode()
    assert url(refunded, "kuitansi-pengembalian") in html and url(refunded, "kuitansi") in html
    assert url(refunded, "laporan-pencairan") not in html


def test_detail_page_links_the_parties_documents(client, seller, buyer, confirmed):
    client.force_login(buyer)
    html = client.get(confirmed.get_absolute_url()).content.decode()
    assert 'data-testid="documents"' in html
    assert url(confirmed, "kuitansi") in html and url(confirmed, "laporan-pencairan") not in html
    client.force_login(seller)
    html = client.get(confirmed.get_absolute_url()).content.decode()
    assert url(confirmed, "laporan-pencairan") in html and url(confirmed, "kuitansi") not in html


def test_payout_statement_lists_whatever_payout_lines_exist(client, seller, confirmed):
    """Payouts are posted by the disbursements app; the statement shows them when they exist."""
    from ledger.models import EntryKind
    from ledger.services import credit, debit, entry_post

    entry_post(idempotency_key=f"test-payout:{confirmed.pk}", kind=EntryKind.PAYOUT,
               memo=f"{confirmed.reference} payout", escrow_transaction=confirmed,
               lines=[debit(AccountCategory.SELLER_PAYABLE, 1_000_000),
                      credit(AccountCategory.SENDME_DEPOSIT, 1_000_000)])
    client.force_login(seller)
    seller.preferred_language = "en"
    seller.save()
    text = pdf_text(client.get(url(confirmed, "laporan-pencairan")))
    assert "Paid out to the seller" in text and "Being paid out to the seller" in text  # the money statement
    assert "Rp 1.000.000" in text and "Rp 275.000" in text  # paid out so far, still to be paid out
