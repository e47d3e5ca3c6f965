"""Staff changes of the working-day calendar: every override is saved or removed here, with a
reason and an audit row, in one database transaction (the admin calls these).

An override moves the deadlines that count working days — payout promises, refund approval
times, inspection periods — so it is a change of the product's rules, recorded like one. Those
computed when shown (a refund's refund-by date, Cek Transaksi's payout estimate) move at once; the
payout queue's promises (a refund's transfer window, a seller's 1×24) are counted again as soon as
the change commits (``signals.calendar_changed``: disbursements enqueues
``payout_promises_recount_all``; its 15-minute beat job catches up if the broker could not take
it), unless already broken: a promise that has passed stays broken. A deadline stored when its step
began (an approval or reply time, an inspection's end) keeps the date it was given, and the
override counts for every deadline set after it. The cached calendar (``workdays.calendar``) is
forgotten after the change commits, so no process caches the old calendar again between the change
and its commit.
"""
import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from intrasa import locks
from intrasa.errors import ServiceError

from .calendar import forget_overrides
from .models import CalendarOverride
from .signals import calendar_changed


class CalendarOverrideError(ServiceError):
    """A refused calendar change; the message is for the staff member who tried it."""


def calendar_override_values(override: CalendarOverride) -> dict:
    return {"date": override.date.isoformat(), "kind": override.kind, "name": override.name}


def _require(actor, codename: str) -> None:
    if not (actor is not None and actor.is_staff and actor.has_perm(f"workdays.{codename}")):
        raise CalendarOverrideError(_("You are not allowed to change the working-day calendar."), code="forbidden")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CalendarOverrideError(_("Please give a reason."), code="reason_required")
    return reason


def _taken_error(day: dt.date) -> CalendarOverrideError:
    return CalendarOverrideError(_("%(date)s already has an override; change that one instead.")
                                 % {"date": day.strftime("%d-%m-%Y")}, code="date_taken")


def calendar_override_check(*, date, kind: str, name: str, override: CalendarOverride | None = None) -> str:
    """The override's fields, checked (the admin form calls it too, to show the message on the form);
    returns the cleaned name."""
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise CalendarOverrideError(_("Enter a date."), code="invalid_date")
    if kind not in CalendarOverride.Kind.values:
        raise CalendarOverrideError(_("Choose what the day becomes."), code="invalid_kind")
    name = (name or "").strip()
    if not name:
        raise CalendarOverrideError(_("Give the day a name (e.g. the holiday's)."), code="name_required")
    others = CalendarOverride.objects.filter(date=date)
    if override is not None:
        others = others.exclude(pk=override.pk)
    if others.exists():
        raise _taken_error(date)
    return name[:200]


def _after_commit() -> None:
    """The calendar changed: no process keeps the old one, and whoever counts on it is told."""
    forget_overrides()
    calendar_changed.send(sender=CalendarOverride)


def _save(override: CalendarOverride) -> None:
    try:
        with transaction.atomic():
            override.save()
    except IntegrityError:  # the same date saved at the same moment by someone else (unique date)
        raise _taken_error(override.date) from None


def calendar_override_save(*, actor, reason: str, date, kind: str, name: str,
                           override: CalendarOverride | int | None = None) -> CalendarOverride:
    """Add an override (``override`` is None) or change one: the date becomes a public holiday, cuti
    bersama, or a working day against the ``holidays`` package."""
    reason = _require_reason(reason)
    _require(actor, "change_calendaroverride" if override is not None else "add_calendaroverride")
    with transaction.atomic():
        if override is None:
            row, before = CalendarOverride(created_by=actor), None
        else:
            row = locks.lock(CalendarOverride, override.pk if isinstance(override, CalendarOverride) else override)
            before = calendar_override_values(row)
        row.name = calendar_override_check(date=date, kind=kind, name=name, override=row if row.pk else None)
        row.date, row.kind = date, kind
        after = calendar_override_values(row)
        if after == before:
            raise CalendarOverrideError(_("Nothing changed."), code="unchanged")
        _save(row)
        audit_record(actor=actor, action="calendar_override.change" if before else "calendar_override.add",
                     target=row, reason=reason, data={"before": before, "after": after} if before else {"after": after})
        transaction.on_commit(_after_commit)
        return row


def calendar_override_delete(*, override, actor, reason: str) -> None:
    """Remove an override: the date follows the ``holidays`` package again."""
    reason = _require_reason(reason)
    _require(actor, "delete_calendaroverride")
    with transaction.atomic():
        row = locks.lock(CalendarOverride, override.pk if isinstance(override, CalendarOverride) else override)
        audit_record(actor=actor, action="calendar_override.delete", target=row, reason=reason,
                     data={"before": calendar_override_values(row)})
        row.delete()
        transaction.on_commit(_after_commit)
