"""Settings for ``make bench`` only: production settings, on a throw-away database, over plain HTTP.

Everything that decides *where* the benchmark writes is forced here (not ``setdefault``), so a
developer's ``.env`` or shell can never point it at a real database:

* PostgreSQL database ``intrasa_bench`` (dropped and created by ``benchmarks/run.py``;
  ``BENCH_DATABASE_URL`` to move it), Redis database 13 (``BENCH_REDIS_URL``).
* ``SITE_URL`` = the gunicorn that ``run.py`` starts on a free loopback port (``BENCH_PORT``); the
  Faspay sandbox is mounted there and INTRASA's Faspay/SendMe base URLs point at it.
* Celery runs eagerly, in the process that enqueues (no worker to start or wait for).

Deviations from production, each because the benchmark runs over plain HTTP on loopback:
no HTTPS redirect and no ``Secure`` cookies; static files through the plain storage (no
``collectstatic`` manifest); emails go to the dummy backend (SMTP time is not INTRASA's);
MD5 password hashing (only the seeding creates users; no request logs in with a password).
"""
import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
BENCH_PORT = int(os.environ.get("BENCH_PORT", "8765"))
_SITE = f"http://127.0.0.1:{BENCH_PORT}"

os.environ.update({
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intrasa_bench"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    "SITE_URL": _SITE,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "FASPAY_SANDBOX_ENABLED": "true",
    "FASPAY_SANDBOX_ALLOW_IN_PRODUCTION": "true",
    # A staging-shaped set-up (intrasa.checks, sandbox.E002): its own Debit credentials and sandbox operator.
    "FASPAY_USER_ID": "bench-user",
    "FASPAY_PASSWORD": "bench-only-debit-password",
    "FASPAY_SANDBOX_USERNAME": "bench-operator",
    "FASPAY_SANDBOX_PASSWORD": "bench-only-sandbox-password",
    "FASPAY_DEBIT_BASE_URL": f"{_SITE}/sandbox/debit",
    "SENDME_BASE_URL": f"{_SITE}/sandbox/sendme",
    "SENDME_PRIVATE_KEY_PATH": str(_REPO / "tests" / "data" / "test-only-merchant-key.pkcs8.pem"),
    "SENDME_PUBLIC_KEY_PATH": str(_REPO / "tests" / "data" / "test-only-merchant-key.public.pem"),
    # Daytime rules whatever the hour the benchmark runs, and a daily total that never binds.
    "SENDME_NIGHT_HOLD_BANK": "false",
    # A few sellers create every transaction of the run: the daily invitation cap must not bind.
    "INTRASA_INVITATIONS_PER_DAY": "1000000",
    # The load generator is one IP: lift Cek Transaksi's per-IP limits (the counters still run).
    "PUBLIC_LOOKUP_LIMIT": "1000000000",
    "PUBLIC_UNKNOWN_LOOKUP_LIMIT": "1000000000",
    "SENDME_NIGHT_HOLD_EWALLET": "false",
    "SENDME_DAILY_NOMINAL_TOTAL": str(10**15),
    "FASPAY_HTTP_TIMEOUT_SECONDS": "30",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "LOG_LEVEL": "ERROR",
    "EMAIL_URL": "consolemail://",
})

from intrasa.settings.production import *  # noqa: E402,F403

ROOT_URLCONF = "benchmarks.urls"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "bench-media"  # noqa: F405
SNAP_DEV_KEY_DIR = str(VAR_DIR / "bench-keys")  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405  (production's default, stated for clarity)

# WhiteNoise looks for collected static files; the pages measured here serve none.
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")
