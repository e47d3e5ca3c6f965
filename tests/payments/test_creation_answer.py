"""Post Data's answer for a bill just created is recorded by one conditional UPDATE (the bill as
``_start`` wrote it); whatever changed the bill meanwhile wins, as it did under the lock."""
import pytest

from faspay import results
from payments import services
from payments.models import Bill
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db


class _Debit:
    """Faspay Debit answering Post Data with ``trx_id``; ``meanwhile`` runs before it answers (what
    a payment notification arriving first would have written)."""

    def __init__(self, trx_id, meanwhile=None):
        self.trx_id, self.meanwhile, self.posted = trx_id, meanwhile, []

    def create_bill(self, request):
        self.posted.append(request)
        if self.meanwhile:
            self.meanwhile(request.bill_no)
        return results.CreatedBill(trx_id=self.trx_id, bill_no=request.bill_no, redirect_url="", qr_content="")


def test_the_answer_is_recorded_on_the_bill_as_written(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    client = _Debit("TRX0001")
    bill = services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="702", client=client)
    stored = Bill.objects.get(pk=bill.pk)
    assert (stored.provider_trx_id, stored.pay_code, stored.status, stored.creation_attempts) == (
        "TRX0001", "TRX0001", Bill.Status.PENDING, 1)
    assert stored.next_check_at is not None and len(client.posted) == 1


def test_a_notification_that_came_first_is_not_overwritten(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)

    def notified(bill_no):  # the notification learnt the trx_id and the bill is pending already
        Bill.objects.filter(bill_no=bill_no).update(provider_trx_id="FROMNOTICE", pay_code="FROMNOTICE",
                                                    status=Bill.Status.PENDING)

    bill = services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="702",
                                  client=_Debit("TRX0002", meanwhile=notified))
    stored = Bill.objects.get(pk=bill.pk)
    assert stored.provider_trx_id == "FROMNOTICE" and bill.provider_trx_id == "FROMNOTICE"
    assert stored.status == Bill.Status.PENDING
