import datetime as dt

from celery import shared_task

from accounts.roles import FINANCE, mail_group
from intrasa.wib import now_wib

from .reconciliation import reconcile_day


@shared_task(acks_late=True, task_reject_on_worker_lost=True)
def nightly_reconciliation(day: str | None = None) -> int:
    """Reconcile yesterday (WIB) with Faspay and SendMe; tell Finance about new differences.

    Idempotent: items are keyed by (day, source, reference, difference), so a second run refreshes
    the evidence instead of duplicating rows. It never changes money.
    """
    target = dt.date.fromisoformat(day) if day else now_wib().date() - dt.timedelta(days=1)
    report = reconcile_day(day=target)
    open_items = [item for item in report.items if item.state == item.State.OPEN]
    if open_items:
        lines = [f"{item.get_source_display()}: {item.reference} — {item.code}" for item in open_items]
        mail_group(FINANCE, f"Reconciliation {target}: {len(open_items)} difference(s)", "\n".join(lines))
    return report.differences
