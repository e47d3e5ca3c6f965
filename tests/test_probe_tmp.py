import re, collections
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from escrow import services as escrow_services
from payments import services as payment_services
from transactions import services
from transactions.models import EscrowTransaction, Status
from tests.disbursements.conftest import sendme, verified_bank  # noqa
from tests.payments.conftest import faspay  # noqa

pytestmark = pytest.mark.django_db(transaction=True)

def shape(sql):
    s = re.sub(r"'[^']*'", "?", sql); s = re.sub(r"\b\d+\b", "N", s); return s[:160]

def test_probe(sendme, faspay, seller, buyer, settings):
    verified_bank(seller)
    TXN = dict(title="Bench", description="d", category="physical", price=250000, shipping_cost=0, fee_payer="buyer", inspection_days=3, shipping_days=2)
    def life(show):
        steps = {}
        with CaptureQueriesContext(connection) as c: txn = services.transaction_create(seller=seller, buyer_email=buyer.email, **TXN)
        steps["create"] = c.captured_queries
        with CaptureQueriesContext(connection) as c: txn = services.transaction_accept(escrow_transaction=txn, buyer=buyer)
        steps["accept"] = c.captured_queries
        with CaptureQueriesContext(connection) as c: bill = payment_services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="702")
        steps["payment_start"] = c.captured_queries
        faspay("bill_pay", trx_id=bill.provider_trx_id)
        assert EscrowTransaction.objects.get(pk=txn.pk).status == Status.VERIFIED
        with CaptureQueriesContext(connection) as c: txn = services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne", tracking_number="JNE0012345678")
        steps["ship"] = c.captured_queries
        with CaptureQueriesContext(connection) as c: escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer)
        steps["confirm"] = c.captured_queries
        assert EscrowTransaction.objects.get(pk=txn.pk).status == Status.DISBURSED
        print("\nTOTAL", sum(len(v) for v in steps.values()), {k: len(v) for k, v in steps.items()})
        if show:
            for k, v in steps.items():
                print("==", k)
                for q in v: print("   ", shape(q["sql"]))
    life(False)
    life(True)
