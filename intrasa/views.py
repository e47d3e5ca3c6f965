"""Site-wide pages that belong to no single app."""
import sys

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET, require_safe

from .http import never_cache
from .unavailable import unavailable


@require_safe  # GET and HEAD: link previews and uptime monitors ask with HEAD
def home(request):
    return render(request, "home.html")


@never_cache
@require_safe
def health(request):
    """Liveness for docker-compose and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- When a part of the service does not answer ------------------------------------------------

def server_error(request):
    """``handler500``. Redis unreachable is not a bug in the request: the rate limits cannot be
    checked, so the request is refused, not served unlimited (``intrasa.ratelimit``), and the person
    is told to try again shortly (503 with ``Retry-After``), in their language, as JSON on the APIs.
    Anything else is Django's own 500."""
    if isinstance(sys.exception(), redis.RedisError):
        return unavailable(request)
    return defaults.server_error(request)


# --- The development outbox (DEBUG only; intrasa.outbox) ------------------------------------

def _debug_only():
    if not settings.DEBUG:
        raise Http404


@login_required
@require_GET
def outbox(request):
    from . import outbox as store

    _debug_only()
    return render(request, "dev/outbox.html", {"messages_sent": store.outbox_list()})


@login_required
@require_GET
def outbox_message(request, name):
    from . import outbox as store

    _debug_only()
    message = store.outbox_get(name)
    if message is None:
        raise Http404
    return render(request, "dev/outbox_message.html", {"message": message})


@login_required
@require_GET
def outbox_html(request, name):
    """The HTML part as its own page, sandboxed: an email is not part of the site."""
    from . import outbox as store

    _debug_only()
    message = store.outbox_get(name)
    if message is None or not message["html"]:
        raise Http404
    response = HttpResponse(message["html"], content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    return response
