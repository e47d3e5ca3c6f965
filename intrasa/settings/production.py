"""Production settings: DEBUG off, secrets required, HTTPS everywhere.

``DJANGO_SETTINGS_MODULE=intrasa.settings.production python manage.py check --deploy`` passes
with the environment of docker-compose.yml once ``.env`` holds the real Faspay credentials and
keys: the provider checks of ``intrasa.checks`` (run by ``check``, ``migrate``, gunicorn and
Celery at start) refuse empty or sandbox credentials and missing, sandbox or test keys.
"""
import os

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DEBUG", "false")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

if "dev-only-insecure-key" in SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured("Set SECRET_KEY in production.")

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_AGE = 60 * 60 * 8
