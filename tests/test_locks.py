"""The one lock module: rows are locked in one documented order, and asking out of order fails
loudly (a wrong order is a deadlock waiting to happen)."""
import pytest
from django.db import transaction

from intrasa import locks
from payments.models import Bill
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)


def test_locks_in_the_documented_order(paid):
    bill = Bill.objects.get(escrow_transaction=paid)
    with transaction.atomic():
        assert locks.lock_transaction(paid).pk == paid.pk
        assert locks.lock(Bill, bill.pk).pk == bill.pk
        assert [b.pk for b in locks.lock_all(Bill.objects.filter(escrow_transaction=paid))] == [bill.pk]


def test_a_lock_below_one_already_held_is_refused(paid):
    bill = Bill.objects.get(escrow_transaction=paid)
    with pytest.raises(locks.LockOrderError, match="transactions.EscrowTransaction locked after payments.Bill"):
        with transaction.atomic():
            locks.lock(Bill, bill.pk)
            locks.lock_transaction(paid)


def test_each_service_block_starts_its_own_chain(paid):
    """Two services one after the other (as in a test, or a task calling two services) may each
    start again from the top of the order."""
    bill = Bill.objects.get(escrow_transaction=paid)
    with transaction.atomic():
        locks.lock(Bill, bill.pk)
    with transaction.atomic():
        locks.lock_transaction(paid)


def test_nested_blocks_continue_the_chain(paid):
    bill = Bill.objects.get(escrow_transaction=paid)
    with pytest.raises(locks.LockOrderError):
        with transaction.atomic():
            locks.lock(Bill, bill.pk)
            with transaction.atomic():  # a service called by a service: still one chain
                locks.lock_transaction(paid)


@pytest.mark.django_db(transaction=True)
def test_locks_outside_a_database_transaction_are_refused(paid):
    with pytest.raises(locks.LockOrderError, match="inside the service's transaction.atomic"):
        locks.lock_transaction(paid)


def test_every_model_in_the_order_exists():
    from django.apps import apps

    for label in locks.LOCK_ORDER:
        assert apps.get_model(label)


def test_a_row_held_already_may_be_locked_again_later_in_the_chain(paid):
    """A service that locked the transaction and a bill calls another that locks the same
    transaction: the database grants it at once, so the order does not matter for it."""
    bill = Bill.objects.get(escrow_transaction=paid)
    with transaction.atomic():
        locks.lock_transaction(paid)
        locks.lock(Bill, bill.pk)
        assert locks.lock_transaction(paid).pk == paid.pk


def test_a_step_handed_the_locked_transaction_does_not_read_it_again(paid, django_assert_num_queries):
    """The object ``lock_transaction`` returned is handed back as it is within its chain (no second
    ``SELECT … FOR UPDATE``); another object of the same row, or the same object in a later
    database transaction, is read and locked again."""
    with transaction.atomic():
        locked = locks.lock_transaction(paid)
        with django_assert_num_queries(0):
            assert locks.lock_transaction(locked) is locked
        with django_assert_num_queries(1):
            other = locks.lock_transaction(paid)
        assert other is not locked and other.pk == locked.pk
    with transaction.atomic(), django_assert_num_queries(1):
        assert locks.lock_transaction(other) is not other


def test_the_lock_carries_the_partner_binding_for_the_timeline(paid, django_assert_num_queries):
    """The transaction's partner binding (none here) comes with its lock: the partner listener asks
    no query when the transition's event is saved."""
    from transactions import services

    with transaction.atomic():
        locked = locks.lock_transaction(paid)
        with django_assert_num_queries(1):  # the event's INSERT alone
            services.transaction_record_event(locked, action="note", actor=None, role="system", reason="x",
                                              to_status=locked.status)


def _confirmed_part(seller, buyer):
    from disbursements.models import Disbursement
    from tests.disbursements.conftest import verified_bank

    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    return Disbursement.objects.get(payout__escrow_transaction=txn)


def test_a_part_and_its_owners_are_locked_in_one_statement_in_the_documented_order(seller, buyer,
                                                                                   django_assert_num_queries):
    part = _confirmed_part(seller, buyer)
    with transaction.atomic():
        with django_assert_num_queries(1) as captured:
            locked = locks.lock_with_owners("disbursements.Disbursement", part.pk,
                                            owners=("payout__escrow_transaction", "payout"))
        sql = captured.captured_queries[0]["sql"]
        assert sql.endswith('FOR UPDATE OF "transactions_escrowtransaction", "disbursements_payout", '
                            '"disbursements_disbursement"')  # PostgreSQL locks a joined row in this order
        assert locks.is_held("transactions.EscrowTransaction", locked.payout.escrow_transaction_id)
        assert locks.is_held("disbursements.Payout", locked.payout_id)
        assert locks.is_held("disbursements.Disbursement", part.pk)
        assert locks.lock_transaction(locked.payout.escrow_transaction) is locked.payout.escrow_transaction


def test_owners_locked_after_what_ranks_below_them_are_refused(seller, buyer):
    part = _confirmed_part(seller, buyer)
    with pytest.raises(locks.LockOrderError, match="transactions.EscrowTransaction locked after"):
        with transaction.atomic():
            locks.lock("disbursements.Disbursement", part.pk)
            locks.lock_with_owners("disbursements.Disbursement", part.pk,
                                   owners=("payout__escrow_transaction", "payout"))
