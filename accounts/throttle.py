"""Counting attempts in a time window, to slow down password guessing and email floods.

A ``RateLimit`` counts attempts per key (an IP address, an email address, a user id, or several
together) in Django's cache: Redis when ``REDIS_URL`` is set, so every web process shares the
counts, otherwise local memory (one process, good enough for development).

The count is atomic: ``cache.add`` opens the window only if no counter exists, and ``cache.incr``
is a single INCR in Redis (and a locked update in local memory). Reading a count and then writing
it back would let concurrent requests see the same number and all pass. Each attempt is counted
*before* it is judged, so the tenth concurrent request really is the tenth.

Windows are fixed, not sliding: a counter lives ``window`` seconds from its first attempt, then
starts again from zero. An attacker gets at most ``limit`` tries per window, which is what matters.

Keys are hashed, so no email address sits in the cache in plain text. When the cache is
unreachable the request fails loudly rather than running unlimited.
"""
import hashlib
from dataclasses import dataclass

from django.core.cache import cache


def client_ip(request) -> str:
    """The address the request came from, as the WSGI server reports it.

    ``X-Forwarded-For`` is deliberately ignored: anyone can send it, and trusting it would let an
    attacker pick a fresh "IP" per request. Behind a reverse proxy, the proxy setup must put the
    client's address in ``REMOTE_ADDR``.
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    window: int  # seconds

    def _key(self, parts: tuple[str, ...]) -> str:
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
        return f"throttle:{self.name}:{digest}"

    def hit(self, *parts: str) -> bool:
        """Count one attempt for ``parts``; True if it is within the limit, False if refused."""
        key = self._key(parts)
        for _attempt in range(3):
            if cache.add(key, 1, timeout=self.window):
                return True  # the first attempt of a new window
            try:
                count = cache.incr(key)
            except ValueError:
                # The window expired between add() and incr(); open a new one.
                continue
            if count == 1:
                # Django's Redis incr() checks that the key exists and then INCRs; if the key
                # expired in between, INCR re-created it without an expiry. Give it one, or this
                # counter would never reset.
                cache.touch(key, self.window)
            return count <= self.limit
        return True  # the key kept expiring under us: every window so far was fresh

    def clear(self, *parts: str) -> None:
        """Forget the attempts for ``parts`` (a successful login clears its failures)."""
        cache.delete(self._key(parts))


# Per IP address and typed email: guessing one account's password from one place.
LOGIN = RateLimit("login", limit=10, window=15 * 60)
# Per IP address: mass account creation.
SIGNUP = RateLimit("signup", limit=10, window=60 * 60)
# Per IP address and per email address: reset emails used to flood a mailbox, or a victim's inbox
# used to probe which addresses have accounts.
PASSWORD_RESET_PER_IP = RateLimit("password-reset-ip", limit=5, window=60 * 60)
PASSWORD_RESET_PER_EMAIL = RateLimit("password-reset-email", limit=3, window=60 * 60)
# Per user: "send the verification email again".
VERIFICATION_EMAIL = RateLimit("verification-email", limit=1, window=2 * 60)
