"""A bank transfer's unique code is INTRASA's discount: the buyer transfers the amount due less a code of
1–999 and INTRASA adds the code to the escrow (``payments.services._unique_amount``). A refund follows the
price after the discount (refund policy §2: "nilai refund menyesuaikan harga setelah diskon"): a buyer who
gets everything back gets what they paid, never the discount on top, and the discount goes back to
INTRASA. Found by a hostile review: a refund in full paid the buyer up to Rp 999 more than the bank
collected, so what the provider collected and what the ledger paid out per transaction disagreed, and a
seller and buyer acting together could take up to Rp 999 per cancel-and-refund."""
import pytest

from disputes import services as dispute_services
from escrow import services as escrow_services
from ledger.checks import ledger_breaches
from ledger.models import AccountCategory
from ledger.selectors import category_balance, transaction_balances
from payments.models import Bill
from refunds.models import RefundRequest
from tests import scenarios
from tests.disputes.conftest import officer  # noqa: F401 - the staff member who decides
from transactions.models import Status

pytestmark = pytest.mark.django_db


def paid_with_a_code(seller, buyer, to=Status.VERIFIED):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, to)
    bill = Bill.objects.get(escrow_transaction=txn, status=Bill.Status.VERIFIED)
    assert bill.unique_code > 0 and bill.paid_amount == txn.amount_due - bill.unique_code
    assert txn.amount_received == txn.amount_due  # the escrow holds the amount due: INTRASA added the code
    return txn, bill


def assert_the_buyer_gets_what_they_paid(txn, bill):
    request = RefundRequest.objects.get(escrow_transaction=txn)
    assert request.amount == bill.paid_amount
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.BUYER_REFUND_PAYABLE) == bill.paid_amount
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0) == 0
    assert category_balance(category=AccountCategory.PAYMENT_DISCOUNT) == 0  # the discount came back
    assert not ledger_breaches()


def test_the_seller_cancelling_after_payment_refunds_what_the_buyer_paid(seller, buyer):
    txn, bill = paid_with_a_code(seller, buyer)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    assert_the_buyer_gets_what_they_paid(txn, bill)


def test_a_dispute_refunded_in_full_refunds_what_the_buyer_paid(seller, buyer, officer):  # noqa: F811
    txn, bill = paid_with_a_code(seller, buyer, to=Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, reason="not_received", description="Paket tidak datang")
    scenarios.resolve_dispute(dispute, officer, "refund", reason="Barang tidak sampai")
    assert_the_buyer_gets_what_they_paid(txn, bill)


def test_a_split_gives_the_buyer_less_than_they_paid(seller, buyer, officer):  # noqa: F811
    """A split gives the buyer part of their money; everything they paid is a refund in full."""
    txn, bill = paid_with_a_code(seller, buyer, to=Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer)
    with pytest.raises(dispute_services.DisputeError) as refused:
        scenarios.resolve_dispute(dispute, officer, "split", buyer_amount=bill.paid_amount)
    assert refused.value.code == "invalid_split"
    scenarios.resolve_dispute(dispute, officer, "split", buyer_amount=bill.paid_amount - 1)
    assert RefundRequest.objects.get(escrow_transaction=txn).amount == bill.paid_amount - 1
    assert not ledger_breaches()


def test_a_settlement_offer_of_a_full_refund_says_what_the_buyer_gets(seller, buyer):
    txn, bill = paid_with_a_code(seller, buyer, to=Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer)
    offer = dispute_services.offer_propose(dispute=dispute, proposer=seller, outcome="refund")
    assert offer.buyer_amount == bill.paid_amount


def test_the_seller_is_told_and_the_request_documents_what_the_buyer_paid(client, seller, buyer):
    """The cancel-and-refund confirmation and the request's proof of payment say the amount the buyer paid."""
    from django.urls import reverse

    from intrasa.money import format_rupiah
    from refunds.models import RefundDocument

    txn, bill = paid_with_a_code(seller, buyer)
    client.force_login(seller)
    page = client.get(reverse("transactions:detail", args=[txn.reference])).content.decode()
    confirmation = page[page.index('data-testid="refund-understood"'):][:600]
    assert format_rupiah(bill.paid_amount).replace(" ", "\xa0") in confirmation.replace("&nbsp;", "\xa0")
    assert format_rupiah(txn.amount_due).replace(" ", "\xa0") not in confirmation.replace("&nbsp;", "\xa0")
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    proof = RefundDocument.objects.get(request__escrow_transaction=txn, kind="proof_of_payment")
    assert format_rupiah(bill.paid_amount) in proof.value and format_rupiah(txn.amount_due) not in proof.value
