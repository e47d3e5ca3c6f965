"""How often a pending bill is asked about (the notification may be lost; polling is the net).

Young bills are paid most often, so they are asked most often; older bills less: every minute for
the first 15 minutes, every 5 minutes up to 2 hours, every 15 minutes up to a day, then hourly.

A status inquiry that fails is asked again on the same schedule, so INTRASA learns what happened as
soon as Faspay answers again. Once Faspay has not answered about a bill for ``INQUIRY_ALERT_AFTER``
(from the first failure since its last answer), the audit log and finance are told, once per run of
failures, and the bill shows in the admin's queue "Faspay does not answer" until Faspay answers or
the bill is settled (``payments.services.bill_inquiry_failed``).
"""
import datetime as dt

SCHEDULE = [
    (dt.timedelta(minutes=15), dt.timedelta(minutes=1)),
    (dt.timedelta(hours=2), dt.timedelta(minutes=5)),
    (dt.timedelta(days=1), dt.timedelta(minutes=15)),
]
LATE = dt.timedelta(hours=1)
INQUIRY_ALERT_AFTER = dt.timedelta(days=1)


def next_check_at(bill, now: dt.datetime) -> dt.datetime:
    age = now - bill.created_at if bill.created_at else dt.timedelta(0)
    for younger_than, every in SCHEDULE:
        if age < younger_than:
            return now + every
    return now + LATE


# A Post Data that got no answer is re-posted (same bill_no) soon, then less often; it stops once
# the bill would have expired at Faspay anyway (a paid one still arrives by notification, and the
# nightly reconciliation lists every bill whose creation was never confirmed).
CREATION_RETRIES = [dt.timedelta(seconds=s) for s in (30, 60, 120, 300, 900, 1800, 3600)]


def creation_retry_at(bill, now: dt.datetime) -> dt.datetime | None:
    if bill.expires_at <= now:
        return None
    attempts = max(getattr(bill, "creation_attempts", 1), 1)
    return now + CREATION_RETRIES[min(attempts - 1, len(CREATION_RETRIES) - 1)]
