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
  message's minutes, not the whole window; a refusal for places in flight, when they free
  (``retry_after``).
* **Places for look-ups that may be guesses.** Some budgets count only guesses (an API key that
  opens nothing, a reference that is no transaction's), and whether a request is one is known only
  after the look-up it should be spared. Checking the budget before and counting after would let a
  burst through: every request passes the check before the first count lands. Such a look-up takes
  a *place* first (``reserve``, one atomic round trip): refused when the guesses counted plus the
  places taken reach the limit, so no more look-ups run at once than guesses are left. After the
  look-up the place is kept (``Reservation.keep``: it was a guess, counted) or given back
  (``Reservation.give_back``). A request that finds every free place taken by look-ups in flight
  (not by guesses) waits for one (``RESERVE_WAIT``) instead of being refused for the window: the
  owner's many requests at once are never taken for guesses. Places live in a sorted set next to
  the counter, each with its time; one left behind by a killed process is dropped after
  ``PLACE_SECONDS`` (longer than any request may run).
* **No personal data in the cache.** Keys are hashed (``_digest``). They are a limit's name and a
  hex digest, so they are built with ``make_key``: Django's memcached key check (a loop over every
  character) has nothing to find in them. When the cache is unreachable the request fails loudly
  rather than running unlimited.
"""
import functools
import hashlib
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache

from intrasa.cache import lua_script, redis_client


def client_ip(request) -> str:
    """The address the request came from, as the WSGI server reports it.

    ``X-Forwarded-For`` is deliberately ignored: anyone can send it, and trusting it would let an
    attacker pick a fresh "IP" per request. Behind a reverse proxy, the proxy setup must put the
    client's address in ``REMOTE_ADDR``. django-axes follows the same policy
    (``accounts.login_limits.axes_client_ip``).
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


# An IPv6 client is given a whole /64 network (2^64 addresses; RFC 6177), and picks a fresh address in
# it at will (privacy extensions do so by themselves): a budget per address would be a budget per
# guess. Limits count an IPv6 client by its /64, an IPv4 one by its address.
IPV6_COUNTED_PREFIX = 64


def counted_address(request) -> str:
    """The address a per-address limit counts this request against (``client_ip``, narrowed to its
    /64 network's first address for IPv6; an IPv4-mapped IPv6 address counts as the IPv4 one). Still
    an IP address, so django-axes can store it (``accounts.login_limits.axes_client_ip``)."""
    return network_of(client_ip(request))


@functools.lru_cache(maxsize=4096)
def network_of(address: str) -> str:
    if ":" not in address:  # IPv4 (or "unknown"): the address itself
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, IPV6_COUNTED_PREFIX), strict=False).network_address)


# A place (``RateLimit.reserve``) is held at most this long: longer than a request may run (gunicorn
# kills a worker after 30 s), so only a killed process's place is ever dropped.
PLACE_SECONDS = 60
# How long a request waits for a place while every free one is taken by look-ups in flight, and how
# often it asks again; after that it is refused like a request over the limit.
RESERVE_WAIT = 2.0
RESERVE_POLL = 0.01

# Take a place: KEYS[1] the counter, KEYS[2] its places (a sorted set: token → time taken, in ms);
# ARGV[1] the limit, ARGV[2] this place's token, ARGV[3] PLACE_SECONDS in ms. Returns 0 when the
# guesses counted reach the limit (used up), 1 when the places taken fill the rest (busy: wait),
# 2 when the place is taken.
_TAKE_PLACE = """
local function take(counter, places, limit, token, lifetime)
  local counted = tonumber(redis.call('GET', counter) or '0')
  if counted >= limit then return 0 end
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', places, '-inf', ms - lifetime)
  if counted + redis.call('ZCARD', places) >= limit then return 1 end
  redis.call('ZADD', places, ms, token)
  redis.call('PEXPIRE', places, lifetime)
  return 2
end
"""
_RESERVE = _TAKE_PLACE + """
return take(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]))
"""
# Keep a place (it was a guess): KEYS[1] the counter, KEYS[2] its places; ARGV[1] the token,
# ARGV[2] the window. The count is the one ``hit`` makes, so ``exhausted`` and ``seconds_left`` see it.
_KEEP = """
redis.call('ZREM', KEYS[2], ARGV[1])
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
return count
"""
# KEYS[1] the blocker's counter, KEYS[2] the counter to count, KEYS[3] the blocker's places,
# KEYS[4…] keys to read; ARGV[1] the blocker's limit, ARGV[2] the window of KEYS[2], ARGV[3] a
# token to take a place in the blocker with ("" = take none), ARGV[4] PLACE_SECONDS in ms,
# ARGV[5] the limit of KEYS[2], ARGV[6] the position (1…) of a key read whose value spares the
# place (0 = none). Returns {refused by the blocker, count, place (as _RESERVE; -1 none taken),
# values read…}. Counters are Django cache values (plain integers on Redis), so
# ``exhausted``/``hit`` and this script read the same keys.
_HIT_UNLESS = _TAKE_PLACE + """
local blocked = tonumber(redis.call('GET', KEYS[1]) or '0')
if blocked >= tonumber(ARGV[1]) then return {1, 0, -1} end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2], 'NX')
local result = {0, count, -1}
for i = 4, #KEYS do result[#result + 1] = redis.call('GET', KEYS[i]) end
local spare = tonumber(ARGV[6])
if ARGV[3] ~= '' and count <= tonumber(ARGV[5]) and not (spare > 0 and result[3 + spare]) then
  result[3] = take(KEYS[1], KEYS[3], tonumber(ARGV[1]), ARGV[3], tonumber(ARGV[4]))
end
return result
"""
# Places in flight for budgets counted elsewhere (``Places``): KEYS the place sets, ARGV[1] the token,
# ARGV[2] PLACE_SECONDS in ms. Returns, per set, how many places it holds with this one.
_TAKE_PLACES = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lifetime = tonumber(ARGV[2])
local counts = {}
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ms - lifetime)
  redis.call('ZADD', KEYS[i], ms, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], lifetime)
  counts[i] = redis.call('ZCARD', KEYS[i])
end
return counts
"""


@functools.lru_cache(maxsize=4096)
def _digest(parts: tuple[str, ...]) -> str:
    """What a cache key holds of ``parts`` (an address, a user id…): hashed, so no personal data is in
    the cache. Kept for the recent clients: every limit of a request hashes the same parts."""
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    window: int  # seconds; fixed windows from the first counted attempt

    def _key(self, parts: tuple[str, ...]) -> str:
        return f"ratelimit:{self.name}:{_digest(parts)}"

    def count(self, *parts: str) -> int:
        """Count one attempt for ``parts`` and return how many this window has seen."""
        key = self._key(parts)
        backend = caches[DEFAULT_CACHE_ALIAS]  # this thread's backend instance
        if isinstance(backend, RedisCache):
            redis_key = backend.make_key(key)
            pipeline = redis_client(backend).pipeline(transaction=True)
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
        refused, _place, values = self._hit_unless(blocker, parts, read, reserve=False, spared_by=0)
        return refused, values

    def hit_reserving(self, blocker: "RateLimit", *parts: str, read: tuple[str, ...] = (),
                      spared_by: int = 0) -> tuple["RateLimit | None", "Reservation | None", list]:
        """``hit_unless``, and a place in ``blocker`` (``reserve``) on the same round trip, for a
        look-up that may turn out to be a guess that ``blocker`` counts. Returns ``(the limit that
        refuses or None, the place or None, values of the cache keys read)``.

        ``spared_by`` (1…, a position in ``read``): a value found there answers the request without a
        look-up, so no place is taken (the place is then None and nothing is refused for it)."""
        return self._hit_unless(blocker, parts, read, reserve=True, spared_by=spared_by)

    def _hit_unless(self, blocker, parts, read, *, reserve, spared_by):
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            client = redis_client(backend)
            token = secrets.token_hex(8) if reserve else ""
            keys = [backend.make_key(blocker._key(parts)), backend.make_key(self._key(parts)),
                    backend.make_key(blocker._places_key(parts)), *read]
            refused, count, taken, *values = lua_script(client, _HIT_UNLESS)(keys=keys, args=[
                blocker.limit, self.window, token, PLACE_SECONDS * 1000, self.limit, spared_by])
            if refused:
                return blocker, None, [None] * len(read)
            if int(count) > self.limit:
                return self, None, values
            if taken == _TAKEN:
                return None, Reservation(blocker, parts, token), values
            if taken == _BUSY:  # every free place is a look-up in flight: wait for one
                place = blocker._wait_for_place(parts)
                return (blocker if place is None else None), place, values
            return None, None, values  # spared by a value read
        if blocker.exhausted(*parts):
            return blocker, None, [None] * len(read)
        if not self.hit(*parts):
            return self, None, [None] * len(read)
        if not reserve:
            return None, None, [None] * len(read)
        place = blocker.reserve(*parts)
        return (blocker if place is None else None), place, [None] * len(read)

    def reserve(self, *parts: str) -> "Reservation | None":
        """A place for one look-up that may be a guess this limit counts, or None when the guesses
        counted (with the places of look-ups still in flight) leave none. Keep the place when it
        was a guess, else give it back (``Reservation``); so no burst can look up more guesses than
        the limit. When all free places are taken by look-ups in flight, waits up to
        ``RESERVE_WAIT`` seconds for one to be given back (or kept: then the limit may be used up).

        On Redis one round trip (a Lua script) per try. Other cache backends count the places in a
        second cache value (``add`` + ``incr``: exact within a process, fine for development)."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            token = secrets.token_hex(8)
            taken = self._take_place(backend, parts, token)
            if taken == _TAKEN:
                return Reservation(self, parts, token)
            if taken == _USED_UP:
                return None
            return self._wait_for_place(parts)
        return self._reserve_generic(backend, parts)

    def _take_place(self, backend, parts, token) -> int:
        keys = [backend.make_key(self._key(parts)), backend.make_key(self._places_key(parts))]
        return int(lua_script(redis_client(backend), _RESERVE)(keys=keys, args=[self.limit, token, PLACE_SECONDS * 1000]))

    def _wait_for_place(self, parts) -> "Reservation | None":
        backend = caches[DEFAULT_CACHE_ALIAS]
        token = secrets.token_hex(8)
        deadline = time.monotonic() + RESERVE_WAIT
        while time.monotonic() < deadline:
            time.sleep(RESERVE_POLL)
            taken = self._take_place(backend, parts, token)
            if taken == _TAKEN:
                return Reservation(self, parts, token)
            if taken == _USED_UP:
                return None
        return None

    def _reserve_generic(self, backend, parts) -> "Reservation | None":
        places_key = self._places_key(parts)
        deadline = time.monotonic() + RESERVE_WAIT
        while True:
            if self.exhausted(*parts):
                return None
            backend.add(places_key, 0, timeout=PLACE_SECONDS)
            try:
                taken = backend.incr(places_key)
            except ValueError:  # the places expired between add() and incr()
                continue
            if (backend.get(self._key(parts)) or 0) + taken <= self.limit:
                return Reservation(self, parts, "")
            self._give_back_generic(backend, parts)
            if time.monotonic() >= deadline:
                return None
            time.sleep(RESERVE_POLL)

    def _give_back_generic(self, backend, parts) -> None:
        try:
            if (backend.get(self._places_key(parts)) or 0) > 0:
                backend.decr(self._places_key(parts))
        except ValueError:  # the places expired meanwhile: nothing to give back
            pass

    def _places_key(self, parts: tuple[str, ...]) -> str:
        return self._key(parts) + ":places"

    def exhausted(self, *parts: str) -> bool:
        """True when the limit is already used up (one read; counts nothing)."""
        return (cache.get(self._key(parts)) or 0) >= self.limit

    def clear(self, *parts: str) -> None:
        """Forget the attempts (and places) for ``parts``."""
        cache.delete_many([self._key(parts), self._places_key(parts)])

    def seconds_left(self, *parts: str) -> int:
        """Seconds until the current window for ``parts`` ends, rounded up: how long a refused client
        must wait (``Retry-After``), never less. One more round trip, so it is read only when refusing.
        On Redis it is the counter's time to live in milliseconds (``TTL`` rounds to the nearest
        second, which can be early); 1 when the counter is gone (its window ended since the refusal);
        the whole window where the time left cannot be read (another cache backend), an upper bound."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            left_ms = redis_client(backend).pttl(backend.make_key(self._key(parts)))
            if left_ms == -2:  # no counter: the window ended between the refusal and this read
                return 1
            if left_ms >= 0:  # -1 (no expiry) cannot happen: every count sets one (EXPIRE … NX)
                return max(1, math.ceil(left_ms / 1000))
        return self.window

    def retry_after(self, *parts: str) -> int:
        """Seconds a request refused by this limit must wait: the window's end (``seconds_left``) when
        the limit is used up; when only places of look-ups in flight filled it (``reserve`` waited in
        vain), at most ``PLACE_SECONDS``, by when they are given back or lapse. One more read."""
        left = self.seconds_left(*parts)
        return left if self.exhausted(*parts) else min(left, PLACE_SECONDS)

    @property
    def window_minutes(self) -> int:
        return self.window // 60


_USED_UP, _BUSY, _TAKEN = 0, 1, 2  # what taking a place answers (_TAKE_PLACE)


@dataclass(frozen=True)
class Reservation:
    """A place in ``limit`` for ``parts``, taken before a look-up (``RateLimit.reserve``). Call
    exactly one of ``keep`` (the look-up was a guess: it counts) and ``give_back`` (it was not)."""

    limit: RateLimit
    parts: tuple[str, ...]
    token: str

    def keep(self) -> int:
        """Count the guess (as ``RateLimit.hit`` would) and free the place; one round trip. Returns
        the count, never over the limit while places are kept within ``PLACE_SECONDS``."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            keys = [backend.make_key(self.limit._key(self.parts)),
                    backend.make_key(self.limit._places_key(self.parts))]
            return int(lua_script(redis_client(backend), _KEEP)(keys=keys, args=[self.token, self.limit.window]))
        count = self.limit._count_generic(backend, self.limit._key(self.parts))
        self.limit._give_back_generic(backend, self.parts)
        return count

    def look_up(self, lookup, *, is_guess):
        """``lookup()`` in this place: kept if ``is_guess(result)``, else given back (also when the
        look-up raises). Returns the result."""
        try:
            result = lookup()
        except BaseException:
            self.give_back()
            raise
        if is_guess(result):
            self.keep()
        else:
            self.give_back()
        return result

    def give_back(self) -> None:
        """Free the place without counting anything (one ``ZREM``)."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            redis_client(backend).zrem(backend.make_key(self.limit._places_key(self.parts)), self.token)
        else:
            self.limit._give_back_generic(backend, self.parts)


@dataclass(frozen=True)
class Places:
    """Look-ups in flight, per key, for a budget whose count lives elsewhere (django-axes' failures,
    in the database: ``accounts.login_limits``). The caller takes its places *before* it reads that
    count and gives them back only *after* its own attempt is counted there, so at every moment each
    attempt is in one or the other (or both): ``count + places > limit`` means a look-up now could
    be one too many. Places lapse after ``PLACE_SECONDS`` like ``RateLimit.reserve``'s."""

    name: str

    def _key(self, parts: tuple[str, ...]) -> str:
        return f"places:{self.name}:{_digest(parts)}"

    def take(self, token: str, *keys: tuple[str, ...]) -> list[int]:
        """A place under ``token`` for each key (a tuple of parts); how many each holds with it. On
        Redis one round trip."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            redis_keys = [backend.make_key(self._key(parts)) for parts in keys]
            return [int(n) for n in lua_script(redis_client(backend), _TAKE_PLACES)(
                keys=redis_keys, args=[token, PLACE_SECONDS * 1000])]
        counts = []
        for parts in keys:
            backend.add(self._key(parts), 0, timeout=PLACE_SECONDS)
            try:
                counts.append(backend.incr(self._key(parts)))
            except ValueError:  # lapsed between add() and incr()
                backend.add(self._key(parts), 1, timeout=PLACE_SECONDS)
                counts.append(1)
        return counts

    def give_back(self, token: str, *keys: tuple[str, ...]) -> None:
        """Free the places ``token`` took (nothing if it took none). On Redis one round trip."""
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            pipeline = redis_client(backend).pipeline(transaction=False)
            for parts in keys:
                pipeline.zrem(backend.make_key(self._key(parts)), token)
            pipeline.execute()
            return
        for parts in keys:
            try:
                if (backend.get(self._key(parts)) or 0) > 0:
                    backend.decr(self._key(parts))
            except ValueError:  # lapsed meanwhile
                pass


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
