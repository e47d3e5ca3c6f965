"""Data for the benchmark: people, and a few hundred transactions walked through the real services.

Every state is reached the way production reaches it, so ``manage.py ledger_check`` over the seeded
database is green (``tests/test_benchmark_seed.py``): the buyer pays by bank transfer to the escrow
account (a real bill), the payment is verified from an imported bank-statement line, a dispute is
opened through the disputes app, a refund after payment opens its refund request. These are the
paths of ``tests/scenarios.py``.

No HTTP happens here (a bank transfer needs no provider call; sellers have no payout account yet,
so a confirmation plans a payout that waits for one), so it runs before any server is up.
"""
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import PayoutDestination, User
from transactions import services
from transactions.models import Category, EscrowTransaction, Status

PASSWORD = "bench-password-123"
TXN = dict(title="Kamera Mirrorless Bekas", description="Lensa kit, kondisi 90%, garansi habis.",
           category=Category.PHYSICAL, price=1_250_000, shipping_cost=25_000, fee_payer="buyer",
           inspection_days=3, shipping_days=2)

# The mix of states Cek Transaksi and the detail page see, in the order a transaction reaches them.
STATE_MIX = [
    "invited", Status.CREATED, Status.PAID, Status.VERIFIED, Status.SHIPPED, Status.SHIPPED,
    Status.CONFIRMED, Status.DISPUTED, Status.REFUNDED, Status.CANCELLED,
]


@dataclass
class Party:
    seller: User
    buyer: User


def user(email: str, name: str) -> User:
    """A member whose email address is verified (only they may invite a buyer by email)."""
    return User.objects.create_user(email, PASSWORD, full_name=name, email_verified_at=timezone.now())


def parties(count: int, tag: str) -> list[Party]:
    return [Party(user(f"penjual.{tag}{n}@bench.intrasa.test", f"Penjual {tag.upper()} {n}"),
                  user(f"pembeli.{tag}{n}@bench.intrasa.test", f"Pembeli {tag.upper()} {n}"))
            for n in range(count)]


def give_bank_account(seller: User) -> PayoutDestination:
    """A verified bank account that the sandbox pays successfully (any ordinary number does)."""
    return PayoutDestination.objects.create(
        owner=seller, kind=PayoutDestination.Kind.BANK, bank_code="014", account_number="7001234567",
        account_holder_name=seller.full_name, verification=PayoutDestination.Verification.VERIFIED,
        is_default=True)


def statement_importer() -> User:
    """The finance staff member who imports the escrow account's bank statement."""
    return (User.objects.filter(email="rekonsiliasi@bench.intrasa.test").first()
            or User.objects.create_user("rekonsiliasi@bench.intrasa.test", PASSWORD, full_name="Sinta Rekonsiliasi",
                                        is_staff=True, email_verified_at=timezone.now()))


def _transfer_bill(txn: EscrowTransaction, buyer: User):
    """The buyer chooses a bank transfer to the escrow account: a bill with its unique amount."""
    from payments import services as payment_services

    return payment_services.payment_start(escrow_transaction=txn, buyer=buyer,
                                          channel_code=payment_services.BANK_TRANSFER)


def _transfer_arrives(txn: EscrowTransaction, bill) -> EscrowTransaction:
    """The transfer shows on the escrow account's statement: the bill is verified, the money held."""
    from escrow import services as escrow_services

    escrow_services.statement_import(rows=[{
        "booked_on": timezone.localdate(), "description": f"TRF {txn.reference}", "amount": bill.amount,
        "bank_reference": f"SEED-{bill.bill_no}"}], staff=statement_importer())
    return EscrowTransaction.objects.get(pk=txn.pk)


def walk(party: Party, target: str, price: int = TXN["price"]) -> EscrowTransaction:
    """Create a transaction and move it to ``target`` through the services (no HTTP)."""
    from disputes import services as dispute_services
    from escrow import services as escrow_services

    txn = services.transaction_create(seller=party.seller, buyer_email=party.buyer.email, **{**TXN, "price": price})
    if target == "invited":
        return txn
    txn = services.transaction_accept(escrow_transaction=txn, buyer=party.buyer)
    if target == Status.CANCELLED:
        return services.transaction_cancel(escrow_transaction=txn, actor=party.buyer, reason="Tidak jadi beli")
    if target == Status.CREATED:
        return txn
    bill = _transfer_bill(txn, party.buyer)
    if target == Status.PAID:  # the buyer reported the transfer; the statement has not shown it yet
        return services.transaction_mark_paid(escrow_transaction=txn, payment_reference=f"SEED-{bill.bill_no}",
                                              amount=txn.amount_due)
    txn = _transfer_arrives(txn, bill)
    if target == Status.VERIFIED:
        return txn
    if target == Status.REFUNDED:  # the seller cannot deliver: the hold goes back through a refund request
        return escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=party.seller,
                                                        reason="Stok habis")
    txn = services.transaction_ship(escrow_transaction=txn, seller=party.seller, courier="jne",
                                    tracking_number="JNE0012345678")
    if target == Status.SHIPPED:
        return txn
    if target == Status.DISPUTED:
        dispute_services.dispute_open(escrow_transaction=txn, buyer=party.buyer, reason="defective",
                                      description="Barang tidak sesuai deskripsi")
        return EscrowTransaction.objects.get(pk=txn.pk)
    return escrow_services.escrow_confirm(escrow_transaction=txn, buyer=party.buyer)  # release + payout plan


def seed_web(count: int = 300, people: int = 10) -> tuple[list[Party], list[EscrowTransaction]]:
    with transaction.atomic():
        pairs = parties(people, "w")
    txns = []
    for n in range(count):
        txns.append(walk(pairs[n % people], STATE_MIX[n % len(STATE_MIX)], price=100_000 + 1_000 * n))
    settle()
    return pairs, txns


def settle() -> None:
    """``VACUUM (ANALYZE)`` after seeding, as a running database is kept by autovacuum: visibility maps
    current (an index-only count reads no table rows: the page's unread count read 119 rows for 81
    notifications before) and planner statistics fresh. Done here, not left to autovacuum, which would
    otherwise start at some moment of the measured runs and move their numbers."""
    from django.db import connection

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
