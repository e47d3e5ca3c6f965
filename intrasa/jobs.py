"""Scheduling background work from a service without importing the task module.

A service records its state change, then asks for follow-up work (send an email, ask a provider)
once the database transaction commits (DESIGN.md §3). Tasks are thin wrappers that import their
service; if services imported their tasks too, each app's services and tasks would import each
other in a circle. So a service names the task instead, as it names a URL, and the task is looked
up in Celery's registry when the transaction commits — ``delay`` keeps ``CELERY_TASK_ALWAYS_EAGER``
working in tests, which ``send_task`` would not.
"""
import logging
from importlib import import_module

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args) -> None:
    """Run task ``task_name`` (e.g. ``"payments.tasks.withdraw_bill"``) with ``args`` after the
    current database transaction commits (at once outside one).

    A broker that cannot take the task is logged, not raised: the person's change is committed
    already, and every such task has a periodic scan of due rows behind it (DESIGN.md §3)."""
    def send():
        from intrasa.celery import app

        try:
            # The task's module registers it; a web process may not have imported it yet.
            import_module(task_name.rpartition(".")[0])
            app.tasks[task_name].delay(*args)
        except Exception:  # noqa: BLE001 - any broker failure; the periodic scan is the retry
            logger.exception("could not enqueue %s%r; its periodic job will pick it up", task_name, args)

    transaction.on_commit(send)
