"""When an email that failed to go out is tried again, and when it is given up on.

Each failed attempt waits twice as long as the one before, from ``FIRST_WAIT`` up to ``LONGEST_WAIT``,
so an address the mail server refuses every time costs it a handful of conversations, not one
every sweep forever, and cannot take the sweep's whole batch from the emails behind it. After
``MAX_ATTEMPTS`` (5 min, 10, 20, … then every 6 h: about a day and a half of trying, long enough to
outlast a mail server's outage) the email is given up. A refusal that is about this email itself —
its recipients refused, or its content rejected, with a permanent (5xx) answer — gives up after
``MAX_ATTEMPTS_REFUSED``: trying the same address again will not change the answer. A 5xx about the
server, our sender address or our credentials is everyone's problem, not this email's, and gets the
full patience.
"""
import datetime as dt
import smtplib
from typing import NamedTuple

FIRST_WAIT = dt.timedelta(minutes=5)
LONGEST_WAIT = dt.timedelta(hours=6)
MAX_ATTEMPTS = 12
MAX_ATTEMPTS_REFUSED = 3


def _permanent(code) -> bool:
    return isinstance(code, int) and 500 <= code < 600


def is_refused(failure: BaseException) -> bool:
    """Whether the mail server refused this email for good (a 5xx about its recipients or content)."""
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        answers = list(failure.recipients.values())
        return bool(answers) and all(_permanent(code) for code, _message in answers)
    if isinstance(failure, smtplib.SMTPDataError):
        return _permanent(failure.smtp_code)
    return False


def wait_after(attempts: int) -> dt.timedelta:
    """How long to wait before the next try, after ``attempts`` failed ones (1 or more)."""
    return min(FIRST_WAIT * 2 ** min(attempts - 1, 16), LONGEST_WAIT)


def next_try(*, attempts: int, failure: BaseException, now: dt.datetime) -> dt.datetime | None:
    """When to try again after the ``attempts``-th failure, or None to give up."""
    limit = MAX_ATTEMPTS_REFUSED if is_refused(failure) else MAX_ATTEMPTS
    if attempts >= limit:
        return None
    return now + wait_after(attempts)


class AfterFailure(NamedTuple):
    attempts: int  # failed attempts, this one included
    retry_at: dt.datetime | None  # when to try again; None once given up
    given_up_at: dt.datetime | None


def after_failure(*, previous_attempts: int, failure: BaseException, now: dt.datetime) -> AfterFailure:
    """What an outbox row records after a failed send: its attempts, and its next try or the give-up."""
    attempts = previous_attempts + 1
    retry_at = next_try(attempts=attempts, failure=failure, now=now)
    return AfterFailure(attempts, retry_at, now if retry_at is None else None)
