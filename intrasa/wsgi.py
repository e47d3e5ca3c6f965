"""WSGI entry point (gunicorn intrasa.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intrasa.settings.base")
application = get_wsgi_application()

# Django runs no system checks in the WSGI stack: a misconfigured production refuses to start here.
from intrasa.checks import refuse_to_start_with_errors  # noqa: E402

refuse_to_start_with_errors()
