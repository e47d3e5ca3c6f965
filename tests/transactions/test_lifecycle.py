"""Every legal and illegal transition of the escrow state machine, through the services."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from disputes.services import DisputeError
from escrow import services as escrow_services
from ledger.models import AccountCategory, JournalEntry
from ledger.selectors import transaction_balances
from notifications.models import Notification
from tests import scenarios
from transactions import services
from transactions.models import EscrowTransaction, Status, TransactionEvent
from transactions.services import TransactionActionError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ledger_check_after_each_scenario(db):
    yield
    call_command("ledger_check")


def test_create_snapshots_fee_and_invites_buyer(seller, buyer):
    txn = scenarios.create(seller, buyer)
    assert txn.status == Status.CREATED
    assert txn.fee_amount == 15_000  # value 1.275.000 falls in the Rp 15.000 tier
    assert (txn.buyer_fee, txn.seller_fee) == (15_000, 0)
    assert txn.amount_due == 1_250_000 + 25_000 + 15_000
    invitation = Notification.objects.get(kind="invitation")
    assert invitation.email == buyer.email
    assert txn.reference in invitation.subject
    assert TransactionEvent.objects.filter(escrow_transaction=txn, action="created").count() == 1


def test_happy_path_holds_then_releases_the_money(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    assert transaction_balances(escrow_transaction=txn) == {AccountCategory.ESCROW_HOLD: txn.amount_due}
    assert txn.shipping_deadline > txn.verified_at
    txn = scenarios.advance(txn, buyer, Status.CONFIRMED)
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.ESCROW_HOLD] == 0
    assert balances[AccountCategory.SELLER_PAYABLE] == 1_275_000
    assert list(TransactionEvent.objects.filter(escrow_transaction=txn).exclude(to_status="")
                .values_list("to_status", flat=True)) == [
        Status.CREATED, Status.PAID, Status.VERIFIED, Status.SHIPPED, Status.CONFIRMED]
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {"payment_verified_seller", "shipped", "confirmed_seller", "confirmed_buyer"} <= kinds


def test_fee_paid_by_seller_is_deducted_from_the_payout(seller, buyer):
    txn = scenarios.create(seller, buyer, fee_payer="seller")
    txn = scenarios.advance(txn, buyer, Status.CONFIRMED)
    assert txn.amount_due == 1_275_000
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == 1_260_000


@pytest.mark.parametrize("state,action", [
    (Status.CREATED, "verify"), (Status.CREATED, "ship"), (Status.CREATED, "confirm"),
    (Status.PAID, "ship"), (Status.PAID, "confirm"), (Status.VERIFIED, "confirm"),
    (Status.SHIPPED, "ship"), (Status.CONFIRMED, "cancel"), (Status.CONFIRMED, "open_dispute"),
    (Status.VERIFIED, "cancel"), (Status.SHIPPED, "refund"),
])
def test_illegal_transitions_are_refused_and_change_nothing(seller, buyer, state, action):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, state)
    events_before = TransactionEvent.objects.count()
    entries_before = JournalEntry.objects.count()
    calls = {
        "verify": lambda: services.transaction_verify(escrow_transaction=txn, payment_reference="X",
                                                      amount_received=txn.amount_due),
        "ship": lambda: services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne",
                                                  tracking_number="R1"),
        "confirm": lambda: services.transaction_confirm(escrow_transaction=txn, buyer=buyer),
        "cancel": lambda: services.transaction_cancel(escrow_transaction=txn, actor=seller, reason="x"),
        "open_dispute": lambda: services.transaction_open_dispute(escrow_transaction=txn, buyer=buyer,
                                                                  reason="rusak"),
        "refund": lambda: services.transaction_refund(escrow_transaction=txn, actor=seller, reason="x"),
    }
    with pytest.raises(TransactionActionError) as excinfo:
        calls[action]()
    assert excinfo.value.code in ("illegal_transition", "forbidden")
    txn.refresh_from_db()
    assert txn.status == state
    assert TransactionEvent.objects.count() == events_before
    assert JournalEntry.objects.count() == entries_before


def test_buyer_cannot_act_as_seller_and_seller_cannot_confirm(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_ship(escrow_transaction=txn, seller=buyer, courier="jne", tracking_number="R1")
    assert excinfo.value.code == "forbidden"
    txn = scenarios.advance(txn, buyer, Status.SHIPPED)
    with pytest.raises(TransactionActionError):
        services.transaction_confirm(escrow_transaction=txn, buyer=seller)
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED


def test_stranger_cannot_cancel(seller, buyer, stranger):
    txn = scenarios.create(seller, buyer)
    with pytest.raises(TransactionActionError):
        services.transaction_cancel(escrow_transaction=txn, actor=stranger, reason="iseng")
    txn.refresh_from_db()
    assert txn.status == Status.CREATED


def test_either_party_may_cancel_before_payment(seller, buyer):
    first = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    services.transaction_cancel(escrow_transaction=first, actor=buyer, reason="Berubah pikiran")
    second = scenarios.create(seller, buyer)
    services.transaction_cancel(escrow_transaction=second, actor=seller, reason="Stok habis")
    assert set(EscrowTransaction.objects.values_list("status", flat=True)) == {Status.CANCELLED}


def test_cancel_requires_a_reason(seller, buyer):
    txn = scenarios.create(seller, buyer)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_cancel(escrow_transaction=txn, actor=seller, reason="  ")
    assert excinfo.value.code == "reason_required"


def test_decline_cancels_the_invitation(seller, buyer):
    txn = scenarios.create(seller, buyer)
    services.transaction_decline(escrow_transaction=txn, user=buyer, reason="Harga terlalu mahal")
    txn.refresh_from_db()
    assert txn.status == Status.CANCELLED
    assert txn.events.get(action="cancel").data == {"declined": True}


def test_accept_rules(seller, buyer, stranger):
    txn = scenarios.create(seller, buyer)
    with pytest.raises(TransactionActionError):
        services.transaction_accept(escrow_transaction=txn, buyer=seller)
    services.transaction_accept(escrow_transaction=txn, buyer=buyer)
    services.transaction_accept(escrow_transaction=txn, buyer=buyer)  # idempotent
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_accept(escrow_transaction=txn, buyer=stranger)
    assert excinfo.value.code == "taken"
    assert txn.events.filter(action="accepted").count() == 1


def test_payment_needs_an_accepted_invitation(seller, buyer):
    txn = scenarios.create(seller, buyer)
    with pytest.raises(TransactionActionError):
        services.transaction_mark_paid(escrow_transaction=txn, payment_reference="P", amount=1)


def test_wrong_amount_is_not_verified(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_verify(escrow_transaction=txn, payment_reference="P",
                                    amount_received=txn.amount_due - 1)
    assert excinfo.value.code == "amount_mismatch"
    txn.refresh_from_db()
    assert txn.status == Status.PAID
    assert not JournalEntry.objects.exists()


def test_verification_is_idempotent(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    services.transaction_verify(escrow_transaction=txn, payment_reference="PAY-1",
                                amount_received=txn.amount_due)
    assert JournalEntry.objects.count() == 1
    assert Notification.objects.filter(kind="payment_verified_seller").count() == 1


def test_services_and_digital_goods_are_delivered_with_a_note(seller, buyer):
    txn = scenarios.create(seller, buyer, category="service", shipping_cost=0)
    txn = scenarios.advance(txn, buyer, Status.VERIFIED)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_ship(escrow_transaction=txn, seller=seller)
    assert excinfo.value.code == "delivery_note_required"
    services.transaction_ship(escrow_transaction=txn, seller=seller, delivery_note="Desain logo dikirim via email")
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED and txn.courier == ""


def test_physical_goods_need_courier_and_receipt(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne")
    assert excinfo.value.code == "shipment_required"


def test_dispute_freezes_funds_and_stops_auto_confirm(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(txn, buyer, "Barang rusak")
    EscrowTransaction.objects.filter(pk=txn.pk).update(inspection_ends_at=timezone.now() - dt.timedelta(hours=1))
    assert escrow_services.escrow_auto_confirm(escrow_transaction=txn) is None
    txn.refresh_from_db()
    assert txn.status == Status.DISPUTED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.ESCROW_HOLD] == txn.amount_due


def test_staff_release_resolves_a_dispute_for_the_seller(seller, buyer, dispute_officer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, "Belum sampai", reason="not_received")
    with pytest.raises(DisputeError):
        scenarios.resolve_dispute(dispute, seller, "release", reason="saya")
    scenarios.resolve_dispute(dispute, dispute_officer, "release", reason="Resi menunjukkan barang diterima")
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED
    assert txn.events.get(action="resolve_release").actor == dispute_officer


def test_refund_moves_the_hold_to_buyer_refund_payable(seller, buyer, dispute_officer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = scenarios.open_dispute(txn, buyer, "Salah kirim", reason="wrong_item")
    scenarios.resolve_dispute(dispute, dispute_officer, "refund", reason="Terbukti salah kirim")
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.ESCROW_HOLD] == 0
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == scenarios.buyer_paid(txn)  # the unique code stays INTRASA's


def test_seller_may_cancel_and_refund_after_payment(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED


def test_buyer_cannot_refund_himself(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with pytest.raises(TransactionActionError):
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=buyer, reason="mau uang kembali")


def test_refund_by_agreement_refuses_someone_who_is_neither_party_nor_staff(seller, buyer, stranger):
    # Without a permission check (an accepted agreement) an outsider would otherwise reach the
    # timeline with no role: refused up front, nothing changes.
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_refund(escrow_transaction=txn, actor=stranger, reason="bukan urusannya",
                                    by_agreement=True)
    assert excinfo.value.code == "forbidden"
    txn.refresh_from_db()
    assert txn.status == Status.VERIFIED
    assert not txn.events.filter(action="refund").exists()


def test_mark_disbursed_requires_seller_payable_to_be_paid_out(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_mark_disbursed(escrow_transaction=txn)
    assert excinfo.value.code == "payout_incomplete"


def test_creation_validates_amounts_and_contacts(seller):
    with pytest.raises(TransactionActionError) as excinfo:
        scenarios.create(seller, price=5_000)
    assert excinfo.value.code == "amount_out_of_range"
    with pytest.raises(TransactionActionError) as excinfo:
        services.transaction_create(seller=seller, **{**scenarios.DEFAULTS, "buyer_email": ""})
    assert excinfo.value.code == "buyer_contact_required"
    with pytest.raises(TransactionActionError) as excinfo:
        scenarios.create(seller, buyer_email=seller.email.upper())
    assert excinfo.value.code == "self_dealing"
    assert not EscrowTransaction.objects.exists()


def test_protected_status_cannot_be_assigned(seller, buyer):
    txn = scenarios.create(seller, buyer)
    with pytest.raises(AttributeError):
        txn.status = Status.DISBURSED


def test_seller_cannot_refund_once_a_dispute_is_open(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(txn, buyer, "Rusak")
    with pytest.raises(TransactionActionError) as excinfo:
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Biar cepat")
    assert excinfo.value.code == "forbidden"


def test_a_payment_reversed_by_the_provider_blocks_the_release(seller, buyer):
    from payments.models import Bill

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    Bill.objects.create(escrow_transaction=txn, method="va", channel_code="702", bill_no="INTREVERSED001",
                        amount=txn.amount_due, status=Bill.Status.VERIFIED, flag=Bill.Flag.REVERSED,
                        expires_at=timezone.now())
    with pytest.raises(TransactionActionError) as excinfo:
        escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer)
    assert excinfo.value.code == "payment_reversed"
    _assert_nothing_of_the_confirmation_written(txn)


def _assert_nothing_of_the_confirmation_written(txn):
    """The confirmation's write counts its refusals and is rolled back with the refusal: no state,
    event, notice, ledger entry or payout of it is left."""
    from disbursements.models import Payout

    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED and txn.confirmed_at is None
    assert not JournalEntry.objects.filter(kind="escrow_release").exists()
    assert not TransactionEvent.objects.filter(escrow_transaction=txn, action="confirm").exists()
    assert not Notification.objects.filter(event_key__startswith=f"txn:{txn.reference}:confirmed_").exists()
    assert not Payout.objects.filter(escrow_transaction=txn).exists()


def test_a_release_that_does_not_find_the_escrow_hold_it_expects_is_refused(seller, buyer):
    """The hold is checked by the confirmation's own write (after the lock), not read before it:
    a transaction whose hold is not what it says was received releases nothing."""
    from django.db.models import F

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    EscrowTransaction.objects.filter(pk=txn.pk).update(amount_received=F("amount_received") + 1000)
    with pytest.raises(TransactionActionError) as excinfo:
        escrow_services.escrow_confirm(escrow_transaction=txn.pk, buyer=buyer)
    assert excinfo.value.code == "ledger_mismatch"
    _assert_nothing_of_the_confirmation_written(txn)
    # As received, the same confirmation releases exactly the hold.
    EscrowTransaction.objects.filter(pk=txn.pk).update(amount_received=F("amount_received") - 1000)
    txn = escrow_services.escrow_confirm(escrow_transaction=txn.pk, buyer=buyer)
    assert txn.status == Status.CONFIRMED
    assert transaction_balances(escrow_transaction=txn).get(AccountCategory.ESCROW_HOLD, 0) == 0


def test_accepting_judges_the_buyer_as_committed_not_as_handed_in(seller, buyer):
    """The lock statement reads the buyer's address and verification (no statement of its own):
    what the database says decides, whatever the caller's object still says."""
    from accounts.models import User

    stale = User.objects.get(pk=buyer.pk)
    User.objects.filter(pk=buyer.pk).update(email_verified_at=None)  # unverified since it was read
    txn = scenarios.create(seller, buyer)
    with pytest.raises(TransactionActionError) as refused:
        services.transaction_accept(escrow_transaction=txn, buyer=stale)
    assert refused.value.code == "email_unverified"
    assert stale.email_verified_at is not None  # the caller's object is left as it was

    User.objects.filter(pk=buyer.pk).update(email_verified_at=timezone.now())
    stale.email_verified_at = None  # verified in another tab since this object was read
    assert services.transaction_accept(escrow_transaction=txn, buyer=stale).buyer_id == buyer.pk
