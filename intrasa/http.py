"""The site's ``never_cache``: Django's headers, written instead of parsed and merged.

Django's ``never_cache`` sets ``Expires`` (now) and builds ``Cache-Control`` by parsing the header and
merging directives twice (``patch_cache_control``): about 12 µs a response, as much as the rest of a
kept Cek Transaksi answer's own Python work (``benchmarks/README.md``). A view's fresh response has
neither header, so the result is known: both are written as strings. A response that already has
one of them (a view that set its own) goes through Django's merge, so the outcome is always Django's.
"""
import functools
import time
from functools import wraps

from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

# What Django's add_never_cache_headers gives a response without caching headers.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


@functools.lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    return http_date(second)


def add_never_cache(response):
    """``django.utils.cache.add_never_cache_headers``, the same headers."""
    headers = response.headers
    if "Cache-Control" in headers or "Expires" in headers:
        add_never_cache_headers(response)
    else:
        headers["Expires"] = _http_date(int(time.time()))
        headers["Cache-Control"] = NEVER_CACHE
    return response


def never_cache(view_func):
    """``django.views.decorators.cache.never_cache`` for the site's (synchronous) views."""

    @wraps(view_func)
    def _view_wrapper(request, *args, **kwargs):
        if not hasattr(request, "META"):  # as Django's: on a method, use method_decorator
            raise TypeError("never_cache didn't receive an HttpRequest. If you are decorating a classmethod, "
                            "be sure to use @method_decorator.")
        return add_never_cache(view_func(request, *args, **kwargs))

    return _view_wrapper
