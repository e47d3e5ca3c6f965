"""The transaction page, kept rendered between requests and never stale after a change.

Rendering the page (its cards, ledger lines, timeline, the site's frame) costs about ten times what a
logged-in request costs without it (``benchmarks/flames.py --only detail``). Most requests for a page find
nothing changed since the last one: a party refreshing, the live poll's swap. So the page is kept, keyed
by the transaction's **version**, which one small query reads on every request together with the access
check and the header's unread count (``transactions.selectors.transaction_page_version_for_party``):

* **Version.** PostgreSQL triggers add a ``PageChange`` row in the same database transaction as every
  write to a row the page shows: the transaction, its timeline events and ledger entries (their
  postings and accounts are written with the entry and never change), its payouts and their parts,
  its dispute, its refund requests and their return shipments, and a party's name (a row for the
  user, counted for each of their transactions). The version is the number of those rows for the
  transaction and its two parties. Rows are only added, so every commit raises it — whatever made the
  write (a service, ``QuerySet.update()``, psql) and in whatever order concurrent writers commit
  (a sequence's maximum would not: a smaller id can commit after a larger one). The triggers insert;
  they lock nothing, so the lock order of DESIGN §3 is untouched.
* **Read before render.** A miss reads the version first and the page's rows after, so a page is
  kept under a version at most as new as what it shows: a later writer's commit raises the version
  and the kept page is never found again.
* **What is not in the version** is bounded by time instead: the payout card's expected time (the
  whole queue played forward, itself kept ``PAYOUT_OUTLOOK_SECONDS``), the working-day calendar, and
  what the clock alone changes (an extension allowed until a deadline). A page is kept at most
  ``PAGE_SECONDS`` and never past the next deadline it shows.
* **Per request:** the CSRF token (every form's, the header's too) is rendered as a random stand-in kept
  with the page and replaced by the request's token. What else differs is in the key: the viewer (role;
  staff and superuser flags as this request loaded them), the header's unread count, the language, the
  scheme and host (the invitation link is absolute) and the path (the language form sends it back).
  A page with a message to show (after an action) is rendered for that request and not kept, and so is
  a request with a query string: the page reads none, and each string would otherwise keep a page of
  its own (a party could fill Redis, whose eviction would then take the rate-limit counters).

**Two places.** A kept page is in Redis (every web process finds it) and in this process's memory
(``LOCAL_BYTES`` in all, least recently used dropped): a request that finds it here pays no Redis round trip
for it. Both are found by the same key, which the version read of this request computed, and both
hold the page with the time it is fresh until: a copy in memory is as fresh as the one in Redis.

Only on PostgreSQL (the triggers) with a shared cache: ``make run`` on SQLite renders every time.
"""
import datetime as dt
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

# At most this, and never longer than the payout card keeps its replay (``PAYOUT_OUTLOOK_SECONDS``): the
# expected payout time then lags at most twice that. Also how long a page from before a deploy may be served.
PAGE_SECONDS = 60
# A salt of the keys: the release's static files (a kept page links their hashed names, which the
# serving release must have), the same in every process of one release (the web workers share kept
# pages). Tests move it on ``setting_changed`` (``forget_everything``), so that a page rendered under
# other settings (templates, languages) is not served after an override.
_generation = ""
logger = logging.getLogger(__name__)


# The render context's list a card appends its clock-driven times to (see ``keep_page``).
SHOWN_DEADLINES = "shown_deadlines"


def enabled() -> bool:
    """Kept only where the version is real (PostgreSQL's triggers) and the cache is shared by every process
    (the web workers and the Celery worker: a write in one must be seen by the next request in any)."""
    return (getattr(settings, "TRANSACTION_PAGE_CACHE", True) and connection.vendor == "postgresql"
            and not isinstance(caches[DEFAULT_CACHE_ALIAS], LocMemCache))


class PageVersionUnavailable(Exception):
    """The version cannot be read (its function's migration has not run): render the page, keep nothing."""


@dataclass(frozen=True)
class PageVersion:
    """What the per-request query says about the page: the transaction, its version, the viewer's unread count."""

    transaction_pk: int
    version: int
    unread_notification_count: int


def _salt() -> str:
    """The key salt: the static manifest's hash where the files have hashed names (production), else constant."""
    global _generation
    if not _generation:
        from django.contrib.staticfiles.storage import staticfiles_storage

        _generation = getattr(staticfiles_storage, "manifest_hash", "") or "static"
    return _generation


def _key(version: PageVersion, request) -> str:
    """The viewer as this request loaded them, before the version was read: the flags that decide what they
    may see (staff, superuser) are in the key, so a page rendered with flags a commit has since changed is
    never found by a request that loaded the new ones. Their unread count, the language, the scheme and host
    of the absolute links (the invitation), and the path (the language form sends it back; only a request
    without a query string is served from or kept here, ``keepable``)."""
    user = request.user
    viewer = f"{user.pk}.{int(user.is_staff)}{int(user.is_superuser)}.{version.unread_notification_count}"
    where = hashlib.sha256(f"{request.scheme}://{request.get_host()}{request.path}".encode()).hexdigest()
    return f"txn-page:{_salt()}:{version.transaction_pk}:{version.version}:{viewer}:{get_language()}:{where[:32]}"


# Pages kept in this process's memory too (see the module's docstring), as the bytes sent (encoded once, not
# on every response: ~20 µs for a ~9 KB page), bounded by their total size and never one larger than a page
# should be (a transaction with a very long timeline is read from Redis).
LOCAL_BYTES = 4_000_000
LOCAL_PAGE_BYTES = 200_000
# key → ((CSRF stand-in, fresh until, page), monotonic deadline); the stand-in and the page encoded.
_local_pages: "OrderedDict[str, tuple[tuple[bytes, float, bytes], float]]" = OrderedDict()
_local_bytes = 0
_local_lock = threading.Lock()  # gthread workers share a process


def _kept_here(key: str, now: float) -> tuple[bytes, float, bytes] | None:
    """This process's copy, while fresh by the wall clock (deadlines are wall-clock times) and by the
    monotonic one (a wall clock stepped back must not keep it past ``PAGE_SECONDS``)."""
    with _local_lock:
        entry = _local_pages.get(key)
        if entry is None:
            return None
        kept, monotonic_until = entry
        if now >= kept[1] or time.monotonic() >= monotonic_until:
            _forget_here(key)
            return None
        _local_pages.move_to_end(key)
        return kept


def _keep_here(key: str, kept: tuple[str, float, str], now: float) -> tuple[bytes, float, bytes]:
    """Keep ``kept`` (as stored in Redis) in this process's memory, encoded; returns the encoded copy."""
    global _local_bytes
    stand_in, fresh_until, page = kept
    encoded = (stand_in.encode(settings.DEFAULT_CHARSET), fresh_until, page.encode(settings.DEFAULT_CHARSET))
    if len(encoded[2]) > LOCAL_PAGE_BYTES:
        return encoded
    monotonic_until = time.monotonic() + min(PAGE_SECONDS, fresh_until - now)
    with _local_lock:
        _forget_here(key)
        _local_pages[key] = (encoded, monotonic_until)
        _local_bytes += len(encoded[2])
        while _local_bytes > LOCAL_BYTES:
            _forget_here(next(iter(_local_pages)))
    return encoded


def _forget_here(key: str) -> None:
    """Drop this process's copy (with ``_local_lock`` held)."""
    global _local_bytes
    entry = _local_pages.pop(key, None)
    if entry is not None:
        _local_bytes -= len(entry[0][2])


def kept_page(version: PageVersion, request, *, csrf_token: str) -> bytes | None:
    """The page kept for this version and request, with the request's CSRF token in it, as the response's
    bytes; None on a miss or once its deadline has passed. This process's copy first, then Redis's."""
    key, now = _key(version, request), timezone.now().timestamp()
    encoded = _kept_here(key, now)
    if encoded is None:
        try:
            kept = caches[DEFAULT_CACHE_ALIAS].get(key)
        except redis.RedisError:  # the page is rendered instead: logged-in pages work without Redis
            logger.exception("transaction page cache unavailable: rendering the page")
            return None
        if kept is None or now >= kept[1]:
            return None
        encoded = _keep_here(key, kept, now)
    stand_in, _fresh_until, page = encoded
    return page.replace(stand_in, csrf_token.encode(settings.DEFAULT_CHARSET))


def csrf_stand_in() -> str:
    """The CSRF token a kept page is rendered with: random, so no text of the page can contain it."""
    return f"csrf-{secrets.token_hex(16)}"


def keep_page(version: PageVersion, request, *, page: str, stand_in: str,
              deadlines: list[dt.datetime | None]) -> None:
    """Keep ``page`` (rendered with ``stand_in`` as its CSRF token) until ``PAGE_SECONDS`` from now or the
    first of ``deadlines`` still ahead, whichever comes first.

    ``deadlines``: every time at which the page may change by the clock alone. The view gives the
    transaction's and its dispute's dates; a card that shows something the clock changes adds its own
    to the render context's ``shown_deadlines`` (``SHOWN_DEADLINES``), as the payout card does for a promise
    that turns "later than promised" when it passes."""
    now = timezone.now()
    fresh_until = now + dt.timedelta(seconds=min(PAGE_SECONDS, settings.PAYOUT_OUTLOOK_SECONDS))
    for deadline in deadlines:
        if deadline is not None and now < deadline < fresh_until:
            fresh_until = deadline
    seconds = (fresh_until - now).total_seconds()
    if seconds <= 0:
        return
    key, kept = _key(version, request), (stand_in, fresh_until.timestamp(), page)
    _keep_here(key, kept, now.timestamp())
    try:
        caches[DEFAULT_CACHE_ALIAS].set(key, kept, timeout=max(1, int(seconds) + 1))
    except redis.RedisError:
        logger.exception("transaction page cache unavailable: the page is not kept")


def keepable(request) -> bool:
    """Whether this request's page may be served from, and kept in, the cache: not when it has a message to
    show (after an action; that page is this request's alone) or a query string (see the module's note)."""
    from django.contrib.messages import get_messages

    return not request.META.get("QUERY_STRING") and not get_messages(request)


def forget_everything(**kwargs) -> None:
    """``setting_changed``: kept pages were rendered under the old settings (tests only; production
    settings do not change in a running process)."""
    global _generation
    _generation = secrets.token_hex(4)
    forget_kept_here()


def forget_kept_here() -> None:
    """Drop every copy in this process's memory (as another web process sees the cache)."""
    global _local_bytes
    with _local_lock:
        _local_pages.clear()
        _local_bytes = 0


# --- the triggers (their SQL is part of migrations: never change what this generates; add a new function) --

def trigger_sql(name: str, *, table: str, transactions: str = "", parties: str = "",
                changed: str = "") -> tuple[str, str]:
    """``(create, drop)`` SQL for a trigger that adds ``PageChange`` rows after each insert, update or delete
    of a row of ``table``: one per transaction id that the SELECT ``transactions`` returns, or per party (user
    id) that ``parties`` returns, each a query over ``r`` (the row: the new one, the old one on delete).
    ``changed``, a condition over OLD and NEW, skips updates that change nothing the page shows. It is
    tested inside the function, not in a WHEN clause or an ``UPDATE OF`` list, which would make
    PostgreSQL refuse every later change of those columns' types."""
    target, rows = ("escrow_transaction_id", transactions) if transactions else ("user_id", parties)
    function = f"intrasa_page_change_{name}"
    skip = f"IF TG_OP = 'UPDATE' AND NOT ({changed}) THEN RETURN NULL; END IF;" if changed else ""
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    {skip}
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    INSERT INTO transactions_pagechange ({target})
        SELECT changed FROM ({rows}) AS found(changed) WHERE changed IS NOT NULL;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS {function} ON {table};
CREATE TRIGGER {function} AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop = f"DROP TRIGGER IF EXISTS {function} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    return create, drop


def unchanged_but(*columns: str) -> str:
    """A ``changed`` condition: the row changed in a column other than ``columns``, bookkeeping the page never
    shows (a poll's next attempt). Every other column counts, one added later too."""
    dropped = ", ".join(f"'{column}'" for column in columns)
    return f"to_jsonb(OLD) - ARRAY[{dropped}] IS DISTINCT FROM to_jsonb(NEW) - ARRAY[{dropped}]"


def triggers_replaced(*pairs: tuple[tuple[str, str], tuple[str, str]]):
    """A migration operation replacing triggers: each pair is ``(new, old)`` from ``trigger_sql``; backwards puts
    the old ones back. On PostgreSQL only."""
    return _on_postgresql(forward=[new[0] for new, _old in pairs], backward=[old[0] for _new, old in pairs])


def triggers_operation(*triggers: tuple[str, str]):
    """A migration operation installing ``triggers`` (from ``trigger_sql``) on PostgreSQL, nothing elsewhere."""
    return _on_postgresql(forward=[create for create, _drop in triggers],
                          backward=[drop for _create, drop in triggers])


def _on_postgresql(*, forward: list[str], backward: list[str]):
    from django.db import migrations

    def run(statements):
        def operation(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for sql in statements:
                    schema_editor.execute(sql)
        return operation

    return migrations.RunPython(run(forward), run(backward))
