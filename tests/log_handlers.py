"""The console log handler of the test settings (``intrasa.settings.test``)."""
import logging
import sys


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when the record comes: pytest swaps it for each test's
    capture and closes the last one when a worker ends. A live-server thread that answers after its
    test (a sandbox fault holding a request for 30 s) then has nowhere to write; its record is
    dropped instead of filling the CI log with "--- Logging error ---" and a stack."""

    def __init__(self):
        super().__init__(sys.stderr)

    def emit(self, record):
        self.stream = sys.stderr
        if getattr(self.stream, "closed", False):
            return
        super().emit(record)
