"""The Celery application.

Configuration comes from Django settings (``CELERY_*``). Without ``REDIS_URL`` the broker is
kombu's filesystem transport under ``var/celery/``, so ``make run`` has a real worker and beat
without Redis. Periodic jobs are declared in code in ``CELERY_BEAT_SCHEDULE`` (settings/base.py):
future-dated work is a scan of due rows, never a long countdown (DESIGN.md §3).
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intrasa.settings.base")

app = Celery("intrasa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
