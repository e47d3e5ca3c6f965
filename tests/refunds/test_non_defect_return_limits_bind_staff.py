"""A return without a defect refunds the item value only, less the seller's restocking fee (refund policy §2:
"Retur non-defect: refund hanya nilai barang (ongkir tidak dikembalikan) dan dapat dikenakan restocking fee").
Found by a hostile review: the seller's acceptance kept that rule, but a staff decision did not — a refund in
full returned shipping and fee with no restocking fee, and a split as a non-defect return could give the buyer
all but Rp 1."""
import pytest

from disputes import services as dispute_services
from refunds import policy
from refunds.models import RefundRequest
from tests import scenarios
from tests.disputes.conftest import officer  # noqa: F401 - the staff member who decides
from transactions.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def non_defect_dispute(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer, accepts_returns=True, restocking_fee_basis_points=1000),
                            buyer, Status.SHIPPED)
    return scenarios.open_dispute(txn, buyer, reason="return_no_defect", description="Tidak jadi, ukuran kurang pas")


def most_for_the_buyer(txn) -> int:
    return txn.price - policy.restocking_fee(txn.price, txn.restocking_fee_basis_points)


def test_staff_cannot_refund_a_non_defect_return_in_full(non_defect_dispute, officer):  # noqa: F811
    with pytest.raises(dispute_services.DisputeError) as refused:
        scenarios.resolve_dispute(non_defect_dispute, officer, "refund")
    assert refused.value.code == "non_defect_limit"
    assert not RefundRequest.objects.exists()


@pytest.mark.parametrize("refund_case", [policy.RefundCase.SETTLEMENT, policy.RefundCase.RETURN_NON_DEFECT])
def test_a_staff_split_of_a_non_defect_return_gives_at_most_the_item_less_the_restocking_fee(
        non_defect_dispute, officer, refund_case):  # noqa: F811
    most = most_for_the_buyer(non_defect_dispute.escrow_transaction)
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_resolve(dispute=non_defect_dispute, staff=officer, outcome="split", reason="Retur",
                                         buyer_amount=most + 1, refund_case=refund_case)
    assert refused.value.code == "non_defect_limit"
    dispute_services.dispute_resolve(dispute=non_defect_dispute, staff=officer, outcome="split", reason="Retur",
                                     buyer_amount=most, refund_case=refund_case)
    assert RefundRequest.objects.get().amount == most


def test_a_split_named_a_non_defect_return_keeps_the_rule_whatever_the_dispute(seller, buyer, officer):  # noqa: F811
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer)
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="split", reason="Retur",
                                         buyer_amount=txn.price + 1,
                                         refund_case=policy.RefundCase.RETURN_NON_DEFECT)
    assert refused.value.code == "non_defect_limit"
