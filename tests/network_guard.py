"""Fail a test when a network call happens inside an open database transaction (DESIGN.md §3).

A provider call (Faspay Debit, SendMe: every provider client speaks HTTP through
``requests.Session.send``), an HTTP call of any other kind through ``requests``, or an email (a
real ``smtplib.SMTP`` connection, or the test suite's stand-in for it, the locmem email backend)
made while a ``transaction.atomic()`` block is open holds the transaction — and usually a row
lock — for as long as the other side takes to answer. The guard records every such call, with the
stack that made it, and fails the test at its end.

pytest-django runs most tests inside a transaction of its own (``django.test.TestCase``'s
atomic blocks) that the code under test cannot see. So the guard counts only the atomic blocks
opened *after the test body started*: the depth of ``connection.atomic_blocks`` when the test
function is called is the baseline of the thread that runs it. Other threads (``live_server``,
a test's worker threads) have connections of their own, whose baseline is zero.

Calls are recorded, not refused: code under test often turns an exception from the network into
"provider unavailable" and carries on, which would hide the finding. Whatever the test asserted,
it fails with the list of calls and where they were made.
"""
from __future__ import annotations

import smtplib
import threading
import traceback
from dataclasses import dataclass, field

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

_state = threading.local()
_lock = threading.Lock()


@dataclass
class Guard:
    """One test's watch: the main thread's connection and its depth when the test body began."""

    connection: object
    baseline: int
    violations: list = field(default_factory=list)

    def depth_over_baseline(self) -> int:
        connection = connections[DEFAULT_DB_ALIAS]
        baseline = self.baseline if connection is self.connection else 0
        return len(connection.atomic_blocks) - baseline

    def check(self, kind: str, what: str) -> None:
        if getattr(_state, "checking", False):
            return  # a guarded call made by another guarded call (SMTP inside locmem, say)
        depth = self.depth_over_baseline()
        if depth > 0:
            stack = "".join(traceback.format_list(_project_frames(traceback.extract_stack()[:-3])))
            with _lock:
                self.violations.append(f"{kind} {what} inside {depth} open atomic block(s), from:\n{stack}")


_current: Guard | None = None


def _project_frames(frames):
    """The stack without the standard library, site-packages and this module: where INTRASA's code
    (or the test) made the call."""
    return [frame for frame in frames
            if "site-packages" not in frame.filename and "/lib/python" not in frame.filename
            and not frame.filename.startswith("<") and frame.filename != __file__] or frames[-8:]


def _guarded(kind: str, describe):
    def wrap(original):
        def guarded(*args, **kwargs):
            guard = _current
            if guard is not None:
                guard.check(kind, describe(*args, **kwargs))
            _state.checking = getattr(_state, "checking", 0) + 1
            try:
                return original(*args, **kwargs)
            finally:
                _state.checking -= 1
        guarded.__wrapped__ = original
        guarded.__network_guard__ = True
        return guarded
    return wrap


def install() -> None:
    """Wrap the network entry points once per test session."""
    import requests
    from django.core.mail.backends import locmem

    if getattr(requests.Session.send, "__network_guard__", False):
        return
    requests.Session.send = _guarded(
        "HTTP", lambda session, request, **kwargs: f"{request.method} {request.url}")(requests.Session.send)
    smtplib.SMTP.connect = _guarded(
        "SMTP", lambda smtp, host="localhost", port=0, *a, **k: f"connect to {host}:{port}")(smtplib.SMTP.connect)
    locmem.EmailBackend.send_messages = _guarded(
        "SMTP", lambda backend, messages: "send of " + ", ".join(
            f"“{m.subject}” to {', '.join(m.to)}" for m in messages))(locmem.EmailBackend.send_messages)


def start() -> Guard:
    global _current
    connection = connections[DEFAULT_DB_ALIAS]
    _current = Guard(connection=connection, baseline=len(connection.atomic_blocks))
    return _current


def stop() -> Guard | None:
    global _current
    guard, _current = _current, None
    return guard


class NetworkInTransaction(AssertionError):
    pass


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "network_in_atomic_allowed: the test makes a network call inside "
                                       "transaction.atomic() on purpose (the guard's own tests)")
    install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    start()
    try:
        result = yield
    finally:
        guard = stop()
    if guard.violations and item.get_closest_marker("network_in_atomic_allowed") is None:
        raise NetworkInTransaction(
            f"{len(guard.violations)} network call(s) inside an open database transaction (DESIGN.md §3: "
            "commit first, then call the provider or send the email):\n\n" + "\n".join(guard.violations))
    return result
