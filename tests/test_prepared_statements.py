"""``intrasa.prepared`` on PostgreSQL: the statement is planned once per connection (a server-side
prepared statement), not on every call. Planning the transaction page's read cost PostgreSQL about
0.9 ms a call, more than running it (``EXPLAIN ANALYZE``: planning 0.87 ms, execution 0.45 ms).

Django turns psycopg's prepared statements off (``prepare_threshold=None``) so that a pooler in
transaction mode keeps working; only ``Prepared``'s own statements are prepared, and
``DB_PREPARED_STATEMENTS=false`` turns that off too, for a pooler that cannot carry them."""
import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from intrasa.prepared import Prepared
from tests import scenarios
from transactions.models import EscrowTransaction

pytestmark = pytest.mark.django_db


def _by_reference(*, reference: str):
    return EscrowTransaction.objects.select_related("seller").filter(reference=reference)


BY_REFERENCE = Prepared(_by_reference, reference=str)


def _forget_every_prepared_statement():
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # psycopg forgets its names too (it watches for this command)


def _uses_of_the_prepared_statement() -> int:
    """How many times PostgreSQL ran the prepared statement of ``BY_REFERENCE`` in this session
    (custom plus generic plans); 0 when it is not prepared."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
                       "WHERE statement LIKE %s AND statement LIKE %s",
                       ["%transactions_escrowtransaction%", "%reference\" = $1%"])
        return int(cursor.fetchone()[0])


def test_the_statement_is_prepared_once_and_run_from_then_on(seller, buyer):
    txn = scenarios.create(seller, buyer)
    _forget_every_prepared_statement()
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:  # still counted and logged, as one query
            [got] = BY_REFERENCE.rows(reference=txn.reference)
        assert got.pk == txn.pk and got.seller == seller and len(captured) == 1
        assert f"\"reference\" = '{txn.reference}'" in captured[0]["sql"]  # logged as Django logs its own
    assert _uses_of_the_prepared_statement() == 3
    # PostgreSQL keeps a plan for it once it has run five times with a custom plan.
    for _ in range(5):
        BY_REFERENCE.rows(reference=txn.reference)
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%reference\" = $1%"])
        assert cursor.fetchone()[0] >= 1


def test_a_rolled_back_transaction_and_a_failed_statement_leave_it_working(seller, buyer):
    txn = scenarios.create(seller, buyer)
    _forget_every_prepared_statement()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert BY_REFERENCE.rows(reference=txn.reference)[0].pk == txn.pk
        raise RuntimeError("rolled back after preparing")
    assert BY_REFERENCE.rows(reference=txn.reference)[0].pk == txn.pk
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert BY_REFERENCE.rows(reference=txn.reference)[0].pk == txn.pk
    assert BY_REFERENCE.rows(reference="INT-NONE-NONE-NONE") == []


def test_django_own_queries_stay_unprepared(seller, buyer):
    txn = scenarios.create(seller, buyer)
    _forget_every_prepared_statement()
    BY_REFERENCE.rows(reference=txn.reference)
    for _ in range(10):
        EscrowTransaction.objects.get(pk=txn.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%\"id\" = $1%"])
        assert cursor.fetchone()[0] == 0


def test_turned_off_for_a_pooler_that_cannot_carry_them(seller, buyer, settings):
    settings.DB_PREPARED_STATEMENTS = False
    txn = scenarios.create(seller, buyer)
    _forget_every_prepared_statement()
    for _ in range(3):
        assert BY_REFERENCE.rows(reference=txn.reference)[0].pk == txn.pk
    assert _uses_of_the_prepared_statement() == 0
