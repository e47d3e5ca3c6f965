"""WSGI entry point of the benchmark server (``gunicorn benchmarks.wsgi``).

Cek Transaksi is rate-limited per client IP (``pages.throttle``: 20 look-ups per 10 minutes), and
a load generator on loopback is one IP. ``pages.throttle`` has no setting for its limits, so the
benchmark raises them here, in its own process, without touching ``pages/``: the counters are
still incremented in Redis on every request (the cost stays in the measurement); only the refusal
never triggers. See benchmarks/README.md.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from benchmarks.throttle import raise_public_lookup_limits  # noqa: E402

raise_public_lookup_limits()
