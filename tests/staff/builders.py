"""Rows in every queue of the staff pages, built through the real services."""
import datetime as dt

from django.utils import timezone

from disbursements.models import Payout
from tests import scenarios
from tests.factories import UserFactory
from transactions.models import EscrowTransaction, Status


def populate(copies: int) -> None:
    """``copies`` transactions in each interesting state (paid, overdue shipment, inspection ending,
    confirmed with a payout, disputed), each with its own seller and buyer."""
    for _copy in range(copies):
        seller = UserFactory()
        buyer = UserFactory()
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
        late = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
        EscrowTransaction.objects.filter(pk=late.pk).update(shipping_deadline=timezone.now() - dt.timedelta(hours=1))
        ending = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
        EscrowTransaction.objects.filter(pk=ending.pk).update(inspection_ends_at=timezone.now() + dt.timedelta(hours=3))
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
        disputed = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
        scenarios.open_dispute(disputed, buyer, "Tidak sesuai", reason="not_as_described")
    Payout.objects.update(due_at=timezone.now() - dt.timedelta(hours=1))  # the 1×24h promise is broken
