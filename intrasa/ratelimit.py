"""The one rate-limit mechanism of INTRASA (everything except logins, which django-axes limits).

A ``RateLimit`` counts attempts per key (an IP address, a user id, or several parts together) in
fixed windows in Django's cache: Redis when ``REDIS_URL`` is set, so every web process shares the
counts, otherwise local memory (one process, good enough for ``make run``). Every limit of the
site is declared at the bottom of this module, so the whole policy reads in one screen.

* **Atomic.** Each attempt is counted *before* it is judged, with a single atomic increment, so
  twenty concurrent requests against a limit of ten let exactly ten through. Reading a count and
  writing it back would let them all read the same number and pass.
* **One round trip.** On Redis a hit is one pipelined ``INCR`` + ``EXPIRE … NX`` (the expiry is set
  only when the key has none, so a window is fixed from its first attempt and a counter can never be
  left without one). The Redis client is taken once per cache connection and reused, never built per
  call. Other cache backends use ``add`` + ``incr`` (two calls, fine for development).
* **Fixed windows.** A counter lives ``window`` seconds from its first attempt, then starts from zero.
  An attacker gets at most ``limit`` tries per window, which is what matters.
* **Refusals say the time left.** A refused client is told when its window ends (``seconds_left``:
  the counter's remaining time to live, read only when refusing), in ``Retry-After`` and in the
  message's minutes, not the whole window.
* **No personal data in the cache.** Keys are hashed. When the cache is unreachable the request
  fails loudly rather than running unlimited.
"""
import hashlib
import math
import weakref
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache

# One Redis client per cache backend instance (Django keeps one instance per thread); the client
# shares that backend's connection pool.
_redis_clients: "weakref.WeakKeyDictionary[RedisCache, object]" = weakref.WeakKeyDictionary()


def client_ip(request) -> str:
    """The address the request came from, as the WSGI server reports it.

    ``X-Forwarded-For`` is deliberately ignored: anyone can send it, and trusting it would let an
    attacker pick a fresh "IP" per request. Behind a reverse proxy, the proxy setup must put the
    client's address in ``REMOTE_ADDR``. django-axes follows the same policy
    (``accounts.login_limits.axes_client_ip``).
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


# KEYS[1] the blocker's counter, KEYS[2] the counter to count, KEYS[3…] keys to read;
# ARGV[1] the blocker's limit, ARGV[2] the window of KEYS[2]. Counters are Django cache values
# (plain integers on Redis), so ``exhausted``/``hit`` and this script read the same keys.
_HIT_UNLESS = """
local blocked = tonumber(redis.call('GET', KEYS[1]) or '0')
if blocked >= tonumber(ARGV[1]) then return {1, 0} end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2], 'NX')
local result = {0, count}
for i = 3, #KEYS do result[#result + 1] = redis.call('GET', KEYS[i]) end
return result
"""
_hit_unless_scripts: "weakref.WeakKeyDictionary[object, Any]" = weakref.WeakKeyDictionary()


def _redis_client(backend: RedisCache):
    client = _redis_clients.get(backend)
    if client is None:
        client = backend._cache.get_client(write=True)
        _redis_clients[backend] = client
    return client


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    window: int  # seconds; fixed windows from the first counted attempt

    def _key(self, parts: tuple[str, ...]) -> str:
        digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:40]
        return f"ratelimit:{self.name}:{digest}"

    def count(self, *parts: str) -> int:
        """Count one attempt for ``parts`` and return how many this window has seen."""
        key = self._key(parts)
        backend = caches[DEFAULT_CACHE_ALIAS]  # this thread's backend instance
        if isinstance(backend, RedisCache):
            redis_key = backend.make_and_validate_key(key)
            pipeline = _redis_client(backend).pipeline(transaction=True)
            pipeline.incr(redis_key)
            pipeline.expire(redis_key, self.window, nx=True)
            count, _expiry_set = pipeline.execute()
            return int(count)
        return self._count_generic(backend, key)

    def _count_generic(self, backend, key: str) -> int:
        for _attempt in range(3):
            if backend.add(key, 1, timeout=self.window):
                return 1  # the first attempt of a new window
            try:
                return backend.incr(key)
            except ValueError:  # the window expired between add() and incr(): open a new one
                continue
        return 1  # the key kept expiring under us: every window so far was fresh

    def hit(self, *parts: str) -> bool:
        """Count one attempt for ``parts``; True if it is within the limit, False if refused."""
        return self.count(*parts) <= self.limit

    def hit_unless(self, blocker: "RateLimit", *parts: str, read: tuple[str, ...] = ()) -> tuple["RateLimit | None", list]:
        """Refuse when ``blocker`` is used up for ``parts`` (counting nothing); otherwise count one
        attempt here. Returns ``(the limit that refuses or None, values of the cache keys read)``.

        On Redis this is **one round trip** (one Lua script, atomic): ``GET`` the blocker's counter,
        ``INCR`` + ``EXPIRE … NX`` this one, and ``GET`` the raw Redis keys in ``read`` (a caller's
        cached data that the same request needs, fetched on the same trip). Elsewhere it is
        ``exhausted`` + ``hit`` and the keys read nothing.
        """
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            client = _redis_client(backend)
            script = _hit_unless_scripts.get(client)
            if script is None:
                script = _hit_unless_scripts[client] = client.register_script(_HIT_UNLESS)
            keys = [backend.make_and_validate_key(blocker._key(parts)), backend.make_and_validate_key(self._key(parts)),
                    *read]
            refused, count, *values = script(keys=keys, args=[blocker.limit, self.window])
            if refused:
                return blocker, [None] * len(read)
            return (None if int(count) <= self.limit else self), values
        if blocker.exhausted(*parts):
            return blocker, [None] * len(read)
        return (None if self.hit(*parts) else self), [None] * len(read)

    def exhausted(self, *parts: str) -> bool:
        """True when the limit is already used up (one read; counts nothing)."""
        return (cache.get(self._key(parts)) or 0) >= self.limit

    def clear(self, *parts: str) -> None:
        """Forget the attempts for ``parts``."""
        cache.delete(self._key(parts))

    def seconds_left(self, *parts: str) -> int:
        """Seconds until the current window for ``parts`` ends, rounded up: how long a refused client
        must wait (``Retry-After``), never less. One more round trip, so it is read only when refusing.
        On Redis it is the counter's time to live in milliseconds (``TTL`` rounds to the nearest
        second, which can be early); 1 when the counter is gone (its window ended since the refusal);
        the whole window where the time left cannot be read (another cache backend), an upper bound."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            left_ms = _redis_client(backend).pttl(backend.make_and_validate_key(self._key(parts)))
            if left_ms == -2:  # no counter: the window ended between the refusal and this read
                return 1
            if left_ms >= 0:  # -1 (no expiry) cannot happen: every count sets one (EXPIRE … NX)
                return max(1, math.ceil(left_ms / 1000))
        return self.window

    @property
    def window_minutes(self) -> int:
        return self.window // 60


def minutes_to_wait(seconds: int) -> int:
    """Whole minutes to tell a person who must wait ``seconds``: rounded up, at least one, so "try
    again in N minutes" is never too early."""
    return max(1, math.ceil(seconds / 60))


# --- every limit of the site (logins: django-axes, settings AXES_*) ---------------------------

# Per IP address: mass account creation. Every submission counts, since the form answers
# "does this address have an account?".
SIGNUP = RateLimit("signup", limit=10, window=60 * 60)
# Per IP address and per matched account: reset emails used to flood a mailbox, or a victim's
# inbox used to probe which addresses have accounts.
PASSWORD_RESET_PER_IP = RateLimit("password-reset-ip", limit=5, window=60 * 60)
PASSWORD_RESET_PER_ACCOUNT = RateLimit("password-reset-account", limit=3, window=60 * 60)
# Per user: "send the verification email again".
VERIFICATION_EMAIL = RateLimit("verification-email", limit=1, window=2 * 60)
# Cek Transaksi, its JSON API and the payment check, per client IP (pages.views):
# * LOOKUPS: look-ups per 10 minutes, whatever the answer;
# * UNKNOWN: answers "no such transaction / payment code" per hour. After the last one *every*
#   look-up from that address is refused until the hour is over, so a lucky guess among many
#   unknown ones is not answered either. Mistyped references are refused without a look-up and
#   do not count.
PUBLIC_LOOKUPS = RateLimit("public-lookup", limit=settings.PUBLIC_LOOKUP_LIMIT, window=10 * 60)
PUBLIC_UNKNOWN = RateLimit("public-unknown", limit=settings.PUBLIC_UNKNOWN_LOOKUP_LIMIT, window=60 * 60)
# Payment-link QR codes (paylinks.views) per client IP: each PNG is drawn on request (CPU), and a
# seller prints a handful. The link page itself shares PUBLIC_UNKNOWN: an address that guessed too
# many tokens that are no link's gets no answer, not even for a right guess.
PAYLINK_QR_IMAGES = RateLimit("paylink-qr", limit=30, window=10 * 60)
# PDF renderings (documents.rendering) per user: a rendering costs about 0.75 s of CPU; a cached
# document is free and does not count.
DOCUMENT_RENDERS = RateLimit("document-render", limit=20, window=10 * 60)
# Partner API requests per API key (partners.api), per clock-aligned minute: the window's end is
# known, so the answers carry exact RateLimit-Reset and Retry-After headers.
PARTNER_API = RateLimit("partner-api", limit=settings.PARTNER_API_RATE_LIMIT, window=60)
# Partner API guesses per client IP: keys no key has (unknown id or wrong secret). Keys are too
# long to guess, but each attempt costs a database look-up. Once used up, every keyed request from
# that address is refused before the look-up (even with a right key) until the hour is over. A
# revoked or expired key of the partner's own is answered 401 and does not count (partners.api).
PARTNER_API_BAD_KEYS = RateLimit("partner-api-bad-key", limit=20, window=60 * 60)
