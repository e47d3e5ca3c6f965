"""Rejections never leave booked money without an owner (``refunds.policy``: rejections).

* a return whose goods the seller rejected, the rejection upheld by staff: the refund's money goes to
  the seller as on a confirmation (fee as on release), paid through the SendMe sandbox over real HTTP;
* money the ledger already owes the buyer cannot be rejected at all;
* a claim not booked yet is rejected and moves nothing;
* upholding twice, or twice at the same moment, moves the money once.
"""
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from disbursements.models import Disbursement, Payout
from disputes import services as dispute_services
from escrow import services as escrow_services
from escrow.checks import owed_money_breaches
from intrasa.errors import ServiceError
from ledger.models import AccountCategory, JournalEntry, Posting
from ledger.selectors import transaction_balances, transaction_fee_booked
from notifications.models import Notification
from payments.models import Bill
from refunds import services
from refunds.models import RefundRequest, ReturnShipment
from refunds.services import refund_request_for_owed_payment
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from transactions.models import EscrowTransaction, Status, TransactionEvent


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _goods_rejected(request, seller, buyer) -> ReturnShipment:
    """The buyer ships the goods back; the seller rejects them at inspection."""
    shipment = services.return_ship_back(return_shipment=request.return_shipment, buyer=buyer, courier="jne",
                                         receipt_number="JNE777")
    return services.return_inspect(return_shipment=shipment, seller=seller, accepted=False,
                                   note="Yang kembali barang lain, nomor seri berbeda")


def _wrong_item_refunded(disputed, officer, *, return_shipping=0) -> RefundRequest:
    dispute = disputed(reason="wrong_item", description="Warna salah")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Salah kirim terbukti",
                                     return_shipping=return_shipping)
    return RefundRequest.objects.select_related("return_shipment").get(escrow_transaction=dispute.escrow_transaction)


def _non_defect_split(seller, buyer) -> RefundRequest:
    txn = scenarios.advance(scenarios.create(seller, buyer, shipping_cost=30_000, accepts_returns=True,
                                             restocking_fee_basis_points=1_000), buyer, Status.SHIPPED)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="return_no_defect",
                                            description="Ukuran tidak cocok")
    dispute_services.dispute_accept_return(dispute=dispute, actor=seller)
    return RefundRequest.objects.select_related("return_shipment").get(escrow_transaction=txn)


def _seller_credits(txn) -> int:
    return sum(Posting.objects.filter(entry__escrow_transaction=txn, account__category=AccountCategory.SELLER_PAYABLE,
                                      side=Posting.Side.CREDIT).values_list("amount", flat=True))


@pytest.mark.django_db(transaction=True)
def test_an_upheld_rejection_of_a_full_refund_pays_the_seller_through_the_sandbox(
        sendme, client, disputed, dispute_officer, finance, seller, buyer):
    sendme("account_register", number="7001112229", holder_name="SARI PENJUAL")
    verified_bank(seller, number="7001112229")
    request = _wrong_item_refunded(disputed, dispute_officer, return_shipping=25_000)
    txn = request.escrow_transaction
    assert request.uncovered_amount == 25_000  # INTRASA advanced the return shipping to the buyer
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.BUYER_REFUND_PAYABLE] == request.amount
    shipment = _goods_rejected(request, seller, buyer)

    escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance,
                                                   reason="Nomor seri yang kembali berbeda")

    request.refresh_from_db()
    txn.refresh_from_db()
    assert request.status == RefundRequest.Status.REJECTED and "released to the seller" in request.rejected_reason
    balances = transaction_balances(escrow_transaction=txn)
    assert balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0  # nothing left owed to the buyer
    assert balances.get(AccountCategory.SELLER_PAYABLE, 0) == 0  # ... and the seller was paid
    # As on a confirmation: the seller gets what a release gives, INTRASA its whole fee, and the return
    # shipping it advanced is taken back.
    payout = Payout.objects.get(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT)
    assert payout.amount == txn.seller_receives and payout.status == Payout.Status.COMPLETED
    assert transaction_fee_booked(escrow_transaction=txn) == txn.fee_amount
    assert JournalEntry.objects.get(kind="reversal", escrow_transaction=txn).reverses.kind == "return_shipping_advanced"
    part = Disbursement.objects.get(payout=payout)
    assert part.status == Disbursement.Status.SUCCEEDED
    assert [t["partner_reference_no"] for t in sendme.state()["transfers"]] == [part.partner_reference_no]
    assert txn.status == Status.DISBURSED
    event = TransactionEvent.objects.get(escrow_transaction=txn, action="release_refused_refund")
    assert (event.from_status, event.to_status, event.actor) == (Status.REFUNDED, Status.CONFIRMED, finance)
    assert Notification.objects.filter(kind="refund_released_buyer", recipient=buyer).exists()
    assert Notification.objects.filter(kind="refund_released_seller", recipient=seller).exists()
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", args=[txn.reference])).content.decode()
    assert "released to the seller" in page
    assert not owed_money_breaches()


@pytest.mark.django_db(transaction=True)
def test_an_upheld_rejection_after_a_split_pays_the_sellers_second_part(sendme, finance, seller, buyer):
    sendme("account_register", number="7001112230", holder_name="SARI PENJUAL")
    verified_bank(seller, number="7001112230")
    request = _non_defect_split(seller, buyer)
    txn = request.escrow_transaction
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED  # the seller's own part of the split went out at once
    first = Payout.objects.get(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT)
    shipment = _goods_rejected(request, seller, buyer)

    escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance, reason="Barang rusak")

    txn.refresh_from_db()
    second = Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT).exclude(pk=first.pk).get()
    assert second.status == Payout.Status.COMPLETED
    # Both parts together are exactly a release: the seller's share of everything held, INTRASA's whole fee.
    assert first.amount + second.amount == txn.seller_receives == _seller_credits(txn)
    assert transaction_fee_booked(escrow_transaction=txn) == txn.fee_amount
    balances = transaction_balances(escrow_transaction=txn)
    assert balances.get(AccountCategory.BUYER_REFUND_PAYABLE, 0) == 0 and balances.get(AccountCategory.SELLER_PAYABLE, 0) == 0
    assert txn.status == Status.DISBURSED
    assert len(sendme.state()["transfers"]) == 2


@pytest.mark.django_db
def test_booked_money_cannot_be_rejected(disputed, dispute_officer, finance, seller, buyer):
    decided = RefundRequest.objects.get(escrow_transaction=dispute_services.dispute_resolve(
        dispute=disputed(reason="not_received", description="Hilang"), staff=dispute_officer, outcome="refund",
        reason="Terbukti").escrow_transaction)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = Bill.objects.filter(escrow_transaction=txn).first()
    double = refund_request_for_owed_payment(escrow_transaction=txn, bill=bill, amount=50_000, why="double")
    entries = JournalEntry.objects.count()
    for request in (decided, double):
        with pytest.raises(services.RefundError) as refused:
            services.refund_reject(refund_request=request, actor=finance, reason="Tidak layak")
        assert refused.value.code == "money_booked"
        request.refresh_from_db()
        assert request.is_open
    assert JournalEntry.objects.count() == entries
    # Upholding is the escrow flow's: the refunds step alone refuses it.
    returned = _wrong_item_refunded(disputed, dispute_officer)
    shipment = _goods_rejected(returned, seller, buyer)
    with pytest.raises(services.RefundError) as refused:
        services.return_inspection_decide(return_shipment=shipment, actor=finance, accept=False, reason="x")
    assert refused.value.code == "uphold_through_escrow"
    returned.refresh_from_db()
    assert returned.is_open


@pytest.mark.django_db
def test_a_claim_not_booked_is_rejected_and_moves_nothing(finance, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    claim = services.refund_request_submit(escrow_transaction=txn, buyer=buyer, case="double_payment", amount=100_000,
                                           description="Terpotong dua kali")
    assert claim.needs_charge_booked
    before = (JournalEntry.objects.count(), transaction_balances(escrow_transaction=txn))
    services.refund_reject(refund_request=claim, actor=finance, reason="Mutasi tidak menunjukkan potongan kedua")
    claim.refresh_from_db()
    assert claim.status == RefundRequest.Status.REJECTED
    assert (JournalEntry.objects.count(), transaction_balances(escrow_transaction=txn)) == before
    assert not owed_money_breaches()


@pytest.mark.django_db
def test_upholding_twice_moves_the_money_once(disputed, dispute_officer, finance, seller, buyer):
    request = _wrong_item_refunded(disputed, dispute_officer)
    shipment = _goods_rejected(request, seller, buyer)
    for _ in range(2):
        escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance, reason="Barang lain")
    txn = request.escrow_transaction
    assert JournalEntry.objects.filter(idempotency_key=f"refund-refused-release:{request.pk}").count() == 1
    assert Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT).count() == 1
    assert _seller_credits(txn) == txn.seller_receives
    assert TransactionEvent.objects.filter(escrow_transaction=txn, action="release_refused_refund").count() == 1
    assert not owed_money_breaches()


@pytest.mark.django_db
def test_the_staff_page_upholds_through_the_flow_and_refuses_booked_rejections(
        client, disputed, dispute_officer, finance, seller, buyer):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    changelist = reverse("admin:refunds_refundrequest_changelist")
    request = _wrong_item_refunded(disputed, dispute_officer)
    _goods_rejected(request, seller, buyer)
    client.force_login(finance)
    page = client.post(changelist, {"action": "reject", ACTION_CHECKBOX_NAME: [request.pk], "apply": "1",
                                    "reason": "Tidak layak"}, follow=True)
    assert "cannot be rejected" in page.content.decode()
    request.refresh_from_db()
    assert request.is_open
    client.post(changelist, {"action": "decide_inspection", ACTION_CHECKBOX_NAME: [request.pk], "apply": "1",
                             "accept": "reject", "reason": "Nomor seri berbeda"})
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.REJECTED
    txn = EscrowTransaction.objects.get(pk=request.escrow_transaction_id)
    assert txn.status == Status.CONFIRMED and _seller_credits(txn) == txn.seller_receives
    assert Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT).exists()


@pytest.mark.django_db
def test_the_books_flag_a_rejected_request_that_leaves_money_owed(disputed, dispute_officer):
    request = _wrong_item_refunded(disputed, dispute_officer)
    assert not owed_money_breaches()
    # What the old rejection left behind (no service does it any more): a rejected request, money owed.
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.REJECTED)
    [breach] = owed_money_breaches()
    assert breach.rule == "refund-payable-has-request" and request.escrow_transaction.reference in breach.subject
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.AWAITING_DOCUMENTS)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_concurrent_upholds_move_the_money_once(disputed, dispute_officer, finance, seller, buyer):
    request = _wrong_item_refunded(disputed, dispute_officer)
    shipment = _goods_rejected(request, seller, buyer)
    barrier = threading.Barrier(2)
    outcomes = []

    def uphold():
        try:
            barrier.wait()
            escrow_services.escrow_return_rejection_uphold(return_shipment=shipment.pk, actor=finance, reason="Lain")
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=uphold) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["ok", "ok"]  # the second finds the decision taken
    txn = request.escrow_transaction
    assert JournalEntry.objects.filter(idempotency_key=f"refund-refused-release:{request.pk}").count() == 1
    assert Payout.objects.filter(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT).count() == 1
    assert _seller_credits(txn) == txn.seller_receives
