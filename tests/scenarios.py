"""Drive transactions through the real services to a given state (no shortcuts past the FSM).

Payments go through a real bill: a bank transfer to INTRASA's escrow account, verified from an
imported bank-statement line (the one collection path that needs no provider over HTTP), so every
ledger cross-check (collected = booked, escrow funded on a stated amount) holds as in production.
"""
from django.utils import timezone

from escrow import services as escrow_services
from payments import services as payment_services
from transactions import services
from transactions.models import Category, Status

DEFAULTS = dict(
    title="Kamera Mirrorless Bekas", description="Lensa kit, kondisi 90%, garansi habis.",
    category=Category.PHYSICAL, price=1_250_000, shipping_cost=25_000, fee_payer="buyer",
    inspection_days=3, shipping_days=2,
)


def create(seller, buyer=None, **overrides):
    data = {**DEFAULTS, **overrides}
    if "buyer_email" not in data and "buyer_phone" not in data:
        data["buyer_email"] = buyer.email if buyer is not None else "calon.pembeli@example.co.id"
    return services.transaction_create(seller=seller, **data)


def advance(txn, buyer, to: str):
    """Move ``txn`` along the happy path until it reaches ``to``."""
    path = [Status.CREATED, Status.PAID, Status.VERIFIED, Status.SHIPPED, Status.CONFIRMED]
    txn.refresh_from_db()
    if txn.status == Status.CREATED and not txn.is_accepted:
        txn = services.transaction_accept(escrow_transaction=txn, buyer=buyer)
    steps = {
        Status.PAID: lambda t: mark_paid(t, buyer),
        Status.VERIFIED: lambda t: pay_by_transfer(t, buyer),
        Status.SHIPPED: lambda t: services.transaction_ship(
            escrow_transaction=t, seller=t.seller, courier="jne", tracking_number="JNE0012345678"),
        Status.CONFIRMED: lambda t: escrow_services.escrow_confirm(escrow_transaction=t, buyer=buyer),
    }
    if to == Status.CREATED:
        return txn
    for state in path[path.index(txn.status) + 1: path.index(to) + 1]:
        txn = steps[state](txn)
    return txn


def statement_importer():
    """The staff member who imports the bank statement in scenarios (in no group, so that tests
    counting who is in a role are not affected)."""
    from tests.factories import StaffFactory

    model = StaffFactory._meta.model
    return (model.objects.filter(email="statement@intrasa.co.id").first()
            or StaffFactory(email="statement@intrasa.co.id", full_name="Sinta Rekonsiliasi"))


def transfer_bill(txn, buyer):
    """The open bank-transfer bill of ``txn`` (created when the buyer chooses bank transfer)."""
    bill = txn.bills.filter(status="pending", channel_code=payment_services.BANK_TRANSFER).first()
    return bill or payment_services.payment_start(escrow_transaction=txn, buyer=buyer,
                                                  channel_code=payment_services.BANK_TRANSFER)


def mark_paid(txn, buyer):
    """The buyer chose bank transfer and a payment was reported (not verified yet)."""
    transfer_bill(txn, buyer)
    return services.transaction_mark_paid(escrow_transaction=txn, payment_reference="PAY-1", amount=txn.amount_due)


def pay_by_transfer(txn, buyer, *, amount=None):
    """The transfer arrives on INTRASA's statement: the bill is verified, the money held in escrow."""
    bill = transfer_bill(txn, buyer)
    escrow_services.statement_import(rows=[{
        "booked_on": timezone.localdate(), "description": f"TRF {txn.reference}",
        "amount": amount if amount is not None else bill.amount, "bank_reference": f"PAY-{bill.bill_no}",
    }], staff=statement_importer())
    txn.refresh_from_db()
    return txn


def buyer_paid(txn) -> int:
    """What the buyer transferred for ``txn``: the verified bill's amount, i.e. the amount due less the bank
    transfer's unique code (INTRASA's discount). A refund in full gives back this, not the amount held."""
    from payments.models import Bill

    return Bill.objects.get(escrow_transaction=txn, status=Bill.Status.VERIFIED).paid_amount


def open_dispute(txn, buyer, description="Barang rusak", reason="defective"):
    """The buyer opens a dispute the one way there is (the disputes app): the money freezes."""
    from disputes import services as dispute_services

    return dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason=reason, description=description)


def resolve_dispute(dispute, staff, outcome, reason="Keputusan staf", buyer_amount=None):
    """Staff decide a dispute: release, refund or split (with its refund request and payout)."""
    from disputes import services as dispute_services

    return dispute_services.dispute_resolve(dispute=dispute, staff=staff, outcome=outcome, reason=reason,
                                            buyer_amount=buyer_amount)
