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
