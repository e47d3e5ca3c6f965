"""The refund receipt of a return names its RMA number and its key dates (shipped back, arrived,
inspected), in the reader's language; the refund page and the transaction page show the same RMA."""
import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation

from disputes import services as dispute_services
from intrasa.wib import WIB, format_wib
from refunds import services
from refunds.models import RefundRequest
from tests.disputes.conftest import disputed, shipped  # noqa: F401 - fixtures
from tests.documents.test_pdfs import pdf_text

pytestmark = pytest.mark.django_db

SHIPPED_BACK = dt.datetime(2026, 11, 3, 9, 15, tzinfo=WIB)
ARRIVED = dt.datetime(2026, 11, 5, 14, 40, tzinfo=WIB)
INSPECTED = dt.datetime(2026, 11, 6, 11, 5, tzinfo=WIB)


@pytest.fixture
def inspected_return(disputed, dispute_officer, seller, buyer):  # noqa: F811 - the imported fixture
    dispute = disputed(reason="wrong_item", description="Warna salah")
    dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="Salah kirim")
    request = RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)
    with mock.patch("django.utils.timezone.now", return_value=SHIPPED_BACK):
        shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                             receipt_number="JNE4455")
    with mock.patch("django.utils.timezone.now", return_value=ARRIVED):
        services.return_mark_arrived(return_shipment=shipment, seller=seller)
    with mock.patch("django.utils.timezone.now", return_value=INSPECTED):
        services.return_inspect(return_shipment=shipment, seller=seller, accepted=True, note="Kembali utuh")
    request.refresh_from_db()
    return request


@pytest.mark.parametrize("language, labels", [
    ("id", ("Dikirim balik oleh pembeli", "Kembali ke penjual", "Inspeksi dicatat")),
    ("en", ("Shipped back by the buyer", "Back at the seller", "Inspection recorded")),
])
def test_the_refund_receipt_shows_the_rma_number_and_the_return_dates(client, buyer, inspected_return, language,
                                                                     labels):
    buyer.preferred_language = language
    buyer.save()
    client.force_login(buyer)
    txn = inspected_return.escrow_transaction
    rma = inspected_return.return_shipment.rma_number
    text = pdf_text(client.get(reverse("documents:download",
                                       kwargs={"reference": txn.reference, "kind": "kuitansi-pengembalian"})))
    assert rma in text
    assert "JNE4455" in text
    with translation.override(language):
        for label, moment in zip(labels, (SHIPPED_BACK, ARRIVED, INSPECTED), strict=True):
            assert f"{label} {format_wib(moment)}" in text, (label, format_wib(moment))


def test_a_refund_without_a_return_shows_no_return_on_the_receipt(client, buyer, disputed, dispute_officer):  # noqa: F811
    dispute = disputed(reason="not_received", description="Tidak sampai")
    dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="Hilang")
    buyer.preferred_language = "en"
    buyer.save()
    client.force_login(buyer)
    text = pdf_text(client.get(reverse("documents:download", kwargs={"reference": dispute.escrow_transaction.reference,
                                                                     "kind": "kuitansi-pengembalian"})))
    assert "RMA" not in text and "Shipped back by the buyer" not in text


def test_the_refund_page_and_the_sellers_transaction_page_show_the_rma_number(client, buyer, seller,
                                                                              inspected_return):
    txn = inspected_return.escrow_transaction
    rma = inspected_return.return_shipment.rma_number
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    assert f'data-testid="rma-number">{rma}<' in page
    client.force_login(seller)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert f'data-testid="card-rma-number">{rma}<' in page
