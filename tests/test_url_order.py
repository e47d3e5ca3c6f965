"""Every path of the site resolves to its own pattern: none is shadowed by a pattern tried before it.

``intrasa/urls.py`` puts the public pages (Cek Transaksi and its JSON API) first because Django
tries patterns in order and those are the most looked-up paths. This checks that no reordering
ever lets an earlier pattern take another's path.
"""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

SAMPLES = {"str": "INT-AAAA-BBBB-CCCC", "int": "7", "slug": "contoh", "uuid": "12345678-1234-5678-1234-567812345678",
           "path": "a/b"}


def routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)
    # The admin's and the sandbox's patterns are regular expressions of their own packages.
    return [route for route in walk(get_resolver().url_patterns)
            if not route.startswith(("admin/", "sandbox/", "^")) and "^" not in route]


def concrete(route: str) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES[m.group(1) or "str"], route)


@pytest.mark.parametrize("route", routes())
def test_each_path_reaches_its_own_pattern(route):
    assert resolve(concrete(route)).route == route


def test_the_public_look_ups_are_tried_first():
    """The most looked-up public paths come before the escrow flows' and the apps' includes."""
    tried = [str(p.pattern) for p in get_resolver().url_patterns]
    pages_position = next(n for n, p in enumerate(get_resolver().url_patterns)
                          if isinstance(p, URLResolver) and p.urlconf_name.__name__ == "pages.urls")
    assert pages_position <= 2, tried
