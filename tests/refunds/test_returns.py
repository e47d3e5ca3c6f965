"""Non-defect returns under the seller's stated return policy: restocking fee stored, shipping not
refunded, RMA issued, the seller's inspection, then the refund."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from disputes import services as dispute_services
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from refunds import services
from refunds.models import RefundRequest
from refunds.policy import Document
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from transactions.forms import TransactionCreateForm
from transactions.models import Status


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _shipped(seller, buyer, **policy):
    txn = scenarios.create(seller, buyer, **policy)
    return scenarios.advance(txn, buyer, Status.SHIPPED)


@pytest.mark.django_db
def test_no_return_without_a_defect_unless_the_seller_accepts_returns(seller, buyer):
    txn = _shipped(seller, buyer)  # accepts_returns defaults to False
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="return_no_defect",
                                      description="Berubah pikiran")
    assert refused.value.code == "returns_not_accepted"
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED


@pytest.mark.django_db
def test_seller_states_the_fee_and_no_fee_is_invented():
    base = {"title": "Jaket", "description": "Baru", "category": "physical", "price": "500.000",
            "shipping_cost": "20.000", "fee_payer": "buyer", "inspection_days": 3, "shipping_days": 2,
            "buyer_email": "b@example.co.id"}
    form = TransactionCreateForm({**base, "restocking_fee_percent": 10})
    assert not form.is_valid() and "restocking_fee_percent" in form.errors  # a fee needs returns accepted
    form = TransactionCreateForm({**base, "accepts_returns": "on", "restocking_fee_percent": 60})
    assert not form.is_valid()
    form = TransactionCreateForm({**base, "accepts_returns": "on", "restocking_fee_percent": 10})
    assert form.is_valid() and form.cleaned_data["restocking_fee_basis_points"] == 1_000


@pytest.mark.django_db
def test_a_return_without_a_defect_refunds_the_item_less_the_sellers_fee_after_inspection(
        client, seller, buyer, finance):
    txn = _shipped(seller, buyer, accepts_returns=True, restocking_fee_basis_points=1_000)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="return_no_defect",
                                            description="Ukuran tidak cocok, barang sesuai deskripsi")
    client.force_login(seller)
    page = client.get(reverse("disputes:detail", args=[txn.reference])).content.decode()
    assert 'data-testid="accept-return"' in page
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_accept_return(dispute=dispute, actor=buyer)
    assert refused.value.code == "forbidden"
    client.post(reverse("disputes:accept_return", args=[txn.reference]))
    request = RefundRequest.objects.get()
    fee = txn.price // 10
    assert request.case == "return_non_defect" and request.restocking_fee == fee
    assert request.amount == txn.price - fee  # shipping not refunded
    assert request.goods_return and request.status == RefundRequest.Status.AWAITING_DOCUMENTS
    assert request.documents.get(kind=Document.RMA_NUMBER).value.startswith("RMA-")
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == txn.price - fee
    # The seller gives the return address; the buyer ships the goods back and enters the receipt; the
    # seller inspects (refunds.policy: returns).
    page = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    assert 'data-testid="return-address-form"' in page and request.return_shipment.rma_number in page
    client.post(reverse("refunds:return_address", args=[request.pk]),
                {"address": "Jl. Melati 5, Bandung 40111, 0812-1111-2222"})
    with pytest.raises(services.RefundError) as refused:
        services.refund_document_add(refund_request=request, kind=Document.RETURN_RECEIPT, actor=buyer,
                                     value="", upload=_pdf())
    assert refused.value.code == "use_return_form"
    client.force_login(buyer)
    client.post(reverse("refunds:return_ship", args=[request.pk]), {"courier": "jne", "receipt_number": "jne-778899"})
    request.refresh_from_db()
    assert request.documents.get(kind=Document.RETURN_RECEIPT).value == "JNE JNE-778899"
    assert services.refund_next_step(request).holder == "seller"
    client.force_login(seller)
    page = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    assert 'data-testid="record-inspection"' in page
    client.post(reverse("refunds:record_inspection", args=[request.pk]),
                {"result": "accepted", "note": "Barang kembali utuh, segel baik"})
    request.refresh_from_db()
    inspection = request.documents.get(kind=Document.INSPECTION_RESULT)
    assert inspection.source == "seller" and request.status == RefundRequest.Status.IN_REVIEW
    verified_bank(buyer, number="7009990888")
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    request.refresh_from_db()
    assert request.payout.amount == txn.price - fee


@pytest.mark.django_db
def test_a_stranger_cannot_record_an_inspection(client, seller, buyer, stranger):
    txn = _shipped(seller, buyer, accepts_returns=True)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="return_no_defect",
                                            description="Tidak jadi")
    dispute_services.dispute_accept_return(dispute=dispute, actor=seller)
    request = RefundRequest.objects.get()
    assert request.restocking_fee == 0 and request.amount == txn.price
    client.force_login(stranger)
    assert client.post(reverse("refunds:record_inspection", args=[request.pk]), {"value": "x"}).status_code == 404
    with pytest.raises(services.RefundError):
        services.refund_document_add(refund_request=request, kind=Document.INSPECTION_RESULT, actor=buyer, value="OK")


def _pdf():
    from tests.disputes.conftest import pdf_upload

    return pdf_upload("resi-retur.pdf")


@pytest.mark.django_db
def test_seller_fault_return_shipping_both_ways_is_paid_not_only_recorded(seller, buyer, dispute_officer, officer,
                                                                          finance):
    from ledger.selectors import category_balance

    txn = _shipped(seller, buyer)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="wrong_item",
                                            description="Warna salah, sudah saya kirim balik")
    dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund",
                                     reason="Salah kirim terbukti", return_shipping=30_000)
    request = RefundRequest.objects.get()
    paid = scenarios.buyer_paid(txn)  # a refund in full gives back what the buyer paid, and the return shipping
    assert request.amount == paid + 30_000 and request.uncovered_amount == 30_000
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.BUYER_REFUND_PAYABLE] == paid + 30_000
    assert category_balance(category=AccountCategory.BUYER_PROTECTION_COST) == 30_000
    for kind, value in ((Document.RETURN_RECEIPT, "JNE-RETUR-1"), (Document.INSPECTION_RESULT, "Salah warna")):
        services.refund_document_add(refund_request=request, kind=kind, actor=officer, value=value)
    verified_bank(buyer, number="7009990999")
    services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")
    request.refresh_from_db()
    assert request.payout.amount == paid + 30_000  # the whole entitlement goes out in the transfer
