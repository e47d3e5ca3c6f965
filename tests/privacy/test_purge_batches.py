"""The retention job locks its rows in batches of one statement, whatever the batch's size.

State-machine models (django-fsm's ConcurrentTransitionMixin) read their state field as each row
is built: a batch read with only its keys went back to the database once per row for the state.
"""
import pytest
from django.db import transaction

from privacy.purge import _locked_batch
from tests import scenarios
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [1, 6])
def test_a_locked_batch_of_state_machine_rows_is_one_query(seller, buyer, settings, rows,
                                                          django_assert_num_queries):
    settings.INTRASA_INVITATIONS_PER_DAY = 50
    made = [scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED).pk for _ in range(rows)]
    with transaction.atomic(), django_assert_num_queries(1):
        locked = _locked_batch(EscrowTransaction.objects.filter(pk__in=made))
    assert sorted(locked) == sorted(made)


def test_a_row_no_longer_due_once_locked_is_left_alone(seller, buyer, settings, monkeypatch):
    """The locking statement may judge "due" on an old snapshot (a change committed while it waited
    for a row): the batch asks again once the rows are held, and handles only what is still due."""
    from privacy import purge

    settings.INTRASA_INVITATIONS_PER_DAY = 50
    due, moved_on = (scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED) for _ in range(2))
    queryset = EscrowTransaction.objects.filter(status=Status.VERIFIED)
    real = purge._locked_batch
    calls = []

    def lock_then_someone_moves_one_on(qs):
        locked = real(qs)
        if not calls:  # what a writer committed while the lock was taken
            EscrowTransaction.objects.filter(pk=moved_on.pk).update(status=Status.SHIPPED)
        calls.append(locked)
        return locked

    monkeypatch.setattr(purge, "_locked_batch", lock_then_someone_moves_one_on)
    handled = []
    purge._batches(queryset, lambda pks: handled.extend(pks) or len(pks))
    assert sorted(calls[0]) == sorted([due.pk, moved_on.pk])
    assert handled == [due.pk]
