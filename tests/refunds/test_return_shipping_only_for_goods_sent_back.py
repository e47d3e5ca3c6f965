"""Return shipping (PP) is refunded only for goods the buyer sent back (refund policy §2: "nilai barang +
ongkir (PP jika sudah mengirim balik)"). Found by a hostile review: staff deciding a refund in full of a
transaction whose goods were never shipped (or never arrived) could add return shipping, booked as
buyer-protection cost and paid to the buyer, for goods nobody sent back."""
import datetime as dt

import pytest
from django.utils import timezone

from disputes import services as dispute_services
from ledger.models import AccountCategory
from ledger.selectors import category_balance
from refunds.models import RefundRequest
from tests import scenarios
from tests.disputes.conftest import officer  # noqa: F401 - the staff member who decides
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def never_shipped(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    EscrowTransaction.objects.filter(pk=txn.pk).update(shipping_deadline=timezone.now() - dt.timedelta(hours=1))
    return scenarios.open_dispute(txn, buyer, reason="not_shipped", description="Belum dikirim")


def never_arrived(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    return scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")


@pytest.mark.parametrize("dispute_of", [never_shipped, never_arrived], ids=["not_shipped", "not_received"])
def test_no_return_shipping_without_goods_to_send_back(seller, buyer, officer, dispute_of):  # noqa: F811
    dispute = dispute_of(seller, buyer)
    with pytest.raises(dispute_services.DisputeError) as refused:
        dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Tidak dikirim",
                                         return_shipping=75_000)
    assert refused.value.code == "return_shipping"
    assert not RefundRequest.objects.exists()
    assert category_balance(category=AccountCategory.BUYER_PROTECTION_COST) == 0
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Tidak dikirim")
    assert RefundRequest.objects.get().uncovered_amount == 0


def test_a_defective_item_sent_back_still_gets_its_return_shipping(seller, buyer, officer):  # noqa: F811
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="defective", description="Rusak, sudah saya kirim balik")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Cacat terbukti",
                                     return_shipping=30_000)
    assert RefundRequest.objects.get().uncovered_amount == 30_000
