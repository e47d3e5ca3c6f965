"""Demo users and transactions for ``make run`` (idempotent: does nothing when they exist).

Every transaction is moved through the real services, so the demo books pass ``ledger_check``.
"""
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import PayoutDestination, User
from disputes import services as dispute_services
from escrow import services as escrow_services
from payments import services as payment_services
from refunds.policy import DisputeReason
from transactions import services
from transactions.models import Category, Status

DEMO_PASSWORD = "intrasa-demo-2026"
SELLER = ("penjual@demo.intrasa.id", "Sari Wulandari", "+6281234500001")
BUYER = ("pembeli@demo.intrasa.id", "Budi Santoso", "+6281234500002")
STAFF = ("staf@demo.intrasa.id", "Dewi Lestari", "+6281234500003")

DEMO_TRANSACTIONS = [
    # title, category, price, shipping, fee payer, target state
    ("iPhone 13 128GB bekas, mulus", Category.PHYSICAL, 7_250_000, 35_000, "buyer", Status.CREATED),
    ("Sepatu lari ukuran 42", Category.PHYSICAL, 850_000, 20_000, "split", "accepted"),
    ("Jasa desain logo UMKM", Category.SERVICE, 1_500_000, 0, "seller", Status.VERIFIED),
    ("Kamera Fujifilm X-T30", Category.PHYSICAL, 12_500_000, 50_000, "buyer", Status.SHIPPED),
    ("Lisensi software akuntansi 1 tahun", Category.DIGITAL, 2_400_000, 0, "split", Status.CONFIRMED),
    ("Meja kerja kayu jati", Category.PHYSICAL, 3_100_000, 150_000, "buyer", Status.DISPUTED),
]


class Command(BaseCommand):
    help = "Create demo users and demo transactions (skipped when the demo seller exists)."

    def _user(self, email, name, phone, **extra):
        # Demo people have verified their addresses (inviting and accepting need it).
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": name, "phone": phone, "email_verified_at": timezone.now(),
                                   **extra})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    @transaction.atomic
    def handle(self, *args, **options):
        if User.objects.filter(email=SELLER[0]).exists():
            self.stdout.write("demo data already present")
            return
        seller = self._user(*SELLER)
        buyer = self._user(*BUYER)
        staff = self._user(*STAFF, is_staff=True, is_superuser=True)
        staff.user_permissions.add(Permission.objects.get(codename="resolve_dispute"))
        # The admin needs a second factor: the demo staff gets an authenticator whose current code
        # `manage.py demo_totp` prints (demo data only; real staff set up their own app).
        TOTPDevice.objects.create(user=staff, name="INTRASA demo", confirmed=True)
        # Demo data: the seller's account is recorded as already checked with SendMe's account
        # inquiry, and the sandbox is told the same holder name so later inquiries agree.
        PayoutDestination.objects.create(
            owner=seller, kind=PayoutDestination.Kind.BANK, bank_code="014", account_number="1234567890",
            account_holder_name=seller.full_name, is_default=True,
            verification=PayoutDestination.Verification.VERIFIED, verified_name=seller.full_name.upper(),
            verified_at=timezone.now(),
        )
        if settings.FASPAY_SANDBOX_ENABLED:
            from sandbox.models import RegisteredAccount

            RegisteredAccount.objects.update_or_create(number="1234567890",
                                                       defaults={"holder_name": seller.full_name.upper()})
        self.staff = staff
        for title, category, price, shipping, payer, target in DEMO_TRANSACTIONS:
            self._transaction(seller, buyer, title, category, price, shipping, payer, target)
        self.stdout.write(self.style.SUCCESS(
            f"demo users: {SELLER[0]}, {BUYER[0]}, {STAFF[0]} (staff) — password {DEMO_PASSWORD}; "
            f"the staff's admin code: python manage.py demo_totp"))

    def _transaction(self, seller, buyer, title, category, price, shipping, payer, target):
        txn = services.transaction_create(
            seller=seller, title=title, category=category, price=price, shipping_cost=shipping,
            fee_payer=payer, inspection_days=3, shipping_days=2, buyer_email=buyer.email,
            description=f"{title}. Kondisi sesuai foto dan deskripsi yang disepakati lewat chat.",
        )
        if target == Status.CREATED:
            return
        services.transaction_accept(escrow_transaction=txn, buyer=buyer)
        if target == "accepted":
            return
        # Paid by bank transfer and verified from the escrow account's statement, as in production.
        bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer,
                                              channel_code=payment_services.BANK_TRANSFER)
        escrow_services.statement_import(rows=[{
            "booked_on": timezone.localdate(), "description": f"TRF {buyer.full_name.upper()} {txn.reference}",
            "amount": bill.amount, "bank_reference": f"DEMO-{bill.bill_no}"}], staff=self.staff)
        txn.refresh_from_db()
        if target == Status.VERIFIED:
            return
        if category == Category.PHYSICAL:
            services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne",
                                      tracking_number="JNE" + txn.reference[-6:])
        else:
            services.transaction_ship(escrow_transaction=txn, seller=seller,
                                      delivery_note="Dikirim melalui email pembeli.")
        if target == Status.CONFIRMED:
            escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer)
        elif target == Status.DISPUTED:
            dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason=DisputeReason.DEFECTIVE,
                                          description="Ada retak di kaki meja saat diterima.")
