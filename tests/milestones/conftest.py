import datetime as dt

import pytest

from milestones import services
from tests.disbursements.conftest import sendme, verified_bank  # noqa: F401 - SendMe sandbox on the live server
from tests.payments.conftest import faspay  # noqa: F401 - Debit sandbox on the live server

TODAY = dt.date.today()


def propose(seller, buyer, schedule="upfront", amounts=(1_500_000, 2_000_000, 2_500_000), fee_payer="buyer"):
    return services.milestone_plan_propose(
        seller=seller, buyer_email=buyer.email, title="Desain dan pembuatan situs toko", fee_payer=fee_payer,
        description="Situs toko daring: desain, halaman produk, pembayaran.", payment_schedule=schedule,
        inspection_days=2,
        milestones=[{"title": f"Tahap {i}", "amount": amount, "due_date": TODAY + dt.timedelta(days=7 * i)}
                    for i, amount in enumerate(amounts, start=1)])


@pytest.fixture
def plan_of(seller, buyer):
    def make(**kwargs):
        return propose(seller, buyer, **kwargs)
    return make


def deliver(txn):
    """The seller delivers a milestone (a service: a delivery note, no courier)."""
    from transactions import services as transaction_services

    return transaction_services.transaction_ship(escrow_transaction=txn, seller=txn.seller,
                                                 delivery_note="Desain tahap ini dikirim lewat email.")


def confirm_by_transfer(txn, buyer):
    """Pay a milestone by bank transfer (verified from the statement), deliver it, the buyer confirms."""
    from escrow import services as escrow_services
    from tests import scenarios

    txn = scenarios.pay_by_transfer(txn, buyer)
    deliver(txn)
    return escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer)
