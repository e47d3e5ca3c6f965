"""A payment the provider reversed (Faspay ``payment_status_code`` 4) is already back with the buyer: INTRASA
no longer holds that money, so refunding it too would pay the buyer twice (DESIGN.md §4: no double payout).
Releasing it to the seller was refused already; refunding it is refused the same way, on every path that
leads to a refund transfer: staff deciding a dispute as a refund, the seller cancelling after payment, and
Finance approving a request opened before the reversal was known. The money waits for staff to settle the
reversal with Faspay (treasury reconciliation lists it)."""
import pytest

from disbursements.models import Payout
from disputes.models import Dispute
from escrow import services as escrow_services
from payments.models import Bill
from refunds import services as refund_services
from refunds.models import RefundRequest
from tests import scenarios
from tests.disputes.conftest import finance, officer  # noqa: F401 - staff who decide and approve
from transactions.models import Status
from transactions.services import TransactionActionError

pytestmark = pytest.mark.django_db


def reversed_by_the_provider(txn) -> None:
    """What ``payments.services.bill_apply_status`` records when Faspay answers code 4 for a verified bill."""
    assert Bill.objects.filter(escrow_transaction=txn, status=Bill.Status.VERIFIED).update(
        flag=Bill.Flag.REVERSED) == 1


def test_staff_cannot_decide_a_refund_of_a_reversed_payment(seller, buyer, officer):  # noqa: F811
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")
    reversed_by_the_provider(txn)
    from disputes.services import DisputeError

    with pytest.raises(DisputeError) as refused:
        scenarios.resolve_dispute(dispute, officer, "refund", reason="Barang tidak sampai")
    assert refused.value.code == "payment_reversed"
    txn.refresh_from_db()
    dispute.refresh_from_db()
    assert txn.status == Status.DISPUTED and dispute.status == Dispute.Status.OPEN
    assert not RefundRequest.objects.filter(escrow_transaction=txn).exists()


def test_the_seller_cannot_cancel_and_refund_a_reversed_payment(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    reversed_by_the_provider(txn)
    with pytest.raises(TransactionActionError) as refused:
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    assert refused.value.code == "payment_reversed"
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED
    assert not RefundRequest.objects.filter(escrow_transaction=txn).exists()


def test_finance_cannot_approve_a_refund_whose_payment_was_reversed_after_the_request(
        seller, buyer, officer, finance):  # noqa: F811
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")
    scenarios.resolve_dispute(dispute, officer, "refund", reason="Barang tidak sampai")
    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.status == RefundRequest.Status.IN_REVIEW
    reversed_by_the_provider(txn)
    with pytest.raises(refund_services.RefundError) as refused:
        refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    assert refused.value.code == "payment_reversed"
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.IN_REVIEW and request.payout_id is None
    assert not Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND).exists()


def test_a_refund_approved_before_the_reversal_is_not_sent_after_it(seller, buyer, officer, finance):  # noqa: F811
    """Approved while the buyer had no account (the payout waits for one); the provider then reverses the
    payment; the buyer adds an account: the transfer must not go out (hostile review of the fix above)."""
    from disbursements.models import Disbursement
    from tests.disbursements.conftest import verified_bank

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")
    scenarios.resolve_dispute(dispute, officer, "refund", reason="Barang tidak sampai")
    request = RefundRequest.objects.get(escrow_transaction=txn)
    refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    request.refresh_from_db()
    assert request.payout.status == Payout.Status.AWAITING_DESTINATION
    reversed_by_the_provider(txn)
    refund_services.refund_choose_destination(refund_request=request, buyer=buyer, destination=verified_bank(buyer))
    from disbursements.services import disbursement_dispatch

    part = Disbursement.objects.get(payout=request.payout)
    disbursement_dispatch(disbursement_id=part.pk)  # what the dispatch task and the due scan call
    part.refresh_from_db()
    assert part.status == Disbursement.Status.QUEUED and part.sent_at is None  # never sent
    assert part.not_before is not None
