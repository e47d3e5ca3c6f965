"""The network guard itself (tests/network_guard.py): it sees a call inside a transaction the code
opened, and not pytest-django's own transaction around the test."""
import smtplib
import threading

import pytest
import requests
from django.core import mail
from django.db import connection, transaction

from tests import network_guard


class Refused(requests.adapters.BaseAdapter):
    """An HTTP "server" that answers without a socket."""

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code = 204
        response.url = request.url
        return response

    def close(self):
        pass


def http_call():
    session = requests.Session()
    session.mount("http://", Refused())
    return session.get("http://provider.invalid/status", timeout=1)


@pytest.fixture
def guard():
    """What the running test's guard records from here on, taken off it at the end so that the
    test does not fail for the calls it makes on purpose."""
    return _Taker()


class _Taker:
    @property
    def violations(self):
        current = network_guard._current
        found = list(current.violations)
        current.violations.clear()
        return found


@pytest.mark.django_db
def test_a_call_at_the_tests_own_depth_is_fine(guard):
    http_call()
    mail.send_mail("S", "B", None, ["a@example.co.id"])
    assert guard.violations == []


@pytest.mark.django_db
def test_http_inside_atomic_is_recorded_with_where_it_happened(guard):
    with transaction.atomic():
        http_call()
    [violation] = guard.violations
    assert violation.startswith("HTTP GET http://provider.invalid/status inside 1 open atomic block(s)")
    assert "test_network_guard.py" in violation and "http_call" in violation


@pytest.mark.django_db
def test_an_email_inside_nested_atomic_is_recorded(guard):
    with transaction.atomic(), transaction.atomic():
        mail.send_mail("Pembayaran", "B", None, ["a@example.co.id"])
    [violation] = guard.violations
    assert "SMTP send of “Pembayaran” to a@example.co.id inside 2 open atomic block(s)" in violation


@pytest.mark.django_db
def test_a_real_smtp_connection_inside_atomic_is_recorded(guard, monkeypatch):
    monkeypatch.setattr(smtplib.SMTP, "_get_socket", lambda self, host, port, timeout: (_ for _ in ()).throw(
        OSError("no mail server in tests")))
    with transaction.atomic(), pytest.raises(OSError):
        smtplib.SMTP("mail.invalid", 25, timeout=1)
    [violation] = guard.violations
    assert "SMTP connect to mail.invalid:25" in violation


@pytest.mark.django_db
def test_after_commit_is_fine(guard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            transaction.on_commit(http_call)
    assert guard.violations == []


@pytest.mark.django_db(transaction=True)
def test_another_threads_connection_counts_from_zero(guard):
    def worker():
        try:
            with transaction.atomic():
                http_call()
            http_call()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(guard.violations) == 1  # the worker's atomic block, not its call after it


@pytest.mark.django_db
@pytest.mark.network_in_atomic_allowed
def test_the_hook_fails_a_test_that_calls_inside_atomic(pytester_like_run):
    assert pytester_like_run.violations


@pytest.fixture
def pytester_like_run():
    """Run the hook around a body that makes a call inside atomic: it raises NetworkInTransaction."""
    class Item:
        def get_closest_marker(self, name):
            return None

    hook = network_guard.pytest_runtest_call.__wrapped__ if hasattr(
        network_guard.pytest_runtest_call, "__wrapped__") else network_guard.pytest_runtest_call
    outer = network_guard.stop()
    generator = hook(Item())
    next(generator)
    with transaction.atomic():
        http_call()
    watching = network_guard._current
    with pytest.raises(network_guard.NetworkInTransaction, match="1 network call"):
        generator.send(None)
    if outer is not None:
        network_guard._current = outer
    return watching
