"""``transactions.writes``: a step's row, its timeline event and its notifications in one
statement, with everything ``save()`` would have done around them."""
import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django_fsm import ConcurrentTransition

from notifications.models import Notification
from tests import scenarios
from transactions import services
from transactions.models import EscrowTransaction, Status, TransactionEvent
from transactions.writes import Update, write_together

pytestmark = pytest.mark.django_db


def test_the_row_its_event_and_both_notices_are_one_statement_with_save_s_signals(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    saved = []

    def listener(sender, instance, created, update_fields, **kwargs):
        saved.append((sender.__name__, created, instance.pk))

    post_save.connect(listener, sender=EscrowTransaction, dispatch_uid="test_writes")
    post_save.connect(listener, sender=TransactionEvent, dispatch_uid="test_writes")
    try:
        with transaction.atomic():
            locked = services._lock(txn)
            with CaptureQueriesContext(connection) as captured:
                event = services._transition(locked, "confirm", actor=buyer, role="buyer",
                                             notices=lambda: services._confirmation_notices(locked))
    finally:
        post_save.disconnect(sender=EscrowTransaction, dispatch_uid="test_writes")
        post_save.disconnect(sender=TransactionEvent, dispatch_uid="test_writes")
    writes = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and writes[0].startswith("WITH u0 AS (UPDATE")
    assert event.pk is not None and event.escrow_transaction is locked  # the partner listener's cache
    assert saved == [("EscrowTransaction", False, txn.pk), ("TransactionEvent", True, event.pk)]
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED
    assert TransactionEvent.objects.get(pk=event.pk).from_status == Status.SHIPPED
    assert Notification.objects.filter(event_key__startswith=f"txn:{txn.reference}:confirmed_").count() == 2


def test_a_row_changed_since_it_was_read_writes_nothing(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    events = TransactionEvent.objects.count()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        txn.title = "Judul lain"
        write_together(updates=[Update(txn, ["title", "updated_at"], expected={"status": Status.CANCELLED})],
                       inserts=[TransactionEvent(escrow_transaction=txn, action="note", actor_role="system")])
    assert EscrowTransaction.objects.get(pk=txn.pk).title != "Judul lain"
    assert TransactionEvent.objects.count() == events


def test_a_notice_recorded_already_is_not_written_twice_and_the_rest_is(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    notice = services._party_notice(txn, txn.seller, "accepted", buyer=buyer.full_name, buyer_email=buyer.email)
    assert Notification.objects.filter(event_key=notice["event_key"]).count() == 1  # from the accept
    event = TransactionEvent(escrow_transaction=txn, action="note", actor_role="system")
    with transaction.atomic():
        write_together(inserts=[event], notices=[notice])
    assert event.pk is not None and TransactionEvent.objects.filter(pk=event.pk).exists()
    assert Notification.objects.filter(event_key=notice["event_key"]).count() == 1


def test_a_new_row_points_at_the_new_transaction_written_with_it(seller, buyer):
    txn = scenarios.create(seller, buyer)
    created = TransactionEvent.objects.get(escrow_transaction=txn, action="created")
    assert created.escrow_transaction_id == txn.pk
    assert Notification.objects.filter(event_key=f"txn:{txn.reference}:invitation", email=buyer.email).exists()


def test_the_models_written_together_have_no_save_of_their_own_to_skip():
    """``write_together`` does what ``Model.save()`` does, not what an override would add: a model
    it writes that gains a ``save()`` must be written another way (or the override moved)."""
    from django.db.models import Model

    from disbursements.models import Disbursement, Payout
    from payments.models import Bill, BillShare

    assert all(model.save is Model.save or model.save.__qualname__.startswith("ConcurrentTransitionMixin")
               for model in (EscrowTransaction, Bill, BillShare, Payout, Disbursement))
    # The timeline's own save() only refuses to write an event twice; write_together only inserts.
    assert TransactionEvent.save.__qualname__ == "TransactionEvent.save"
