"""intrasa.postgresql: a reused connection is checked by its socket, not by a SELECT 1 round trip;
one the server closed is replaced before the request's first query (on the suite's PostgreSQL)."""
import os
import resource
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


@pytest.mark.django_db(transaction=True)
def test_a_connection_idle_for_longer_is_checked_with_a_round_trip(monkeypatch):
    """A NAT or firewall drops an idle flow without a word: only a round trip shows it, so a connection not
    used for ``RECENTLY_USED_SECONDS`` gets Django's SELECT 1."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    asked = []
    monkeypatch.setattr(DjangosWrapper, "is_usable", lambda self: asked.append(1) or True)
    assert connection.is_usable() is True and asked == []  # just used: the socket says
    connection._used_at -= 60
    assert connection.is_usable() is True and asked == [1]


@pytest.mark.django_db(transaction=True)
def test_a_connection_past_file_descriptor_1024_is_usable():
    """select.select refuses descriptors past 1024 (a busy worker has them): the check must not turn every
    request into a reconnection."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip("too few file descriptors allowed")
    connection.close()  # the lowest free descriptors taken first, then the connection opened past them
    opened = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.connection.fileno() >= 1024
        assert connection.is_usable() is True
    finally:
        for descriptor in opened:
            os.close(descriptor)
