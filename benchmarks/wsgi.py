"""WSGI entry point of the benchmark server (``gunicorn benchmarks.wsgi``).

Cek Transaksi's per-IP limits are lifted by ``benchmarks/settings.py`` (the load generator is one
IP); the counters are still incremented in Redis on every request, so their cost stays measured.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
