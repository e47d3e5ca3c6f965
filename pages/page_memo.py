"""Cek Transaksi's page, kept rendered per process for the visitors who would all see it the same;
and its JSON API's body, kept the same way (``kept_json``: the same facts, calendar, language and
time-dependent date; it has no path, token or visitor in it).

Why: with the facts in Redis (``pages.public_cache``) a look-up costs one Redis round trip and no
query, and rendering the page's templates was then five times the cost of everything else
(``benchmarks/profiles/page.txt``). The page is a pure function of a few inputs, so it is rendered
once per distinct set of them and reused.

**Never stale, by construction.** The key is everything the kept HTML is computed from:

* the transaction's public facts **as JSON** (``PublicFacts.to_json``: read from Redis only when
  tagged with the reference's current generation, or fresh from the database), not a version
  number: different facts are a different key, whatever happened to generations or to Redis;
* the working-day calendar's cached overrides, raw (the payout and refund deadlines use them);
* the active language, and the request's full path (the form's value and the language switch's
  ``next`` field are rendered from it).

Nothing else of the request goes in, so the page is only kept for visitors it cannot differ for:
not logged in (no name, no badge), no message waiting to be shown; and only for facts the page is a
function of (``may_keep``). A milestone's page is never kept: its plan's other milestones are read
from the database on every look-up (``pages.selectors.public_plan``). The page of a refund still owed
is the one page that also depends on the time of the look-up: its refund-by date (a party's step that
passed its deadline goes to staff with more time: ``refunds.policy.refund_reaches_buyer_by``). That
date, computed for this look-up, is part of its key (``varies_with``).

The CSRF token of the language switch is per visitor: the page
is rendered with a per-process random mark in its place, and each response gets its own token
(``get_token``, which also sets the cookie as a normal render would).

Bounded: at most ``ENTRIES`` pages per process (least recently used dropped), and an entry is
dropped after ``public_cache.FACTS_SECONDS`` like the facts themselves. With ``DEBUG`` on
(templates edited while the server runs) nothing is kept.
"""
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from .public_cache import FACTS_SECONDS

ENTRIES = 2048
# Stands for the CSRF token in a kept page: random per process, never sent to anyone (each
# response has it replaced), so no visitor's input can forge it.
_CSRF_MARK = f"csrf{secrets.token_hex(16)}"

_pages: "OrderedDict[tuple, tuple[float, bytes | str]]" = OrderedDict()  # pages as bytes, JSON bodies as text
_lock = threading.Lock()  # gunicorn's gthread workers share a process


def _same_for_every_visitor(request) -> bool:
    """Nothing of this visitor would be on the page: not logged in, no message to show.
    ``len`` of the message storage loads it without marking anything as shown."""
    return (not settings.DEBUG and not request.user.is_authenticated
            and len(get_messages(request)) == 0)


def _kept(key: tuple) -> bytes | str | None:
    with _lock:
        entry = _pages.get(key)
        if entry is None:
            return None
        stored_at, html = entry
        if time.monotonic() - stored_at > FACTS_SECONDS:
            del _pages[key]
            return None
        _pages.move_to_end(key)
        return html


def _keep(key: tuple, html: bytes | str) -> None:
    with _lock:
        _pages[key] = (time.monotonic(), html)
        _pages.move_to_end(key)
        while len(_pages) > ENTRIES:
            _pages.popitem(last=False)


def forget_all() -> None:
    """Drop every kept page (tests)."""
    with _lock:
        _pages.clear()


def forget_on_setting_changed(**kwargs) -> None:
    forget_all()


def may_keep(facts) -> bool:
    """Whether the page of these public facts is a function of the key (see above)."""
    return not facts.plan_token


def kept_json(render, *, facts_json: str, calendar_raw, varies_with: str = "") -> str:
    """The JSON API's body (``render()``), kept like the page: it is computed from the same facts,
    calendar and time-dependent date, in the active language, and has nothing of the visitor."""
    key = ("json", get_language(), facts_json,
           calendar_raw if isinstance(calendar_raw, bytes | str | None) else repr(calendar_raw), varies_with)
    body = _kept(key)
    if body is None:
        body = render()
        _keep(key, body)
    return body


def render_public_page(request, template_name: str, context, *, facts_json: str,
                       calendar_raw, varies_with: str = "") -> HttpResponse:
    """``render(request, template_name, context())``, from the kept page when one was rendered from
    the same facts, calendar, language and path, and the same ``varies_with``: what the page shows
    that depends on the time of the look-up (see the module's docstring). ``context`` is called only
    when the page is rendered."""
    if not _same_for_every_visitor(request):
        return render(request, template_name, context())
    # The path and query string: what the page's ``request.get_full_path()`` is made of (without escaping them).
    key = (get_language(), request.path, request.META.get("QUERY_STRING", ""), facts_json,
           calendar_raw if isinstance(calendar_raw, bytes | str | None) else repr(calendar_raw), varies_with)
    page = _kept(key)
    if page is None:  # kept as the bytes sent: encoded once, not on every response
        page = render_to_string(template_name, {**context(), "csrf_token": _CSRF_MARK}, request).encode(
            settings.DEFAULT_CHARSET)
        _keep(key, page)
    # A visitor's page has no form that needs a token (base.html: the language switch asks members
    # only); a kept page that has one gets this visitor's token, never another's.
    mark = _CSRF_MARK.encode()
    if mark in page:
        page = page.replace(mark, get_token(request).encode())
    return HttpResponse(page, content_type=f"text/html; charset={settings.DEFAULT_CHARSET}")
