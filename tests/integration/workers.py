"""Real Celery workers for integration tests: a subprocess on the test database and Redis."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from intrasa import celery_app

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
QUEUE = "intrasa-integration"


def start_worker(live_server, settings, log, *, pool="solo", concurrency=1):
    db = connection.settings_dict
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "intrasa.settings.test",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false",
           "CELERY_VISIBILITY_TIMEOUT": "3", "SITE_URL": live_server.url,
           "SENDME_BASE_URL": f"{live_server.url}/sandbox/sendme", "FASPAY_SANDBOX_ENABLED": "true",
           "SENDME_PRIVATE_KEY_PATH": str(DATA / "test-only-merchant-key.pkcs8.pem"),
           "SENDME_PUBLIC_KEY_PATH": str(DATA / "test-only-merchant-key.public.pem"),
           "SENDME_SEND_LEASE_SECONDS": "3", "SENDME_NIGHT_HOLD_BANK": "false", "FASPAY_HTTP_TIMEOUT_SECONDS": "60"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "intrasa", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
         "-Q", QUEUE,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        # Its own process group, so that stopping it reaches the prefork pool's children too.
        start_new_session=True)


def stop_worker(worker, *, grace=30):
    """A warm shutdown (SIGTERM: running tasks finish), then SIGKILL to the whole process group.
    A pool child left behind would keep its connection to the test database and its place in the
    broker's queue after the test has ended, where the next test's flush waits on it."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(worker, signal.SIGKILL)
    worker.wait(timeout=10)


def _signal_group(worker, signum):
    try:
        os.killpg(worker.pid, signum)
    except ProcessLookupError:
        pass


def wait_for(predicate, timeout=60, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def real_broker():
    """Send tasks to Redis for the worker instead of running them inline."""
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)  # leftovers of an earlier, interrupted run
    yield
    celery_app.conf.task_always_eager = True


