"""The Celery application.

Configuration comes from Django settings (``CELERY_*``). Without ``REDIS_URL`` the broker is
kombu's filesystem transport under ``var/celery/``, so ``make run`` has a real worker and beat
without Redis. Periodic jobs are declared in code in ``CELERY_BEAT_SCHEDULE`` (settings/base.py):
future-dated work is a scan of due rows, never a long countdown (DESIGN.md §3).
"""
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intrasa.settings.base")

app = Celery("intrasa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_to_start_misconfigured(**kwargs):
    """A worker or beat in production with sandbox or missing Faspay configuration does not start."""
    from intrasa.checks import refuse_to_start_with_errors

    refuse_to_start_with_errors()
