"""Settings for the test suite (``make test``).

The suite runs against the real PostgreSQL and Redis on 127.0.0.1 (DESIGN.md §7); override
``DATABASE_URL`` / ``REDIS_URL`` to point elsewhere. Celery tasks run eagerly unless a test starts
a real worker.
"""
import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intrasa")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("FASPAY_SANDBOX_ENABLED", "true")
# pytest-django runs with DEBUG off, so the sandbox's hand-driven pages ask for these (sandbox.access).
os.environ.setdefault("FASPAY_SANDBOX_USERNAME", "sandbox-operator")
os.environ.setdefault("FASPAY_SANDBOX_PASSWORD", "test-only-sandbox-password")



def _redis_url_of_this_worker(url: str, worker: str, databases: str = "") -> str:
    """pytest-xdist runs the suite in worker processes gw0, gw1, …: each gets its own Redis
    database (the one of ``REDIS_URL`` for gw0, then one lower per worker: /15 → /15, /14, …, or
    the numbers listed in ``REDIS_TEST_DATABASES``, e.g. "12,7", on a Redis shared with others),
    as pytest-django gives each its own PostgreSQL test database (test_<name>_gw0, …). Their
    ``cache.clear()`` and Celery queues can then never meet."""
    from urllib.parse import urlsplit, urlunsplit

    from django.core.exceptions import ImproperlyConfigured

    parts = urlsplit(url)
    index = int(worker.removeprefix("gw"))
    if databases:
        listed = [int(number) for number in databases.split(",") if number.strip()]
        if index >= len(listed):
            raise ImproperlyConfigured(f"pytest-xdist worker {worker} has no Redis database in "
                                       f"REDIS_TEST_DATABASES={databases!r}: list one per worker")
        return urlunsplit(parts._replace(path=f"/{listed[index]}"))
    base = int(parts.path.strip("/") or 0)
    database = base - index
    if database < 0:
        raise ImproperlyConfigured(f"pytest-xdist worker {worker} would need Redis database {database}: "
                                   f"start from a higher one in REDIS_URL or run fewer workers")
    return urlunsplit(parts._replace(path=f"/{database}"))


# Once per worker: processes a test starts (a Celery worker) inherit the adjusted URL and the mark.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("INTRASA_TEST_REDIS_WORKER") != _worker:
    os.environ["REDIS_URL"] = _redis_url_of_this_worker(os.environ["REDIS_URL"], _worker,
                                                        os.environ.get("REDIS_TEST_DATABASES", ""))
    os.environ["INTRASA_TEST_REDIS_WORKER"] = _worker

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

# Eager unless a process is started as a real worker for a test (tests/integration).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["handlers"]["console"] = {"()": "tests.log_handlers.CurrentStderrHandler"}  # noqa: F405
# Django's own console handlers (DEFAULT_LOGGING: "django" when DEBUG is on, which some tests turn on,
# and "django.server") are bound to the stderr of the moment Django was set up, which pytest closes;
# their records go to the console handler above instead.
LOGGING["loggers"]["django"] = {"handlers": [], "propagate": True}  # noqa: F405
LOGGING["loggers"]["django.server"] = {"handlers": ["console"], "propagate": False}  # noqa: F405

# Transactional tests reset the database in a few statements instead of a TRUNCATE of every table
# and a row-by-row reload (tests/fast_postgresql/base.py says how, and why it is the same state).
if DATABASES["default"]["ENGINE"] == "intrasa.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.fast_postgresql"  # noqa: F405
