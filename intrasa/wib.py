"""Western Indonesia Time (WIB, Asia/Jakarta, UTC+7, no daylight saving) for people and deadlines.

Deadlines are stored as aware UTC datetimes and shown to people as exact WIB times:
``Kamis, 12 Juni 2026 14.00 WIB`` in Bahasa Indonesia, ``Thursday, 12 June 2026 14:00 WIB`` in
English.
"""
import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import get_language

WIB = ZoneInfo("Asia/Jakarta")


def now_wib() -> dt.datetime:
    return timezone.now().astimezone(WIB)


def to_wib(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        raise ValueError("naive datetimes are ambiguous; store aware datetimes")
    return value.astimezone(WIB)


def wib_date(value: dt.datetime) -> dt.date:
    """The WIB calendar day of an instant (the day a SendMe quota or a deadline belongs to)."""
    return to_wib(value).date()


class WibText(str):
    """A formatted WIB time that remembers its instant, so that text stored in one language (a
    notification) can say the same time again in the reader's language (``notifications``)."""

    instant: dt.datetime | None
    with_time: bool

    def __new__(cls, text: str, instant: dt.datetime | None = None, with_time: bool = True) -> "WibText":
        obj = super().__new__(cls, text)
        obj.instant = instant
        obj.with_time = with_time
        return obj


def format_wib(value: dt.datetime | None, *, with_time: bool = True) -> str:
    if value is None:
        return ""
    return WibText(_format_wib(value, with_time=with_time), value, with_time)


def _format_wib(value: dt.datetime, *, with_time: bool) -> str:
    local = to_wib(value)
    indonesian = (get_language() or "id").startswith("id")
    # What ``formats.date_format(local, "l, j F Y")`` writes, from the same translated day and month
    # names, without building a DateFormat per call (a page shows a dozen times; tests.intrasa.test_wib
    # compares the two in both languages).
    date_part = f"{WEEKDAYS[local.weekday()]}, {local.day} {MONTHS[local.month]} {local.year:04d}"
    if not with_time:
        return date_part
    time_part = local.strftime("%H.%M") if indonesian else local.strftime("%H:%M")
    return f"{date_part} {time_part} WIB"
