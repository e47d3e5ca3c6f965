"""``make run``: the web server plus an embedded Celery worker with beat, no Redis needed.

Without ``REDIS_URL`` the broker is kombu's filesystem transport under ``var/celery`` (see
settings), so tasks really run in a separate worker process, as in production.
"""
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the development web server with a Celery worker and beat alongside."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_true")

    def handle(self, *args, addrport, noreload, **options):
        worker = None
        if os.environ.get("RUN_MAIN") != "true":  # only the reloader's parent starts the worker
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "intrasa", "worker", "--beat", "--loglevel=INFO",
                 "--concurrency=2", "--pool=prefork",
                 f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"],
            )
            # Same process group as the server: Ctrl-C reaches both. SIGTERM to the server alone
            # still stops the worker through the finally block below.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", addrport, use_reloader=not noreload)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
