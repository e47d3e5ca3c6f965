"""``transactions.writes``: a step's row, its timeline event and its notifications in one
statement, with everything ``save()`` would have done around them."""
import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.db.transaction import TransactionManagementError
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


def test_a_refused_write_leaves_no_event_or_notice_even_when_the_caller_catches_and_commits(seller, buyer):
    """The event and the notice go in the refused update's statement: the block is rolled back."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    events, notes = TransactionEvent.objects.count(), Notification.objects.count()
    notice = {"event_key": f"test:{txn.pk}:refused", "kind": "accepted", "recipient": seller,
              "context": services._context(txn, buyer="x", buyer_email="x"), "link": "/"}
    with transaction.atomic():
        try:
            write_together(updates=[Update(txn, ["title", "updated_at"], expected={"status": Status.CANCELLED})],
                           inserts=[TransactionEvent(escrow_transaction=txn, action="note", actor_role="system")],
                           notices=[notice])
        except ConcurrentTransition:
            pass
    assert TransactionEvent.objects.count() == events
    assert Notification.objects.count() == notes


@pytest.mark.django_db(transaction=True)
def test_outside_an_atomic_block_nothing_is_written(seller, buyer):
    txn = scenarios.create(seller, buyer)
    events = TransactionEvent.objects.count()
    with pytest.raises(TransactionManagementError):
        write_together(inserts=[TransactionEvent(escrow_transaction=txn, action="note", actor_role="system")])
    assert TransactionEvent.objects.count() == events


def test_a_row_inserted_is_saved_again_as_one_saved_by_save(seller, buyer):
    """save() re-bases ConcurrentTransitionMixin's remembered state after an INSERT; so does
    write_together (the payout payout_plan returns, in progress, is saved again without a refusal)."""
    from disbursements.models import Payout
    from disbursements.services import payout_plan
    from tests.disbursements.conftest import verified_bank

    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    with transaction.atomic():
        payout = payout_plan(escrow_transaction=txn, purpose=Payout.Purpose.SELLER_PAYOUT, recipient=seller,
                             amount=1000)
        assert payout.status == Payout.Status.IN_PROGRESS
        payout.reason = "edited"
        payout.save()
    assert Payout.objects.get(pk=payout.pk).reason == "edited"


def test_the_state_is_checked_unless_the_caller_says_otherwise(seller, buyer):
    """As ConcurrentTransitionMixin's save(): the row must still have the state it was read with."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    EscrowTransaction.objects.filter(pk=txn.pk).update(status=Status.CANCELLED)  # someone else, meanwhile
    txn.title = "Judul lain"
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        write_together(updates=[Update(txn, ["title", "updated_at"])])
    assert EscrowTransaction.objects.get(pk=txn.pk).title != "Judul lain"
    with transaction.atomic():
        write_together(updates=[Update(txn, ["title", "updated_at"], expected={})])  # explicitly unchecked
    assert EscrowTransaction.objects.get(pk=txn.pk).title == "Judul lain"


def test_switching_method_withdraws_the_open_bill_before_the_statement_writing_the_new_one(seller, buyer):
    """one_open_bill_per_transaction must not depend on the order PostgreSQL runs a WITH's parts
    in: the old bill is withdrawn by a statement of its own, before the one inserting the new."""
    from payments import services as payment_services
    from payments.models import Bill

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    bill_table = connection.ops.quote_name(Bill._meta.db_table)
    with CaptureQueriesContext(connection) as first_choice:
        payment_services._start(txn, buyer, "702")
    assert not any(f"UPDATE {bill_table}" in q["sql"] for q in first_choice.captured_queries)  # nothing to withdraw
    with CaptureQueriesContext(connection) as captured:
        payment_services._start(txn, buyer, "800")
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("WITH")]
    withdrawing = [n for n, sql in enumerate(writes) if f"UPDATE {bill_table}" in sql]
    inserting = [n for n, sql in enumerate(writes) if f"INSERT INTO {bill_table}" in sql]
    assert len(withdrawing) == 1 and len(inserting) == 1 and withdrawing[0] < inserting[0]
    assert f"INSERT INTO {bill_table}" not in writes[withdrawing[0]]
    assert Bill.objects.filter(escrow_transaction=txn, status__in=["creating", "pending"]).count() == 1



def test_notices_of_two_subjects_are_refused_before_anything_is_written(seller, buyer):
    """Their emails may share a task (one event's both parties), so they must be one event's."""
    first = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    second = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    notices = [services._party_notice(txn, seller, "accepted", buyer=buyer.full_name, buyer_email=buyer.email,
                                      suffix=":again") for txn in (first, second)]
    events = TransactionEvent.objects.count()
    with pytest.raises(ValueError), transaction.atomic():
        write_together(inserts=[TransactionEvent(escrow_transaction=first, action="note", actor_role="system")],
                       notices=notices)
    assert TransactionEvent.objects.count() == events


class _RolledBack(Exception):
    pass


def _write_together_by_save(*, updates=(), inserts=(), notices=(), counts=None):
    """``write_together`` as ``save()`` would do it: its path for databases other than PostgreSQL."""
    from transactions import writes

    counted = {name: queryset.count() for name, queryset in (counts or {}).items()}
    writes._one_by_one(updates, inserts, [notice for notice in notices if notice is not None])
    return counted


def _lifecycle_as_written(seller, buyer, monkeypatch, *, by_save: bool):
    """The rows (every column) and the signals of a lifecycle to confirmation — a transaction
    created, accepted, a bill, a bill withdrawn for another, paid, shipped, confirmed, its payout
    and disbursement planned — written by ``write_together`` or by ``save()``; then rolled back."""
    import re
    from datetime import date, datetime
    from uuid import UUID

    from django.db.models.signals import pre_save

    from disbursements import services as disbursement_services
    from disbursements.models import Disbursement, Payout
    from payments import services as payment_services
    from payments.models import Bill, BillShare

    written_models = (EscrowTransaction, TransactionEvent, Bill, BillShare, Payout, Disbursement)
    signals: list[tuple] = []
    written: dict[type, set] = {}

    def before(sender, instance, raw, using, update_fields, **kwargs):
        if sender in written_models:
            signals.append(("pre_save", sender.__name__, instance._state.adding, raw, using,
                            sorted(update_fields) if update_fields is not None else None))

    def after(sender, instance, created, raw, using, update_fields, **kwargs):
        if sender in written_models:
            signals.append(("post_save", sender.__name__, created, raw, using,
                            sorted(update_fields) if update_fields is not None else None))
            written.setdefault(sender, set()).add(instance.pk)

    rows: dict[str, list[dict]] = {}
    pre_save.connect(before, dispatch_uid="equivalence_pre")
    post_save.connect(after, dispatch_uid="equivalence_post")
    try:
        with monkeypatch.context() as patch:
            if by_save:
                for module in (services, payment_services, disbursement_services):
                    patch.setattr(module, "write_together", _write_together_by_save)
            # What is drawn at random is drawn the same in both runs.
            patch.setattr(payment_services, "_unique_amount", lambda amount_due: (amount_due - 7, 7))
            patch.setattr(disbursement_services, "new_partner_reference", lambda reference: f"DSB{reference}")
            try:
                with transaction.atomic():
                    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
                    payment_services._start(txn, buyer, "800")
                    payment_services._start(txn, buyer, payment_services.BANK_TRANSFER)  # withdraws the 800 bill
                    txn = scenarios.advance(txn, buyer, Status.CONFIRMED)
                    new_ids = {(model, pk): n for model, pks in written.items() for n, pk in enumerate(sorted(pks))}

                    def same_in_both(model, field, value):
                        if field.primary_key:
                            return "id"
                        if field.is_relation and (field.related_model, value) in new_ids:
                            return ("new", field.related_model.__name__, new_ids[field.related_model, value])
                        if isinstance(value, datetime | date | UUID):
                            return type(value).__name__  # the moment differs from one run to the next
                        drawn = {txn.reference: "REF", txn.reference.replace("-", ""): "REF",
                                 txn.invitation_token: "TOKEN"}  # drawn at random for each new transaction
                        text = repr(value)
                        for random, same in drawn.items():
                            text = text.replace(random, same) if random else text
                        return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(\+\d\d:\d\d)?", "moment", text)  # in JSON data

                    for model, pks in sorted(written.items(), key=lambda item: item[0].__name__):
                        fields = model._meta.concrete_fields
                        rows[model.__name__] = [
                            {field.attname: same_in_both(model, field, getattr(row, field.attname)) for field in fields}
                            for row in model._base_manager.filter(pk__in=pks).order_by("pk")]
                    notes = Notification.objects.filter(event_key__contains=txn.reference).order_by("event_key")
                    rows["Notification"] = [
                        {field.attname: same_in_both(Notification, field, getattr(row, field.attname))
                         for field in Notification._meta.concrete_fields} for row in notes]
                    raise _RolledBack
            except _RolledBack:
                pass
    finally:
        pre_save.disconnect(dispatch_uid="equivalence_pre")
        post_save.disconnect(dispatch_uid="equivalence_post")
    return rows, sorted(signals, key=repr)


def test_write_together_writes_the_rows_and_sends_the_signals_save_would(seller, buyer, monkeypatch):
    from tests.disbursements.conftest import verified_bank

    verified_bank(seller)  # the seller's account, the same in both runs
    together_rows, together_signals = _lifecycle_as_written(seller, buyer, monkeypatch, by_save=False)
    saved_rows, saved_signals = _lifecycle_as_written(seller, buyer, monkeypatch, by_save=True)
    assert set(together_rows) == {"EscrowTransaction", "TransactionEvent", "Bill", "Payout", "Disbursement",
                                  "Notification"}
    assert together_rows["Bill"][0]["status"] == repr("cancelled")  # an update went through too
    for model in together_rows:
        for together, saved in zip(together_rows[model], saved_rows[model], strict=True):
            assert {k: v for k, v in together.items() if saved[k] != v} == {}, (model, saved)
    assert together_signals == saved_signals


def test_a_transaction_named_twice_in_a_batch_of_payout_answers_is_marked_disbursed_once(seller, buyer, monkeypatch):
    """Two seller payouts of one transaction (the second after a refused refund was released to the
    seller) can complete in the same batch: the batch names the transaction twice, as two locked
    objects. It must be marked once, not refuse the whole batch (which would leave every answer of
    the batch unrecorded, and the same refusal on every later cycle)."""
    from intrasa import locks

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    # The seller's payouts have all been paid: nothing is owed any more (the ledger part is the
    # payout services' business; here only the batch's bookkeeping is under test).
    monkeypatch.setattr(services, "transactions_seller_payable", lambda ids: {})
    with transaction.atomic():
        first = locks.lock(EscrowTransaction, txn.pk)
        second = EscrowTransaction.objects.get(pk=txn.pk)  # the other payout's copy of the same row
        services.transactions_mark_disbursed(escrow_transactions=[first, second], only_settled=True)
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    assert TransactionEvent.objects.filter(escrow_transaction=txn, action="mark_disbursed").count() == 1
