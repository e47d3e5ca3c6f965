"""What Faspay sent and what a reconciliation check saw go with the transaction's records: a payment
notification keeps only the fields Faspay documents (the amounts reconciliation reads stay), once
every transaction its bill paid is past its period; a reconciliation item's evidence is emptied."""
import pytest
from django.utils import timezone

from payments.models import BillShare, ProviderNotification
from privacy import purge
from tests import scenarios
from transactions.models import Status
from treasury.models import ReconciliationItem

from .test_purge_in_motion import finished_long_ago, long_ago

DOCUMENTED = {"request": "Payment Notification", "trx_id": "3183540500001172", "merchant_id": "31835",
              "bill_no": "X", "payment_reff": "123", "payment_date": "2026-11-01 10:00:00",
              "payment_status_code": "2", "bill_total": "1000000", "payment_total": "1000000",
              "payment_channel_uid": "402", "payment_channel": "Permata VA", "signature": "ab12"}
CUSTOMER = {"cust_name": "Budi Santoso", "email": "budi@example.co.id", "msisdn": "081200001111"}


def notified(txn, trx_id):
    bill = txn.bills.first()
    return ProviderNotification.objects.create(trx_id=trx_id, bill_no=bill.bill_no, status_code="2", bill=bill,
                                               payload={**DOCUMENTED, "bill_no": bill.bill_no, **CUSTOMER})


@pytest.mark.django_db
def test_a_notification_keeps_only_faspays_documented_fields_when_its_transaction_goes(seller, buyer):
    done = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    live = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    old, current = notified(done, "T-OLD"), notified(live, "T-LIVE")
    finished_long_ago(done)

    purge.retention_apply(now=timezone.now())

    old.refresh_from_db()
    assert old.payload == {**DOCUMENTED, "bill_no": done.bills.first().bill_no}
    current.refresh_from_db()
    assert current.payload["cust_name"] == "Budi Santoso"  # its transaction is not past its period
    purge.retention_apply(now=timezone.now())  # a second run changes nothing
    assert ProviderNotification.objects.get(pk=old.pk).payload == old.payload


@pytest.mark.django_db
def test_a_bill_that_paid_several_transactions_waits_for_the_last(seller, buyer):
    first = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    second = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    bill = first.bills.first()
    BillShare.objects.create(bill=bill, escrow_transaction=first, amount=1)
    BillShare.objects.create(bill=bill, escrow_transaction=second, amount=1)
    notification = notified(first, "T-SHARED")
    finished_long_ago(first)

    purge.retention_apply(now=timezone.now())
    notification.refresh_from_db()
    assert notification.payload["cust_name"] == "Budi Santoso"

    finished_long_ago(second)
    purge.retention_apply(now=timezone.now())
    notification.refresh_from_db()
    assert "cust_name" not in notification.payload and notification.payload["payment_total"] == "1000000"


@pytest.mark.django_db
def test_a_reconciliation_items_evidence_goes_with_its_transaction(seller, buyer):
    done = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    live = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)

    def item(txn):
        return ReconciliationItem.objects.create(
            day=timezone.now().date(), source=ReconciliationItem.Source.SENDME_STATUS, code="status_mismatch",
            reference=f"PR-{txn.pk}", object_type=txn._meta.label, object_id=str(txn.pk), amount=1,
            state=ReconciliationItem.State.RESOLVED, resolution="x", resolved_at=long_ago(),
            evidence={"provider": {"body": {"additionalInfo": {"beneficiaryAccountName": "Budi Santoso"}}}})
    old, current = item(done), item(live)
    finished_long_ago(done)

    purge.retention_apply(now=timezone.now())

    old.refresh_from_db()
    current.refresh_from_db()
    assert old.evidence == {} and old.reference == f"PR-{done.pk}" and old.amount == 1
    assert "Budi Santoso" in str(current.evidence)
