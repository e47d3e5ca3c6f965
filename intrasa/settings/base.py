"""Settings for every environment; the embedded defaults make a fresh clone run.

Every environment variable is read here, through django-environ, and nowhere else. The README's
"Configuration" table lists them with their defaults. ``production.py`` hardens these settings and
``test.py`` adapts them for the test suite.

With nothing configured INTRASA uses SQLite under ``var/``, a filesystem Celery broker (a real
worker and beat, no Redis) and the built-in Faspay sandbox on the same server.
"""
import datetime as dt
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL: links in emails and PDFs, Faspay callback URLs.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Django's admin with INTRASA's staff site (a second factor required): accounts.admin_site.
    "accounts.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    # htmx (served from django-htmx's static files) swaps small status fragments into open pages.
    "django_htmx",
    "intrasa",
    "audit",
    "workdays",
    "accounts",
    "ledger",
    "transactions",
    "notifications",
    "payments.apps.PaymentsConfig",
    "disbursements.apps.DisbursementsConfig",
    "disputes",
    "refunds",
    "pages",
    "documents",
    "sandbox",
    "treasury",
    "privacy",
    "escrow",
    "paylinks",
    "milestones",
    # The partner API (/api/v1/, django-ninja; its docs page's assets come from ninja's static files).
    "ninja",
    "partners",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-csp, with the site's policy built once (intrasa.middleware).
    "intrasa.middleware.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL in the path, query or a cookie would reach PostgreSQL as a 500: refused with 400 first
    # (after LocaleMiddleware, so the refusal is in the visitor's language).
    "intrasa.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed a second factor (staff admin).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: the live status fragments answer htmx's polling (transactions.live).
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    # Who is acting (profile history) and what staff open (the staff access log): privacy.middleware.
    "privacy.middleware.PrivacyMiddleware",
    # Frees the login places a request took (accounts.login_limits) once it is answered.
    "accounts.login_limits.LoginLimitMiddleware",
    # Last, as django-axes asks: turns a refused login into accounts.login_limits.lockout_response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "intrasa.urls"
WSGI_APPLICATION = "intrasa.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
            "builtins": ["intrasa.templatetags.intrasa_format"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'intrasa.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock up front, so the web process and the
    # embedded worker serialise instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
        # Django's, with a reused connection checked by its socket rather than a SELECT 1 round trip.
        DATABASES["default"]["ENGINE"] = "intrasa.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker --------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "intrasa.cache.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    # A task not acknowledged this long (its worker died: acks_late) is delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _celery_queue_dir = VAR_DIR / "celery" / "queue"
    _celery_control_dir = VAR_DIR / "celery" / "control"
    # kombu's filesystem transport expects its folders to exist before the first message.
    for _folder in (_celery_queue_dir, _celery_control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_queue_dir),
        "data_folder_out": str(_celery_queue_dir),
        "control_folder": str(_celery_control_dir),
    }

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# No task runs unbounded: a hung network call or a stuck job ends, and its periodic scan (or
# acks_late redelivery) takes it up again. The soft limit raises SoftTimeLimitExceeded inside the
# task (its transaction rolls back); the hard limit kills the worker child. Both stay well below the
# broker's visibility timeout, so a task still running is never delivered to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=720)
# Sending one email: the SMTP conversation is bounded by EMAIL_TIMEOUT per socket operation.
CELERY_EMAIL_TASK_SOFT_TIME_LIMIT = env.int("CELERY_EMAIL_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_EMAIL_TASK_TIME_LIMIT = env.int("CELERY_EMAIL_TASK_TIME_LIMIT", default=90)
# One queue per kind of job, so that at scale each kind gets its own workers (README, "Scaling
# out") and a backlog of one kind never delays another: payouts (SendMe calls, the daily quota),
# collections (Faspay Debit inquiries, bill clean-up), email (notifications and privacy mails),
# housekeeping (the periodic scans that are not about money in flight, the nightly checks).
# Everything else goes to the default queue. A worker started without ``-Q`` consumes every queue
# listed here, so one worker (``make run``, docker-compose) still runs everything.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "payouts", "collections", "email", "housekeeping")]
CELERY_TASK_ROUTES = {
    # A scan after a calendar change, not money in flight: it must not queue among SendMe calls.
    "disbursements.tasks.recount_payout_promises": {"queue": "housekeeping"},
    "disbursements.tasks.*": {"queue": "payouts"},
    "escrow.tasks.check_bill": {"queue": "collections"},
    "escrow.tasks.poll_pending_bills": {"queue": "collections"},
    "payments.tasks.*": {"queue": "collections"},
    "notifications.tasks.*": {"queue": "email"},
    "privacy.tasks.send_erasure_confirmation": {"queue": "email"},
    "privacy.tasks.send_pending_erasure_confirmations": {"queue": "email"},
    "privacy.tasks.apply_retention": {"queue": "housekeeping"},
    "privacy.tasks.build_personal_data_export": {"queue": "housekeeping"},
    "ledger.tasks.*": {"queue": "housekeeping"},
    "treasury.tasks.*": {"queue": "housekeeping"},
    "transactions.tasks.poll_courier_tracking": {"queue": "housekeeping"},
    "transactions.tasks.send_due_reminders": {"queue": "housekeeping"},
    "disputes.tasks.*": {"queue": "housekeeping"},
    "refunds.tasks.alert_overdue_approvals": {"queue": "housekeeping"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Jakarta"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every periodic job scans the database for due rows; running one twice is harmless.
CELERY_BEAT_SCHEDULE = {
    "transactions-expire-unpaid": {
        "task": "transactions.tasks.expire_unpaid_transactions",
        "schedule": 60.0,
    },
    "escrow-poll-pending-bills": {
        "task": "escrow.tasks.poll_pending_bills",
        "schedule": 30.0,
    },
    "disbursements-dispatch-due": {
        "task": "disbursements.tasks.dispatch_due_disbursements",
        "schedule": 30.0,
    },
    # Before bank transfers start at 05.00, so Finance has the whole working day to ask Faspay for
    # a higher Daily Nominal Total (terms A) or pay another way.
    "disbursements-forecast-promises": {
        "task": "disbursements.tasks.forecast_payout_promises",
        "schedule": crontab(hour=4, minute=30),
    },
    # A change of the working-day calendar enqueues this at once (workdays.signals.calendar_changed);
    # the beat is the net for a change whose task the broker could not take.
    "disbursements-recount-promises": {
        "task": "disbursements.tasks.recount_payout_promises",
        "schedule": 900.0,
    },
    "disbursements-resolve-due": {
        "task": "disbursements.tasks.resolve_due_disbursements",
        "schedule": 15.0,
    },
    "disputes-escalate-overdue": {
        "task": "disputes.tasks.escalate_overdue_disputes",
        "schedule": 900.0,
    },
    "refunds-alert-overdue-approvals": {
        "task": "refunds.tasks.alert_overdue_approvals",
        "schedule": crontab(hour=8, minute=0),  # a morning digest for Finance (WIB)
    },
    "refunds-refresh-tasks": {
        "task": "refunds.tasks.refresh_refund_tasks",
        "schedule": 900.0,
    },
    "refunds-complete-paid": {
        "task": "refunds.tasks.complete_paid_refunds",
        "schedule": 60.0,
    },
    "transactions-poll-tracking": {
        "task": "transactions.tasks.poll_courier_tracking",
        "schedule": 1800.0,
    },
    "milestones-open-due": {
        "task": "milestones.tasks.open_due_milestones",
        "schedule": 300.0,
    },
    "refunds-poll-return-tracking": {
        "task": "refunds.tasks.poll_return_tracking",
        "schedule": 1800.0,
    },
    "escrow-auto-confirm": {
        "task": "escrow.tasks.auto_confirm_due_transactions",
        "schedule": 60.0,
    },
    "transactions-reminders": {
        "task": "transactions.tasks.send_due_reminders",
        "schedule": 300.0,
    },
    "notifications-send-pending": {
        "task": "notifications.tasks.send_pending_emails",
        "schedule": 300.0,
    },
    # The Faspay sandbox settles delayed transfers and re-sends lost callbacks (no-op when off).
    "sandbox-sweep": {
        "task": "sandbox.tasks.sweep",
        "schedule": 10.0,
    },
    "treasury-reconcile-nightly": {
        "task": "treasury.tasks.nightly_reconciliation",  # yesterday (WIB), after the night window
        "schedule": crontab(hour=6, minute=0),
    },
    "ledger-check-nightly": {
        "task": "ledger.tasks.nightly_ledger_check",
        "schedule": crontab(hour=1, minute=30),
    },
    # Deletes or anonymises what is past its retention period (privacy.retention).
    "privacy-apply-retention": {
        "task": "privacy.tasks.apply_retention",
        "schedule": crontab(hour=2, minute=30),
    },
    "privacy-send-pending-erasure-confirmations": {
        "task": "privacy.tasks.send_pending_erasure_confirmations",
        "schedule": 300.0,
    },
    # Partner webhooks due for a (re)try (partners.tasks): backoff is rows, not countdowns.
    "partners-deliver-due-webhooks": {
        "task": "partners.tasks.deliver_due_webhooks",
        "schedule": 30.0,
    },
    "partners-prune-records": {
        "task": "partners.tasks.prune_records",
        "schedule": crontab(hour=3, minute=15),
    },
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses authentication (even with the right password) while a lock holds.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UserBackend",  # Django's ModelBackend, its per-request read compiled once
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "transactions:dashboard"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Login limits (django-axes; accounts/login_limits.py explains the policy). Failures per account
# (canonical email) and per client IP address within the lock-out time lock logins out for that long.
AXES_HANDLER = "accounts.login_limits.LoginAttemptHandler"
# Successful logins are recorded once, by privacy.LoginRecord (with its retention period).
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=30)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.login_limits.axes_username"
AXES_CLIENT_IP_CALLABLE = "accounts.login_limits.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.login_limits.lockout_response"
# Successful logins are logged (who, when, from where) for staff; kept until axes_reset_logs.
AXES_VERBOSE = False

# Staff need a second factor (TOTP app, or a one-time backup code) for the admin
# (accounts/admin_site.py). The issuer is the name authenticator apps show.
OTP_TOTP_ISSUER = "INTRASA"
# TOTP secrets are never shown in the admin, not even to superusers.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Language, time, money ------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Jakarta"
USE_TZ = True
# Rupiah formatting is done by intrasa.money, not by Django's locale-dependent number formats.
USE_THOUSAND_SEPARATOR = False

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Evidence and refund documents (intrasa.uploads): the largest file of each content type.
# The web server in front must accept request bodies of at least the largest of these.
UPLOAD_MAX_BYTES = {
    "image": env.int("UPLOAD_MAX_IMAGE_BYTES", default=5 * 1024 * 1024),
    "video": env.int("UPLOAD_MAX_VIDEO_BYTES", default=25 * 1024 * 1024),
    "document": env.int("UPLOAD_MAX_DOCUMENT_BYTES", default=10 * 1024 * 1024),
}

# --- Email ----------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
# Seconds for each blocking SMTP operation (connect, send): without it a mail server that stops
# answering holds the sending worker forever (Django's default is no timeout).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
if DEBUG and not env.str("EMAIL_URL", default=""):
    # Development (make run): one line per email on the console, the full message at /dev/outbox/.
    EMAIL_BACKEND = "intrasa.outbox.OutboxEmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="INTRASA <no-reply@intrasa.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The data protection officer (UU PDP Pasal 53): named on the privacy page for requests and complaints.
PRIVACY_OFFICER_EMAIL = env.str("PRIVACY_OFFICER_EMAIL", default="privasi@intrasa.co.id")

# --- Security defaults valid everywhere ----------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# With Redis, sessions are read from the cache and written through to the database, the record: a
# logged-in page costs no session SELECT. Django's own logout, password change and session cycling
# delete the cached copy too; code that ends someone's sessions itself calls
# ``intrasa.sessions.sessions_end`` (tests/security/test_session_cache.py). Without Redis
# the cache is per process, where a logout in one process would leave the session alive in another:
# sessions stay in the database alone.
# ``intrasa.sessions`` is ``cached_db`` that keeps pages and logouts working while Redis is down.
SESSION_ENGINE = "intrasa.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): only INTRASA's own files run or load. No inline script,
# no inline event handler, no inline style anywhere (templates use static/js and static/css; the
# QR codes are inline SVG elements, not images). Forms post only to INTRASA: Faspay's payment page
# is a link the buyer follows (payments.Bill.redirect_url), never a form target. The generated PDFs
# opt out (documents.views: a PDF viewer is not a page), uploaded files get "sandbox" of their own
# (intrasa.uploads.private_file_response).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (django-permissions-policy): INTRASA uses no device or browser feature. The
# list holds the features Chromium recognises (an unknown name only earns a console warning).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen", "geolocation",
        "gyroscope", "hid", "idle-detection", "magnetometer", "microphone", "midi", "payment",
        "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "serial", "usb",
        "xr-spatial-tracking",
    )
}

# --- Business rules (whole Rupiah) ----------------------------------------------------------
# Transactions (each one an invitation to a buyer) one seller may create per WIB calendar day. Those a
# buyer starts from the seller's payment link are not invitations and do not count (paylinks.services).
INTRASA_INVITATIONS_PER_DAY = env.int("INTRASA_INVITATIONS_PER_DAY", default=20)
# Unpaid transactions one buyer may hold at once from payment links (all links, all sellers), so a few
# accounts pressing "Buy" and never paying cannot sell out a seller's link (paylinks.services).
INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER = env.int("INTRASA_PAYMENT_LINK_UNPAID_PER_BUYER", default=3)
# Smallest and largest transaction price a seller may create.
INTRASA_MIN_TRANSACTION_AMOUNT = env.int("INTRASA_MIN_TRANSACTION_AMOUNT", default=10_000)
INTRASA_MAX_TRANSACTION_AMOUNT = env.int("INTRASA_MAX_TRANSACTION_AMOUNT", default=1_000_000_000)
# An invitation that the buyer neither accepts nor pays expires after this many days.
INTRASA_INVITATION_EXPIRY_DAYS = env.int("INTRASA_INVITATION_EXPIRY_DAYS", default=7)
# Hours the buyer has to pay after accepting (the payment window of a bill).
INTRASA_PAYMENT_WINDOW_HOURS = env.int("INTRASA_PAYMENT_WINDOW_HOURS", default=24)
INTRASA_INSPECTION_DAYS_DEFAULT = env.int("INTRASA_INSPECTION_DAYS_DEFAULT", default=3)
INTRASA_INSPECTION_DAYS_MAX = env.int("INTRASA_INSPECTION_DAYS_MAX", default=14)
# Reminders: before auto-confirm, and to a seller who has not shipped.
INTRASA_AUTO_CONFIRM_REMINDER_HOURS = env.int("INTRASA_AUTO_CONFIRM_REMINDER_HOURS", default=24)
# Courier tracking (transactions.tracking): the sandbox by default, a tracking aggregator in production.
TRACKING_BASE_URL = env.str("TRACKING_BASE_URL", default=f"{SITE_URL}/sandbox/tracking").rstrip("/")
TRACKING_API_KEY = env.str("TRACKING_API_KEY", default="sandbox")
TRACKING_HTTP_TIMEOUT_SECONDS = env.float("TRACKING_HTTP_TIMEOUT_SECONDS", default=10.0)

# INTRASA's own escrow bank account, for buyers who pay by bank transfer (verified only from the
# bank statement that finance imports).
INTRASA_ESCROW_BANK_NAME = env.str("INTRASA_ESCROW_BANK_NAME", default="Bank Central Asia (BCA)")
INTRASA_ESCROW_BANK_ACCOUNT = env.str("INTRASA_ESCROW_BANK_ACCOUNT", default="8830123456")
INTRASA_ESCROW_BANK_HOLDER = env.str("INTRASA_ESCROW_BANK_HOLDER", default="PT INTRASA ESCROW INDONESIA")

# SendMe limits from the operational terms (section A); changes to the daily total are recorded
# in the database by the disbursements app, this is the starting value.
SENDME_MAX_BANK_TRANSFER = env.int("SENDME_MAX_BANK_TRANSFER", default=50_000_000)
SENDME_MAX_EWALLET_TOPUP = env.int("SENDME_MAX_EWALLET_TOPUP", default=5_000_000)
SENDME_DAILY_NOMINAL_TOTAL = env.int("SENDME_DAILY_NOMINAL_TOTAL", default=50_000_000)
# How long the transaction page keeps the queue's replay for payouts' expected times
# (disbursements.selectors.payout_outlooks): an expected time shown is at most this old.
PAYOUT_OUTLOOK_SECONDS = env.int("PAYOUT_OUTLOOK_SECONDS", default=60)
# The smallest part a split may leave (banks and e-wallets refuse a transfer of a few Rupiah).
SENDME_MIN_BANK_TRANSFER = env.int("SENDME_MIN_BANK_TRANSFER", default=10_000)
SENDME_MIN_EWALLET_TOPUP = env.int("SENDME_MIN_EWALLET_TOPUP", default=10_000)
# Terms A: instructions between 22.00 and 05.00 WIB follow the destination's rules. Policy: hold
# bank transfers until 05.00 WIB; e-wallet top-ups go out at night unless this says otherwise.
SENDME_NIGHT_HOLD_BANK = env.bool("SENDME_NIGHT_HOLD_BANK", default=True)
SENDME_NIGHT_HOLD_EWALLET = env.bool("SENDME_NIGHT_HOLD_EWALLET", default=False)
# A part being sent belongs to its worker this long; after that it is resolved by status inquiry.
SENDME_SEND_LEASE_SECONDS = env.int("SENDME_SEND_LEASE_SECONDS", default=120)

# Cek Transaksi and the payment check, per client IP: look-ups per 10 minutes, and answers
# "unknown" per hour (the stricter one stops anyone from enumerating references).
PUBLIC_LOOKUP_LIMIT = env.int("PUBLIC_LOOKUP_LIMIT", default=20)
PUBLIC_UNKNOWN_LOOKUP_LIMIT = env.int("PUBLIC_UNKNOWN_LOOKUP_LIMIT", default=10)

# --- Partner API (partners/) -------------------------------------------------------------
# Requests per API key per minute (intrasa.ratelimit.PARTNER_API), answered with RateLimit-* headers.
PARTNER_API_RATE_LIMIT = env.int("PARTNER_API_RATE_LIMIT", default=120)
# A rotated API key keeps working this long, so the partner can deploy the new one.
PARTNER_KEY_ROTATION_GRACE_HOURS = env.int("PARTNER_KEY_ROTATION_GRACE_HOURS", default=24)
# Webhook delivery: timeouts per attempt (seconds), backoff 30 s doubling up to 6 h, for 3 days.
PARTNER_WEBHOOK_CONNECT_TIMEOUT = env.float("PARTNER_WEBHOOK_CONNECT_TIMEOUT", default=3.05)
PARTNER_WEBHOOK_READ_TIMEOUT = env.float("PARTNER_WEBHOOK_READ_TIMEOUT", default=10.0)
PARTNER_WEBHOOK_FIRST_RETRY_SECONDS = env.int("PARTNER_WEBHOOK_FIRST_RETRY_SECONDS", default=30)
PARTNER_WEBHOOK_MAX_RETRY_SECONDS = env.int("PARTNER_WEBHOOK_MAX_RETRY_SECONDS", default=6 * 60 * 60)
PARTNER_WEBHOOK_RETRY_DAYS = env.int("PARTNER_WEBHOOK_RETRY_DAYS", default=3)
# How long an Idempotency-Key's first answer is kept (a key reused later is a new request).
PARTNER_IDEMPOTENCY_DAYS = env.int("PARTNER_IDEMPOTENCY_DAYS", default=7)
PARTNER_WEBHOOK_SCAN_BATCH = env.int("PARTNER_WEBHOOK_SCAN_BATCH", default=200)
# http:// and private addresses (loopback, LAN) as webhook and redirect URLs: development only.
PARTNER_WEBHOOK_ALLOW_PRIVATE = env.bool("PARTNER_WEBHOOK_ALLOW_PRIVATE", default=DEBUG)

# --- Faspay ---------------------------------------------------------------------------------
# Without credentials INTRASA talks to its own sandbox (sandbox/) on SITE_URL.
FASPAY_SANDBOX_ENABLED = env.bool("FASPAY_SANDBOX_ENABLED", default=DEBUG)
# A deliberate staging set-up may run the sandbox with DEBUG off (system check sandbox.E001); its
# control page, control API and payment page then ask for these (HTTP basic auth, sandbox.E002).
FASPAY_SANDBOX_ALLOW_IN_PRODUCTION = env.bool("FASPAY_SANDBOX_ALLOW_IN_PRODUCTION", default=False)
FASPAY_SANDBOX_USERNAME = env.str("FASPAY_SANDBOX_USERNAME", default="")
FASPAY_SANDBOX_PASSWORD = env.str("FASPAY_SANDBOX_PASSWORD", default="")
# The base URLs default to the sandbox only while it is enabled, otherwise to Faspay's production hosts.
FASPAY_DEBIT_BASE_URL = env.str(
    "FASPAY_DEBIT_BASE_URL",
    default=f"{SITE_URL}/sandbox/debit" if FASPAY_SANDBOX_ENABLED else "https://web.faspay.co.id",
).rstrip("/")
FASPAY_MERCHANT_ID = env.str("FASPAY_MERCHANT_ID", default="99999")
FASPAY_MERCHANT_NAME = env.str("FASPAY_MERCHANT_NAME", default="INTRASA")
FASPAY_USER_ID = env.str("FASPAY_USER_ID", default="bot99999")
FASPAY_PASSWORD = env.str("FASPAY_PASSWORD", default="sandbox-password")
SENDME_BASE_URL = env.str(
    "SENDME_BASE_URL",
    default=f"{SITE_URL}/sandbox/sendme" if FASPAY_SANDBOX_ENABLED else "https://sendme.faspay.co.id",
).rstrip("/")
SENDME_PARTNER_ID = env.str("SENDME_PARTNER_ID", default="99999")
SENDME_SOURCE_ACCOUNT = env.str("SENDME_SOURCE_ACCOUNT", default="9920017573")
SENDME_CHANNEL_ID = env.str("SENDME_CHANNEL_ID", default="88001")
# PEM files. When unset in development a key pair is generated under var/keys on first use.
SENDME_PRIVATE_KEY_PATH = env.str("SENDME_PRIVATE_KEY_PATH", default="")
SENDME_PUBLIC_KEY_PATH = env.str("SENDME_PUBLIC_KEY_PATH", default="")
# Faspay's public key, to check the signature of SendMe callbacks (the sandbox's own key in
# development when empty).
SENDME_FASPAY_PUBLIC_KEY_PATH = env.str("SENDME_FASPAY_PUBLIC_KEY_PATH", default="")
# A SendMe callback whose X-TIMESTAMP is further than this from now is refused (no late replays);
# a replay inside the window is answered without a second status inquiry.
SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS = env.int("SENDME_CALLBACK_TIMESTAMP_TOLERANCE_SECONDS", default=300)
FASPAY_HTTP_TIMEOUT_SECONDS = env.float("FASPAY_HTTP_TIMEOUT_SECONDS", default=15.0)
# bill_total units per Rupiah: 1 = whole Rupiah, 100 = two implied decimals (confirm at onboarding).
FASPAY_DEBIT_AMOUNT_SCALE = env.int("FASPAY_DEBIT_AMOUNT_SCALE", default=1)

# --- SendMe treasury (treasury/) -------------------------------------------------------------
# VAT on the domestic Withdrawal Fee (terms A: Rp 5.000 excluding VAT), in basis points. 11%: the
# 12% PPN of 2025 is charged on 11/12 of the price for everything but luxury goods (PMK 131/2024),
# so a payment-service fee bears an effective 11% (treasury/rules.py).
TREASURY_WITHDRAWAL_VAT_BASIS_POINTS = env.int("TREASURY_WITHDRAWAL_VAT_BASIS_POINTS", default=1100)
# Terms C: the monthly transaction target agreed with Faspay (0 = none agreed, no penalty), and the
# first month counted for the three-monthly penalty periods ("YYYY-MM"; empty = calendar quarters).
TREASURY_MONTHLY_TRANSACTION_TARGET = env.int("TREASURY_MONTHLY_TRANSACTION_TARGET", default=0)
TREASURY_PENALTY_FIRST_MONTH = env.str("TREASURY_PENALTY_FIRST_MONTH", default="")
# Terms B (overseas withdrawals) apply only to a Partner that is an overseas entity without an
# Indonesian bank account. INTRASA is a domestic company: off unless such an entity is declared.
TREASURY_OVERSEAS_ENTITY = env.bool("TREASURY_OVERSEAS_ENTITY", default=False)
# Terms C: the month INTRASA went live on SendMe ("YYYY-MM"): penalty periods are three months
# counted from the month after it (the terms' simulation). TREASURY_PENALTY_FIRST_MONTH overrides.
TREASURY_GO_LIVE_MONTH = env.str("TREASURY_GO_LIVE_MONTH", default="")
# Terms C: the penalty applies only to merchants who first joined on or after 1 April 2025:
# the day INTRASA joined Faspay ("YYYY-MM-DD"; empty = unknown, no penalty is forecast).
TREASURY_MERCHANT_JOINED_ON = env.str("TREASURY_MERCHANT_JOINED_ON", default="")
# The treasury page asks SendMe for the balance while staff wait: a short timeout.
TREASURY_BALANCE_TIMEOUT_SECONDS = env.float("TREASURY_BALANCE_TIMEOUT_SECONDS", default=5.0)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
