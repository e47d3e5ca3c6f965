"""intrasa.postgresql: a reused connection is checked by its socket, not by a SELECT 1 round trip;
one the server closed is replaced before the request's first query (on the suite's PostgreSQL)."""
import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangosWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend")


def _new_request():
    """What Django does when a request starts: the next query checks the connection first."""
    connection.health_check_done = False
    connection.close_if_health_check_failed()


@pytest.mark.django_db(transaction=True)
def test_an_idle_connection_is_usable_without_a_round_trip(monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    sent = []
    monkeypatch.setattr(psycopg.Connection, "execute", lambda *a, **k: sent.append(a))
    monkeypatch.setattr(psycopg.Connection, "cursor", lambda *a, **k: sent.append(a))
    assert connection.is_usable() is True
    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_before_the_first_query():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:  # the server's goodbye is on its way
        time.sleep(0.01)
    assert connection.is_usable() is False
    _new_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


@pytest.mark.django_db
def test_a_connection_inside_a_transaction_is_judged_by_the_server(monkeypatch):
    asked = []
    monkeypatch.setattr(DjangosWrapper, "is_usable", lambda self: asked.append(1) or True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # the test's transaction is open: not idle
    assert connection.is_usable() is True
    assert asked == [1]
