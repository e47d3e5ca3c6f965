"""A seller's rejection of returned goods is decided by INTRASA staff — overruled or upheld, with a reason
(``refunds.policy``: refused returns) — never skipped. Found by a hostile review: Finance could waive the
missing inspection result while the rejection stood, approve, and pay the buyer, with no decision recorded."""
import pytest

from refunds import services
from refunds.models import RefundRequest, ReturnShipment
from refunds.policy import Document
from tests.disputes.conftest import finance  # noqa: F401 - Finance decides and approves
from tests.refunds.test_rejections import _goods_rejected, _non_defect_split

pytestmark = pytest.mark.django_db


def test_the_inspection_result_of_a_rejected_return_cannot_be_waived(seller, buyer, finance):  # noqa: F811
    request = _non_defect_split(seller, buyer)
    shipment = _goods_rejected(request, seller, buyer)
    assert shipment.status == ReturnShipment.Status.REJECTED
    with pytest.raises(services.RefundError) as refused:
        services.refund_document_waive(refund_request=request, kind=Document.INSPECTION_RESULT, actor=finance,
                                       reason="Sudah dicek")
    assert refused.value.code == "rejection_pending"
    request.refresh_from_db()
    assert request.status != RefundRequest.Status.PAYING and request.payout_id is None
    assert not request.documents.filter(kind=Document.INSPECTION_RESULT, waived_reason__gt="").exists()
