"""How often a pending bill is asked about (the notification may be lost; polling is the net).

Young bills are paid most often, so they are asked most often; older bills less: every minute for
the first 15 minutes, every 5 minutes up to 2 hours, every 15 minutes up to a day, then hourly.
"""
import datetime as dt

SCHEDULE = [
    (dt.timedelta(minutes=15), dt.timedelta(minutes=1)),
    (dt.timedelta(hours=2), dt.timedelta(minutes=5)),
    (dt.timedelta(days=1), dt.timedelta(minutes=15)),
]
LATE = dt.timedelta(hours=1)


def next_check_at(bill, now: dt.datetime) -> dt.datetime:
    age = now - bill.created_at if bill.created_at else dt.timedelta(0)
    for younger_than, every in SCHEDULE:
        if age < younger_than:
            return now + every
    return now + LATE
