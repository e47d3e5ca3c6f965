"""The suite itself: a hang is a failure with a traceback, never a CI run held until it is killed.

A test-long run once stopped after 12 of its 14 tests and printed nothing more until CI's limit
ended it, so nobody could tell which test waited on what."""


def test_every_test_has_a_time_limit(request):
    assert request.config.pluginmanager.hasplugin("timeout"), "pytest-timeout is not installed"
    assert 0 < float(request.config.getini("timeout")) <= 600


def test_a_hanging_test_fails_with_every_threads_stack(pytester):
    pytester.makepyfile(test_hang="""
        import threading

        def test_waits_on_a_thread_that_never_ends():
            never = threading.Event()
            waiter = threading.Thread(target=never.wait, name="stuck-request", daemon=True)
            waiter.start()
            waiter.join()
    """)
    result = pytester.runpytest_subprocess("-p", "no:django", "-p", "no:cacheprovider", "--timeout=2")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Timeout*", "*Stack of stuck-request*"])


def test_a_record_logged_after_the_capture_closed_is_dropped_quietly(capsys):
    import io
    import logging
    import sys

    from tests.log_handlers import CurrentStderrHandler

    handler = CurrentStderrHandler()
    closed = io.StringIO()
    closed.close()
    real, sys.stderr = sys.stderr, closed
    try:
        handler.emit(logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Gateway Timeout", (), None))
    finally:
        sys.stderr = real
    assert "Logging error" not in capsys.readouterr().err


def test_every_console_handler_of_the_test_process_writes_to_the_current_stderr():
    import logging

    from tests.log_handlers import CurrentStderrHandler

    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in logging.root.manager.loggerDict]
    bound = [f"{logger.name}: {handler!r}" for logger in loggers for handler in getattr(logger, "handlers", [])
             if type(handler) is logging.StreamHandler and not isinstance(handler, CurrentStderrHandler)]
    assert not bound, bound
