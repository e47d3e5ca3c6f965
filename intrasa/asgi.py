"""ASGI entry point."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intrasa.settings.base")
application = get_asgi_application()

# Django runs no system checks under ASGI either: a misconfigured production refuses to start here.
from intrasa.checks import refuse_to_start_with_errors  # noqa: E402

refuse_to_start_with_errors()
