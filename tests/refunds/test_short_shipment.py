"""Short shipment (refunds.policy): the buyer states what was missing and its value, with evidence; the
refund is that missing part and nothing more, after the seller agrees or INTRASA staff decide; the buyer
keeps what arrived (no return documents); the seller is paid the rest."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from disbursements.models import Payout
from disputes import services as dispute_services
from disputes.models import Evidence
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from refunds import services
from refunds.models import RefundRequest, ShortShipmentClaim
from refunds.policy import Document
from tests.disbursements.conftest import verified_bank
from tests.disputes.conftest import pdf_upload


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _claim(txn, buyer, value=200_000, **extra):
    return dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="short_shipment",
                                         description="Dus berisi 2 dari 3 barang", missing_items="1 charger",
                                         missing_value=value, **extra)


@pytest.mark.django_db
def test_the_buyer_states_what_was_missing_from_the_transaction_page(client, shipped, buyer):
    txn = shipped()
    client.force_login(buyer)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert 'data-testid="short-shipment-fields"' in page
    response = client.post(reverse("disputes:open", args=[txn.reference]), {
        "reason": "short_shipment", "description": "Charger tidak ada di dalam dus", "missing_items": "Charger 65W",
        "missing_value": "250.000", "evidence": pdf_upload("foto-isi-dus.pdf"), "evidence_purpose": "document"})
    assert response.status_code == 302
    claim = ShortShipmentClaim.objects.get()
    assert claim.missing_value == 250_000 and claim.missing_items == "Charger 65W"
    assert Evidence.objects.filter(dispute=claim.dispute).exists()


@pytest.mark.django_db
def test_a_short_shipment_needs_the_missing_part_and_a_value_below_the_price(shipped, buyer):
    txn = shipped()
    for value, items in ((0, "charger"), (txn.price, "semua"), (None, "charger"), (100_000, "")):
        with pytest.raises(dispute_services.DisputeError) as refused:
            dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="short_shipment",
                                          description="Kurang", missing_items=items, missing_value=value)
        assert refused.value.code in ("invalid_missing_value", "missing_items_required")
    txn.refresh_from_db()
    assert txn.status == "shipped" and not ShortShipmentClaim.objects.exists()  # nothing frozen on a refusal


@pytest.mark.django_db
def test_the_seller_agrees_and_only_the_missing_part_is_refunded(client, shipped, seller, buyer, finance):
    txn = shipped()
    dispute = _claim(txn, buyer)
    client.force_login(seller)
    page = client.get(reverse("disputes:detail", args=[txn.reference])).content.decode()
    assert 'data-testid="accept-short-shipment"' in page and "Rp\xa0200.000" in page
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_accept_short_shipment(dispute=dispute, actor=buyer)
    assert refused.value.code == "forbidden"
    client.post(reverse("disputes:accept_short_shipment", args=[txn.reference]))
    request = RefundRequest.objects.get()
    assert request.case == "short_shipment" and request.amount == 200_000 and not request.goods_return
    assert not request.documents.filter(kind__in=[Document.RMA_NUMBER, Document.RETURN_RECEIPT]).exists()
    assert request.status == RefundRequest.Status.IN_REVIEW  # the buyer keeps what arrived: nothing to send
    held = txn.amount_received
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == 200_000
    seller_payout = Payout.objects.get(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT)
    assert seller_payout.amount == held - 200_000 - txn.fee_amount
    claim = ShortShipmentClaim.objects.get()
    assert claim.agreed_amount == 200_000 and claim.agreed_at is not None
    verified_bank(buyer, number="7009995555")
    services.refund_approve(refund_request=request, actor=finance, reason="Kurang kirim disetujui penjual")
    request.refresh_from_db()
    assert request.payout.amount == 200_000


@pytest.mark.django_db
def test_staff_decide_at_most_the_missing_part(shipped, buyer, dispute_officer):
    txn = shipped()
    dispute = _claim(txn, buyer, value=150_000)
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="split", buyer_amount=150_001,
                                         reason="Kurang kirim")
    assert refused.value.code == "over_missing_value"
    dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="split", buyer_amount=120_000,
                                     reason="Nilai charger menurut daftar harga penjual Rp 120.000")
    request = RefundRequest.objects.get()
    assert request.case == "short_shipment" and request.amount == 120_000 and not request.goods_return
