"""INTRASA's URLs plus three reference views, the cheapest responses the same server can give:

* ``/bench/bare/``: the whole middleware stack (sessions, locale, CSRF, auth, messages) and no work.
  "page ÷ bare" is what the page itself costs on top of Django and gunicorn.
* ``/bench/limited/``: the bare view plus Cek Transaksi's exact per-IP count (``intrasa.ratelimit``,
  the same one-round-trip Lua script). The floor of any look-up that the rate limits must count
  exactly: no Cek Transaksi answer can cost less.
* ``/bench/logged-in/``: the bare view plus what every logged-in page pays before its own work: the
  session (``cached_db``: one Redis round trip), the user (one SQL query), the session-hash check and
  the second factor's middleware. The floor of the transaction page.
"""
from django.http import HttpResponse
from django.urls import include, path

from intrasa import ratelimit


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


def limited(request):
    refused, _values = ratelimit.PUBLIC_LOOKUPS.hit_unless(ratelimit.PUBLIC_UNKNOWN, ratelimit.counted_address(request))
    return HttpResponse(b"ok" if refused is None else b"refused", content_type="text/plain")


def logged_in(request):
    if not request.user.is_authenticated:
        return HttpResponse(b"not logged in", status=403, content_type="text/plain")
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/limited/", limited, name="bench_limited"),
    path("bench/logged-in/", logged_in, name="bench_logged_in"),
    path("", include("intrasa.urls")),
]
