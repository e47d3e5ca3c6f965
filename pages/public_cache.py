"""Cek Transaksi's facts in Redis: a look-up that hits costs no query and no extra round trip.

What is kept: ``pages.selectors.PublicFacts`` as JSON (the public columns, the public timeline,
one ledger fact; no label, no language, no personal data), per reference, for ``FACTS_SECONDS``.
The look-up reads it on the same Redis round trip as its rate-limit counters
(``RateLimit.hit_reserving(read=…)``), so a hit is one Redis call and zero SQL.

**Never stale after a change.** Every key has a *generation*: a random token stored next to it.

* A writer (any save of the transaction, of one of its timeline events, of a ledger entry of
  the transaction, or of what its refund-by date is computed from — a refund's request, payout, return
  shipment or document, and the buyer's payout accounts: every input of ``refunds.selectors.refund_clock``;
  ``pages.apps`` connects the receivers) sets a new token and deletes the facts,
  once at once and once more **after its database transaction commits**.
* A reader that misses reads the token on the same trip, queries the database, and stores the
  facts *only if the token is still the one it read* (a Lua compare-and-set), tagged with it.
* A reader that finds facts uses them only if their tag is the current token.

So facts read from the database before a commit can be stored only before the writer's
after-commit token, and are ignored from then on. Tokens are random (never reused), so a token
key that expired cannot make old facts valid again. Redis's eviction policy must not evict a token
key while facts of the same reference live (``noeviction`` or ``volatile-ttl``; both keys have a
TTL and the token's is far longer).

Only on Redis: with the local-memory cache of ``make run`` the web process and the worker would
each have their own, so every look-up goes to the database there.
"""
import functools
import logging
import secrets

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from intrasa.cache import lua_script, redis_client

FACTS_SECONDS = 10 * 60
GENERATION_SECONDS = 2 * 24 * 60 * 60

# KEYS[1] generation, KEYS[2] facts; ARGV[1] the generation the reader saw ("" = none),
# ARGV[2] the facts (JSON), ARGV[3] their TTL.
_STORE_IF_CURRENT = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
"""
logger = logging.getLogger(__name__)


def _backend():
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache) and getattr(settings, "PUBLIC_STATUS_CACHE", True):
        return backend
    return None


def enabled() -> bool:
    return _backend() is not None


def lookup_keys(reference: str) -> tuple[str, ...]:
    """What a look-up of ``reference`` reads on its one round trip, as raw Redis keys: its generation,
    its facts and the calendar (``keys``, ``calendar_key``); none when the facts are not kept here.
    ``make_key`` without the memcached key check: the reference is canonical ([A-Z0-9-]), the rest constant."""
    backend = _backend()
    if backend is None:
        return ()
    return _raw_lookup_keys(reference, backend.key_func, backend.key_prefix, backend.version)


@functools.lru_cache(maxsize=4096)
def _raw_lookup_keys(reference: str, key_func, key_prefix: str, version: int) -> tuple[str, str, str]:
    """``lookup_keys`` kept per process: what ``BaseCache.make_key`` computes, from the same three settings
    of the cache (so a changed setting is a different entry), ~30 µs a look-up otherwise."""
    from workdays.calendar import OVERRIDES_CACHE_KEY

    generation, facts = _names(reference)
    return (key_func(generation, key_prefix, version), key_func(facts, key_prefix, version),
            key_func(OVERRIDES_CACHE_KEY, key_prefix, version))


def _names(reference: str) -> tuple[str, str]:
    """The cache names of ``reference``'s generation and facts (before the cache's prefix)."""
    return f"public-status:gen:{reference}", f"public-status:facts:{reference}"


def keys(reference: str) -> tuple[str, str]:
    """``(generation key, facts key)`` of ``reference`` as raw Redis keys: the writers' keys are the
    look-up's (``lookup_keys``), by construction."""
    generation, facts, _calendar = lookup_keys(reference)
    return generation, facts


def calendar_key() -> str:
    """The working-day calendar's cached overrides (``workdays.calendar``), as a raw Redis key: a
    look-up reads them on its one round trip, for the payout and refund deadlines."""
    from workdays.calendar import OVERRIDES_CACHE_KEY

    return _backend().make_key(OVERRIDES_CACHE_KEY)


def _decode(value) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def cached_facts(generation, stored):
    """The facts JSON read on the look-up's round trip, if it is tagged with the current
    generation; else None. Also returns the generation to store under after a miss."""
    generation = _decode(generation)
    stored = _decode(stored)
    if stored:
        tag, _sep, facts = stored.partition("|")
        if tag == generation and facts:
            return facts, generation
    return None, generation


def store(reference: str, generation: str, facts_json: str) -> bool:
    """Keep ``facts_json`` for ``reference`` unless a writer changed its generation meanwhile."""
    backend = _backend()
    if backend is None:
        return False
    script = lua_script(redis_client(backend), _STORE_IF_CURRENT)
    return bool(script(keys=list(keys(reference)), args=[generation, facts_json, FACTS_SECONDS]))


def _bump(reference: str) -> None:
    """New generation, facts deleted. A Redis failure is logged, never raised: the write that
    called this (a payment, a transition) must not fail for a cache; facts expire after
    ``FACTS_SECONDS`` at the latest, which bounds what a Redis outage can leave behind."""
    backend = _backend()
    if backend is None:
        return
    generation_key, facts_key = keys(reference)
    try:
        pipeline = redis_client(backend).pipeline(transaction=True)
        pipeline.set(generation_key, secrets.token_hex(8), ex=GENERATION_SECONDS)
        pipeline.delete(facts_key)
        pipeline.execute()
    except redis.RedisError:
        logger.exception("public status cache: could not forget %s", reference)


def forget(reference: str) -> None:
    """The public facts of ``reference`` changed (or are about to): now, and again on commit.

    Once per atomic block: the saves of one step (the transaction's row, its timeline event, its
    ledger entry) bump the generation once now and once on commit — two Redis round trips for a
    step instead of six. A block counts as done only while its on-commit bump is still pending (a
    rolled-back savepoint drops it; the next save registers it again)."""
    if not reference or _backend() is None:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _bump(reference)
        transaction.on_commit(lambda: _bump(reference))
        return
    bumps = connection.__dict__.setdefault("_public_cache_bumps", {})
    if not connection.run_on_commit:
        bumps.clear()  # a new database transaction: nothing of the previous one is pending
    key = (reference, connection.savepoint_ids[-1] if connection.savepoint_ids else None)
    registered = bumps.get(key)
    if registered is not None and any(entry[1] is registered for entry in connection.run_on_commit):
        return  # this block bumped already, and its bump on commit is still to come

    def on_commit():
        _bump(reference)

    _bump(reference)
    transaction.on_commit(on_commit)
    bumps[key] = on_commit


# --- receivers (connected in pages.apps) --------------------------------------------------------

def _reference_of_transaction_id(pk) -> str:
    from transactions.models import EscrowTransaction

    return EscrowTransaction.objects.filter(pk=pk).values_list("reference", flat=True).first() or ""


def _related_reference(instance) -> str:
    """The reference of the transaction ``instance`` belongs to, without a query when the
    transaction is already loaded on it (the services create events and entries that way)."""
    pk = getattr(instance, "escrow_transaction_id", None)
    if pk is None:
        return ""
    cached = instance._state.fields_cache.get("escrow_transaction")
    if cached is not None:
        return cached.reference
    return _reference_of_transaction_id(pk)


def _reference_of_refund_request_id(pk) -> str:
    from refunds.models import RefundRequest

    return (RefundRequest.objects.filter(pk=pk).values_list("escrow_transaction__reference", flat=True).first()
            or "")


def refund_part_saved(sender, instance, raw=False, **kwargs):
    """A refund's return shipment (``refund_request``) or document (``request``) changed: the refunded
    transaction's refund-by date may have (``refunds.policy``)."""
    if raw or _backend() is None:
        return
    field = "refund_request" if hasattr(instance, "refund_request_id") else "request"
    request = instance._state.fields_cache.get(field)
    txn = request._state.fields_cache.get("escrow_transaction") if request is not None else None
    forget(txn.reference if txn is not None else _reference_of_refund_request_id(getattr(instance, f"{field}_id")))


def refund_payout_saved(sender, instance, raw=False, **kwargs):
    """A buyer's refund payout changed (an account named, a transfer failed or arrived): as above. A
    seller's payout changes nothing public, so costs nothing here."""
    if instance.purpose == "buyer_refund":
        related_saved(sender, instance, raw=raw, **kwargs)


def refund_account_saved(sender, instance, raw=False, **kwargs):
    """A payout account changed (added, archived, made the default, checked by the bank, confirmed by Finance,
    or deleted):
    the refund-by date of each open refund of its owner may have, since the clock reads the account a refund
    names or the owner's default one (``refunds.selectors.refund_clock``). A seller's accounts (no open refund
    as a buyer) cost one query here and forget nothing."""
    if raw or _backend() is None:
        return
    from refunds.selectors import refund_references_for_account

    for reference in refund_references_for_account(owner_id=instance.owner_id):
        forget(reference)


def transaction_saved(sender, instance, raw=False, **kwargs):
    if not raw and _backend() is not None:
        forget(instance.reference)


def related_saved(sender, instance, raw=False, **kwargs):
    if not raw and _backend() is not None:
        forget(_related_reference(instance))


def entry_posted(sender, instance, raw=False, **kwargs):
    """A ledger entry was posted: only one on an account the facts read can change them. The ledger's
    service tells which accounts (``JournalEntry.posted_categories``); an entry saved any other way
    is assumed to matter."""
    from .selectors import LEDGER_CATEGORIES_READ

    categories = getattr(instance, "posted_categories", None)
    if categories is not None and not categories & LEDGER_CATEGORIES_READ:
        return
    related_saved(sender, instance, raw=raw, **kwargs)
