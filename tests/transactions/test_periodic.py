"""The beat jobs: expiry, auto-confirm with its reminder, shipping reminders. Each is safe to run twice."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from escrow import tasks as escrow_tasks
from notifications.models import Notification
from tests import scenarios
from transactions import tasks
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def shift(txn, **fields):
    EscrowTransaction.objects.filter(pk=txn.pk).update(**fields)


def ago(**kwargs):
    return timezone.now() - dt.timedelta(**kwargs)


def test_unaccepted_invitation_expires(seller, buyer):
    fresh = scenarios.create(seller, buyer)
    stale = scenarios.create(seller, buyer)
    shift(stale, invitation_expires_at=ago(minutes=1))
    assert tasks.expire_unpaid_transactions() == 1
    assert tasks.expire_unpaid_transactions() == 0
    stale.refresh_from_db(), fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (Status.EXPIRED, Status.CREATED)
    assert Notification.objects.filter(kind="expired").count() == 1  # the seller; no buyer bound yet


def test_accepted_but_unpaid_transaction_expires_after_the_payment_window(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    shift(txn, payment_due_at=ago(seconds=1))
    tasks.expire_unpaid_transactions()
    txn.refresh_from_db()
    assert txn.status == Status.EXPIRED
    assert Notification.objects.filter(kind="expired").count() == 2


def test_paid_transactions_never_expire(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    shift(txn, payment_due_at=ago(days=1))
    assert tasks.expire_unpaid_transactions() == 0


def test_reminder_then_auto_confirm_after_the_inspection_period(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    assert tasks.send_due_reminders() == 0  # inspection ends in 3 working days
    shift(txn, inspection_ends_at=timezone.now() + dt.timedelta(hours=3))
    assert tasks.send_due_reminders() == 1
    assert tasks.send_due_reminders() == 0
    assert Notification.objects.filter(kind="confirm_reminder", recipient=buyer).count() == 1
    assert escrow_tasks.auto_confirm_due_transactions() == 0
    shift(txn, inspection_ends_at=ago(seconds=1))
    assert escrow_tasks.auto_confirm_due_transactions() == 1
    assert escrow_tasks.auto_confirm_due_transactions() == 0
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED and txn.auto_confirmed
    event = txn.events.get(action="confirm")
    assert event.actor_role == "system"
    # Both parties read why in their language, not the record's English words.
    with translation.override("id"):
        assert event.shown_reason == ("Masa pemeriksaan berakhir tanpa kabar dari pembeli: penerimaan dikonfirmasi "
                                      "otomatis.")
    call_command("ledger_check")


def test_seller_is_reminded_to_ship_and_buyer_told_after_the_deadline(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    shift(txn, shipping_deadline=timezone.now() + dt.timedelta(hours=2))
    assert tasks.send_due_reminders() == 1
    assert Notification.objects.filter(kind="shipping_reminder", recipient=seller).count() == 1
    assert not Notification.objects.filter(kind="shipping_overdue_buyer").exists()
    shift(txn, shipping_deadline=ago(minutes=5))
    tasks.send_due_reminders()
    tasks.send_due_reminders()
    assert Notification.objects.filter(kind="shipping_overdue_buyer", recipient=buyer).count() == 1
    assert Notification.objects.filter(kind="shipping_reminder").count() == 1


def test_auto_confirm_does_not_touch_a_disputed_transaction(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(txn, buyer, "Tidak sesuai", reason="not_as_described")
    shift(txn, inspection_ends_at=ago(days=2))
    assert escrow_tasks.auto_confirm_due_transactions() == 0
    assert tasks.send_due_reminders() == 0
