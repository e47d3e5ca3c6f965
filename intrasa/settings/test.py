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

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

# Eager unless a process is started as a real worker for a test (tests/integration).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
