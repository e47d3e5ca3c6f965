"""INTRASA's URLs plus ``/bench/bare/``: the cheapest Django response the same server can give.

The bare view goes through the same middleware stack (sessions, locale, CSRF, auth, messages), so
"page ÷ bare" is what the page itself costs on top of Django and gunicorn.
"""
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("intrasa.urls")),
]
