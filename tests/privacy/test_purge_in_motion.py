"""The retention job never removes personal data an obligation still in motion needs
(``privacy.obligations``): a transaction past its period keeps its people's names, addresses,
contacts and documents while anything of it is still moving — returned goods on their way back to
the buyer after an upheld rejection, a refund, a payout or SendMe transfer not final, a dispute,
a payment not verified, a reconciliation difference Finance still work on — and loses them once the
last of them finished and the period passed from then. An erasure request is refused for the same
reason, and says so."""
import datetime as dt
import html
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from disbursements.models import Disbursement, Payout
from disputes import services as dispute_services
from disputes.models import Dispute, DisputeMessage
from escrow import services as escrow_services
from intrasa.wib import now_wib
from payments.models import Bill
from privacy import obligations, purge, selectors, services
from privacy.models import ErasureRecord
from refunds import services as refund_services
from refunds.models import RefundDocument, RefundRequest, ReturnShipment
from tests.disputes.conftest import disputed, finance, shipped  # noqa: F401 - fixtures
from transactions.models import EscrowTransaction, Status, TransactionEvent
from treasury.models import ReconciliationItem

from .conftest import cancelled, refund_document_file
from .test_purge import in_year

SELLER_ADDRESS = "Gudang Sari, Jl. Penjual 9, Bandung 40111, 0813-1111-2222"
BUYER_ADDRESS = "Jl. Pembeli Raya 7, Jakarta 10110, 0812-3333-4444"
# Far enough that a period of 10 years from the end of the year has passed for anything finished now.
TWELVE_YEARS = dt.timedelta(days=366 * 12)
_numbers = itertools.count(1)
ERASE = reverse("privacy:erase")


def long_ago() -> dt.datetime:
    """In the 11th year before this one: past every retention period of the table."""
    return in_year(now_wib().year - 11)


def finished_long_ago(txn) -> None:
    """Everything of ``txn`` that is not the obligation under test closed, resolved or paid out
    long ago, as if its clock ran out while that obligation alone was still moving."""
    old = long_ago()
    EscrowTransaction.objects.filter(pk=txn.pk).update(status=Status.DISBURSED, closed_at=old)
    RefundRequest.objects.filter(escrow_transaction=txn).update(completed_at=old)
    Dispute.objects.filter(escrow_transaction=txn).update(resolved_at=old)
    Payout.objects.filter(escrow_transaction=txn).update(status=Payout.Status.COMPLETED, completed_at=old)
    Disbursement.objects.filter(payout__escrow_transaction=txn).update(status=Disbursement.Status.SUCCEEDED,
                                                                        completed_at=old)


def purged(txn) -> bool:
    return EscrowTransaction.objects.get(pk=txn.pk).title == purge.ANONYMISED


# --- the case found in review: goods travelling back to the buyer after an upheld rejection --------

def upheld_rejection(disputed, officer, finance, seller, buyer) -> ReturnShipment:  # noqa: F811
    """A wrong item decided for the buyer, the goods sent back to the seller's address, rejected at
    inspection, and the rejection upheld by INTRASA: the refund request is closed as rejected, the
    money went to the seller, and the goods are the buyer's and travel back to them."""
    dispute = disputed(reason="wrong_item", description="Warna salah")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Salah kirim terbukti")
    request = RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)
    shipment = refund_services.return_address_give(return_shipment=request.return_shipment, seller=seller,
                                                   address=SELLER_ADDRESS)
    shipment = refund_services.return_ship_back(return_shipment=shipment, buyer=buyer, courier="jne",
                                                receipt_number="JNE777")
    shipment = refund_services.return_inspect(return_shipment=shipment, seller=seller, accepted=False,
                                              note="Nomor seri berbeda")
    escrow_services.escrow_return_rejection_uphold(return_shipment=shipment, actor=finance,
                                                   reason="Nomor seri yang kembali berbeda")
    refund_document_file(request, uploader=buyer, name="resi-retur.pdf", kind="return_receipt")
    return ReturnShipment.objects.select_related("refund_request__escrow_transaction").get(pk=shipment.pk)


def assert_everything_the_return_needs_is_there(txn, shipment, document_name):
    txn = EscrowTransaction.objects.get(pk=txn.pk)
    assert txn.title != purge.ANONYMISED and txn.buyer_email == "budi@example.co.id"
    assert txn.seller.full_name and txn.buyer.full_name and txn.buyer.email == "budi@example.co.id"
    shipment = ReturnShipment.objects.get(pk=shipment.pk)
    assert shipment.address == SELLER_ADDRESS and shipment.receipt_number == "JNE777"
    assert shipment.inspection_note == "Nomor seri berbeda"
    request = RefundRequest.objects.get(pk=shipment.refund_request_id)
    assert request.rejected_reason and request.description
    document = RefundDocument.objects.get(request=request, original_name="resi-retur.pdf")
    assert document.file.name == document_name and document.file.storage.exists(document_name)
    dispute = Dispute.objects.get(escrow_transaction=txn)
    assert dispute.description == "Warna salah" and dispute.resolution_reason
    assert purge.ANONYMISED not in DisputeMessage.objects.filter(dispute=dispute).values_list("body", flat=True)
    assert TransactionEvent.objects.filter(escrow_transaction=txn, action="return_resend_ordered").exclude(data={})
    return shipment


@pytest.mark.django_db
def test_goods_on_their_way_back_to_the_buyer_keep_the_parties_data_until_the_period_after_they_arrive(
        disputed, dispute_officer, finance, seller, buyer):  # noqa: F811
    shipment = upheld_rejection(disputed, dispute_officer, finance, seller, buyer)
    txn = shipment.refund_request.escrow_transaction
    document = RefundDocument.objects.get(original_name="resi-retur.pdf")
    document_name = document.file.name
    finished_long_ago(txn)
    assert shipment.status == ReturnShipment.Status.RESEND_ADDRESS

    # Waiting for the buyer's address: everything the return needs stays.
    purge.retention_apply()
    shipment = assert_everything_the_return_needs_is_there(txn, shipment, document_name)

    # Waiting for the seller to send the goods to that address.
    shipment = refund_services.return_resend_address_give(return_shipment=shipment, buyer=buyer, address=BUYER_ADDRESS)
    purge.retention_apply()
    shipment = assert_everything_the_return_needs_is_there(txn, shipment, document_name)
    assert shipment.buyer_address == BUYER_ADDRESS

    # The goods on their way to the buyer.
    shipment = refund_services.return_resend(return_shipment=shipment, seller=seller, courier="sicepat",
                                             receipt_number="SC-0009")
    purge.retention_apply()
    shipment = assert_everything_the_return_needs_is_there(txn, shipment, document_name)
    assert (shipment.buyer_address, shipment.resend_receipt_number) == (BUYER_ADDRESS, "SC-0009")

    # Back with the buyer: the period starts now, so nothing goes yet.
    shipment = refund_services.return_resend_mark_received(return_shipment=shipment, buyer=buyer)
    assert shipment.status == ReturnShipment.Status.BACK_WITH_BUYER
    purge.retention_apply()
    shipment = assert_everything_the_return_needs_is_there(txn, shipment, document_name)

    # Once the period has passed from the goods' arrival, the return goes with the rest.
    run = purge.retention_apply(now=timezone.now() + TWELVE_YEARS)
    assert run.removed["transactions_anonymised"] == 1 and purged(txn)
    txn.refresh_from_db()
    assert (txn.buyer_email, txn.buyer_phone, txn.tracking_number) == ("", "", "")
    shipment.refresh_from_db()
    assert (shipment.address, shipment.receipt_number, shipment.inspection_note, shipment.decision_reason,
            shipment.buyer_address, shipment.resend_receipt_number) == ("", "", "", "", "", "")
    assert shipment.rma_number  # a reference, kept with the transaction records
    document.refresh_from_db()
    assert not document.file and not document.file.storage.exists(document_name)
    assert document.original_name == purge.ANONYMISED  # the file's name was the buyer's words too
    assert RefundRequest.objects.get(pk=shipment.refund_request_id).rejected_reason == ""
    assert set(DisputeMessage.objects.filter(dispute__escrow_transaction=txn).values_list("body", flat=True)) == {
        purge.ANONYMISED}


# --- the class: every obligation that can still be in motion when the clock says "old enough" ------

def _refund_request(txn, buyer, status=RefundRequest.Status.REJECTED, **fields):
    return RefundRequest.objects.create(escrow_transaction=txn, buyer=buyer, case="wrong_item",
                                        source_key=f"test-{next(_numbers)}", amount=50_000, payment_family="va",
                                        status=status, description="Kronologi: warna salah", **fields)


# Where a return ends: the goods accepted at the seller, or back with the buyer after an upheld rejection.
RETURN_ENDS = (ReturnShipment.Status.ACCEPTED, ReturnShipment.Status.BACK_WITH_BUYER)
RETURN_STEPS = [status for status in ReturnShipment.Status.values if status not in RETURN_ENDS]


def return_shipment(status):
    """A return in ``status``, as the product has it: on the way to the seller its request is open
    (and ends refunded once the goods are accepted); on the way back to the buyer after an upheld
    rejection its request closed, rejected, long ago, and only the goods' trip is still moving."""
    def make(txn, buyer):
        going_back = status in ReturnShipment.RESEND_OPEN_STATUSES
        request = (_refund_request(txn, buyer, completed_at=long_ago()) if going_back
                   else _refund_request(txn, buyer, status=RefundRequest.Status.AWAITING_DOCUMENTS, goods_return=True))
        shipment = ReturnShipment.objects.create(
            refund_request=request, rma_number=f"RMA-{next(_numbers)}", status=status, address_due_at=long_ago(),
            address=SELLER_ADDRESS, buyer_address=BUYER_ADDRESS, receipt_number="JNE777")

        def finish(at):
            if going_back:
                ReturnShipment.objects.filter(pk=shipment.pk).update(status=ReturnShipment.Status.BACK_WITH_BUYER,
                                                                     back_with_buyer_at=at)
            else:
                ReturnShipment.objects.filter(pk=shipment.pk).update(status=ReturnShipment.Status.ACCEPTED,
                                                                     inspected_at=at)
                RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.COMPLETED,
                                                                   completed_at=at)
        return finish
    make.__name__, make.obligation = f"return_{status}", "return_shipment"
    return make


def refund_request(status):
    def make(txn, buyer):
        request = _refund_request(txn, buyer, status=status)

        def finish(at):
            RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.COMPLETED, completed_at=at)
        return finish
    make.__name__, make.obligation = f"refund_{status}", "refund_request"
    return make


def payout(status):
    def make(txn, buyer):
        made = Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                     amount=50_000, status=status)

        def finish(at):
            Payout.objects.filter(pk=made.pk).update(status=Payout.Status.COMPLETED, completed_at=at)
        return finish
    make.__name__, make.obligation = f"payout_{status}", "payout"
    return make


def _transfer(txn, buyer, status):
    made = Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                 amount=50_000, status=Payout.Status.COMPLETED, completed_at=long_ago())
    return Disbursement.objects.create(payout=made, sequence=1, kind="bank", amount=50_000, bank_code="014",
                                       account_number="7001234567", account_name="Budi Pembeli",
                                       partner_reference_no=f"P-{next(_numbers)}", description="x", status=status)


def transfer(status):
    def make(txn, buyer):
        part = _transfer(txn, buyer, status)

        def finish(at):
            Disbursement.objects.filter(pk=part.pk).update(status=Disbursement.Status.SUCCEEDED, completed_at=at)
        return finish
    make.__name__, make.obligation = f"transfer_{status}", "transfer"
    return make


def dispute(status):
    def make(txn, buyer):
        made = Dispute.objects.create(escrow_transaction=txn, reason="defective", description="Rusak",
                                      opened_by=buyer, status=status)

        def finish(at):
            # The resolution moves the money on: the transaction closes with it.
            Dispute.objects.filter(pk=made.pk).update(status=Dispute.Status.RESOLVED, resolved_at=at)
            EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=at)
        return finish
    make.__name__, make.obligation = f"dispute_{status}", "dispute"
    return make


def _bill(txn, status=Bill.Status.VERIFIED):
    return Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702",
                               bill_no=f"INTTEST{next(_numbers):06d}", amount=50_000, status=status,
                               expires_at=long_ago())


def payment_unverified(txn, buyer):
    bill = _bill(txn, Bill.Status.PAID)

    def finish(at):
        # Verified after the transaction closed: the money is owed back, and refunded at ``at``.
        Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.VERIFIED, verified_at=at, flag=Bill.Flag.LATE)
        _refund_request(txn, buyer, status=RefundRequest.Status.COMPLETED, bill=bill, completed_at=at)
    return finish


payment_unverified.obligation = "payment_unverified"  # type: ignore[attr-defined]


def reconciliation(target_of):
    def make(txn, buyer):
        target = target_of(txn, buyer)
        item = ReconciliationItem.objects.create(
            day=long_ago().date(), source=ReconciliationItem.Source.SENDME_STATUS, code="status_differs",
            reference=f"R-{next(_numbers)}", object_type=target._meta.label, object_id=str(target.pk))

        def finish(at):
            ReconciliationItem.objects.filter(pk=item.pk).update(state=ReconciliationItem.State.RESOLVED,
                                                                 resolved_at=at)
        return finish
    make.__name__, make.obligation = f"reconciliation_on_{target_of.__name__}", "reconciliation"
    return make


def the_transaction(txn, buyer):
    return txn


def its_bill(txn, buyer):
    return _bill(txn)


def its_transfer(txn, buyer):
    return _transfer(txn, buyer, Disbursement.Status.SUCCEEDED)


OPEN_TRANSFER_STATES = [status for status in Disbursement.Status.values if Disbursement(status=status).is_open]
IN_MOTION = (
    [return_shipment(status) for status in RETURN_STEPS]
    + [refund_request(status) for status in RefundRequest.OPEN_STATUSES]
    + [payout(status) for status in Payout.Status.values if status != Payout.Status.COMPLETED]
    + [transfer(status) for status in OPEN_TRANSFER_STATES]
    + [dispute(status) for status in Dispute.Status.values if status != Dispute.Status.RESOLVED]
    + [payment_unverified]
    + [reconciliation(target) for target in (the_transaction, its_bill, its_transfer)]
)


def test_every_obligation_has_its_states_in_motion_tested_here():
    """A new obligation in ``privacy.obligations`` needs its cases above (an open transaction is
    ``test_purge``'s ``open_txn``)."""
    assert {make.obligation for make in IN_MOTION} | {"transaction"} == {o.key for o in obligations.OBLIGATIONS}


@pytest.mark.django_db
@pytest.mark.parametrize("make_in_motion", IN_MOTION, ids=lambda make: make.__name__)
def test_nothing_of_a_transaction_goes_while_an_obligation_is_in_motion_and_all_goes_once_its_period_passed(
        seller, buyer, make_in_motion):
    txn = cancelled(seller, buyer)
    finish = make_in_motion(txn, buyer)
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=long_ago())

    purge.retention_apply()
    assert not purged(txn)
    assert EscrowTransaction.objects.get(pk=txn.pk).buyer_email == "budi@example.co.id"

    # Finished today: the period counts from today.
    finish(timezone.now())
    purge.retention_apply()
    assert not purged(txn)

    assert purge.retention_apply(now=timezone.now() + TWELVE_YEARS).removed["transactions_anonymised"] == 1
    assert purged(txn) and EscrowTransaction.objects.get(pk=txn.pk).buyer_email == ""
    assert not ReturnShipment.objects.exclude(address="").exists()
    assert not Disbursement.objects.filter(account_number="7001234567").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("make_in_motion", IN_MOTION, ids=lambda make: make.__name__)
def test_an_obligation_that_finished_long_ago_holds_nothing_back(seller, buyer, make_in_motion):
    txn = cancelled(seller, buyer)
    make_in_motion(txn, buyer)(long_ago())
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=long_ago())
    assert purge.retention_apply().removed["transactions_anonymised"] == 1
    assert purged(txn)


@pytest.mark.django_db
def test_a_return_left_where_it_was_when_its_refund_closed_holds_nothing_back(seller, buyer):
    """Refunded without the goods coming back (staff waived the return documents): nobody has a step
    on the return any more, so it keeps nothing for ever."""
    txn = cancelled(seller, buyer)
    return_shipment(ReturnShipment.Status.AWAITING_ADDRESS)(txn, buyer)
    RefundRequest.objects.filter(escrow_transaction=txn).update(status=RefundRequest.Status.COMPLETED,
                                                                completed_at=long_ago())
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=long_ago())
    assert purge.retention_apply().removed["transactions_anonymised"] == 1
    assert ReturnShipment.objects.get(refund_request__escrow_transaction=txn).address == ""


@pytest.mark.django_db
def test_documents_and_dispute_conversations_wait_for_the_return_too(seller, buyer, dispute_officer):
    """The 5-year records around a transaction (refund documents, dispute conversations) follow the same
    rule: the return's goods still travelling back keep them."""
    txn = cancelled(seller, buyer)
    finish = return_shipment(ReturnShipment.Status.RESENT)(txn, buyer)
    request = RefundRequest.objects.get(escrow_transaction=txn)
    document = refund_document_file(request, uploader=buyer, name="resi.pdf", kind="return_receipt")
    made = Dispute.objects.create(escrow_transaction=txn, reason="wrong_item", description="Warna salah",
                                  opened_by=buyer, status=Dispute.Status.RESOLVED, resolved_at=long_ago())
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=long_ago())

    purge.retention_apply()
    document.refresh_from_db()
    assert document.file and RefundRequest.objects.get(pk=request.pk).description
    assert Dispute.objects.get(pk=made.pk).description == "Warna salah"

    finish(timezone.now() - dt.timedelta(days=366 * 5 + 2))  # back with the buyer more than 5 years ago
    removed = purge.retention_apply().removed
    document.refresh_from_db()
    assert not document.file and removed["refund_document_files"] == 1
    assert Dispute.objects.get(pk=made.pk).description == purge.ANONYMISED
    assert not purged(txn)  # the transaction records' 10 years have not passed since the goods arrived


# --- an erasure request: refused while the goods travel, with the reason --------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("status", RETURN_STEPS)
@pytest.mark.parametrize("who", ["buyer", "seller"])
def test_erasure_is_refused_while_returned_goods_are_still_moving(client, seller, buyer, password, status, who):
    txn = cancelled(seller, buyer)
    finish = return_shipment(status)(txn, buyer)
    person = buyer if who == "buyer" else seller
    label = ReturnShipment.Status(status).label
    reason = f"The return of the goods of {txn.reference} is not finished yet ({label})."

    client.force_login(person)
    page = html.unescape(client.get(ERASE).content.decode())
    assert reason in page and 'data-testid="erase-confirm"' not in page
    with pytest.raises(services.PrivacyError) as refused:
        services.account_erase(user=person)
    assert refused.value.code == "blocked" and reason in refused.value.message
    with translation.override("id"):
        said = " ".join(selectors.erasure_blockers(user=person))
    assert f"Pengembalian barang transaksi {txn.reference} belum selesai" in said
    person.refresh_from_db()
    assert person.is_active and not ErasureRecord.objects.exists()
    assert ReturnShipment.objects.get(refund_request__escrow_transaction=txn).buyer_address == BUYER_ADDRESS

    finish(timezone.now())
    assert selectors.erasure_blockers(user=person) == []
    services.account_erase(user=person)
    assert ErasureRecord.objects.filter(user=person).exists()


@pytest.mark.django_db
def test_erasure_waits_for_a_late_payment_to_be_verified(seller, buyer):
    """Money that arrived after the transaction closed is the buyer's, owed back once verified: the
    buyer's account and its payout accounts must still be there to send it."""
    txn = cancelled(seller, buyer)
    finish = payment_unverified(txn, buyer)
    reason = f"A payment for {txn.reference} is still being verified."
    assert reason in selectors.erasure_blockers(user=buyer)
    with translation.override("id"):
        assert f"Pembayaran untuk {txn.reference} masih diverifikasi." in selectors.erasure_blockers(user=buyer)
    assert selectors.erasure_blockers(user=seller) == []  # the money goes back to the buyer, not through the seller
    with pytest.raises(services.PrivacyError):
        services.account_erase(user=buyer)

    finish(timezone.now())
    assert selectors.erasure_blockers(user=buyer) == []
