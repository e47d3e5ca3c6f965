"""The suite's fast database reset (tests/fast_postgresql) gives the state Django's own reset gives:
every table empty after a transactional test, posted ledger entries included (the product refuses to
delete them), and the data migrations' rows back, row for row, before the next one."""
import json

import pytest
from django.core.management.color import no_style
from django.db import connection, transaction

from ledger.models import AccountCategory, EntryKind, JournalEntry
from ledger.services import credit, debit, entry_post
from tests import scenarios

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return sorted(cursor.fetchall(), key=repr)


def _tables() -> list[str]:
    return connection.introspection.django_table_names(only_existing=True, include_views=False)


def test_the_reset_empties_every_table_and_brings_back_the_migrations_rows(seller, buyer):
    assert connection.vendor == "postgresql" and connection.settings_dict["ENGINE"] == "tests.fast_postgresql"
    seeded = json.loads(connection._test_serialized_contents)
    assert {"transactions_feetier", "auth_group", "auth_permission"} <= set(seeded)  # the migrations' rows
    before = {table: _rows(table) for table in seeded}
    txn = scenarios.create(seller, buyer)
    with transaction.atomic():
        entry_post(idempotency_key="reset-check", kind=EntryKind.PAYMENT_VERIFIED, memo="test", escrow_transaction=txn,
                   lines=[debit(AccountCategory.PROVIDER_CLEARING, 1000), credit(AccountCategory.ESCROW_HOLD, 1000)])
    assert JournalEntry.objects.exists()

    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), _tables()))
    assert {table: _rows(table) for table in _tables() if _rows(table)} == {}

    connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
    assert {table: _rows(table) for table in seeded} == before
    assert not [table for table in _tables() if table not in seeded and _rows(table)]


def test_the_ledger_still_refuses_to_delete_a_posted_entry_outside_the_reset(seller, buyer):
    """The reset switches the triggers off for its own transaction only."""
    from django.db import DatabaseError

    txn = scenarios.create(seller, buyer)
    with transaction.atomic():
        entry_post(idempotency_key="kept", kind=EntryKind.PAYMENT_VERIFIED, memo="test", escrow_transaction=txn,
                   lines=[debit(AccountCategory.PROVIDER_CLEARING, 1000), credit(AccountCategory.ESCROW_HOLD, 1000)])
    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), ["auth_group"]))
    with pytest.raises(DatabaseError), transaction.atomic():
        JournalEntry.objects.all().delete()
