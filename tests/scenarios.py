"""Drive transactions through the real services to a given state (no shortcuts past the FSM)."""
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
        Status.PAID: lambda t: services.transaction_mark_paid(
            escrow_transaction=t, payment_reference="PAY-1", amount=t.amount_due),
        Status.VERIFIED: lambda t: services.transaction_verify(
            escrow_transaction=t, payment_reference="PAY-1", amount_received=t.amount_due),
        Status.SHIPPED: lambda t: services.transaction_ship(
            escrow_transaction=t, seller=t.seller, courier="jne", tracking_number="JNE0012345678"),
        Status.CONFIRMED: lambda t: services.transaction_confirm(escrow_transaction=t, buyer=buyer),
    }
    if to == Status.CREATED:
        return txn
    for state in path[path.index(txn.status) + 1: path.index(to) + 1]:
        txn = steps[state](txn)
    return txn
