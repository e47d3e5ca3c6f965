"""Rate limits of the public look-ups (Cek Transaksi, its JSON API and the payment check).

Two budgets per client IP address, shared by every public look-up:

* ``LOOKUPS``: at most 20 look-ups per 10 minutes, whatever the answer. Enough for a person who
  checks a few transactions; too few for a script.
* ``UNKNOWN``: at most 10 answers "no such transaction / payment code" per hour. A reference has
  55 random bits and a check character, so someone who guesses valid-looking references gets
  "unknown" almost every time; after the 10th such answer *every* look-up from that address is
  refused (429) until the hour is over, so a lucky guess is not answered either. Mistyped
  references (failed check character) are refused without touching the database and do not count
  here: they reveal nothing.

The counters follow ``accounts.throttle``: ``cache.add`` opens a fixed window and ``cache.incr``
counts atomically (a single INCR in Redis), so concurrent requests cannot all read the same count
and pass. What this module adds is ``exhausted``, a read without counting, which the "unknown"
budget needs in order to refuse before it looks anything up.
"""
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from accounts.throttle import client_ip  # one policy for which address a request comes from

__all__ = ["LOOKUPS", "UNKNOWN", "LookupLimit", "client_ip"]


@dataclass(frozen=True)
class LookupLimit:
    name: str
    limit: int
    window: int  # seconds; fixed windows from the first counted attempt

    def _key(self, ip: str) -> str:
        # Hashed: no IP address sits in the cache in plain text.
        return f"lookup-limit:{self.name}:{hashlib.sha256(ip.encode()).hexdigest()[:32]}"

    def hit(self, ip: str) -> bool:
        """Count one attempt; True while it is within the limit."""
        key = self._key(ip)
        for _attempt in range(3):
            if cache.add(key, 1, timeout=self.window):
                return self.limit >= 1
            try:
                count = cache.incr(key)
            except ValueError:  # the window expired between add() and incr()
                continue
            if count == 1:
                # INCR re-created a key that expired in between, without an expiry: give it one.
                cache.touch(key, self.window)
            return count <= self.limit
        return True

    def exhausted(self, ip: str) -> bool:
        """True when the limit is already used up (does not count an attempt)."""
        return (cache.get(self._key(ip)) or 0) >= self.limit

    @property
    def window_minutes(self) -> int:
        return self.window // 60


LOOKUPS = LookupLimit("public-lookup", limit=settings.PUBLIC_LOOKUP_LIMIT, window=10 * 60)
UNKNOWN = LookupLimit("public-unknown", limit=settings.PUBLIC_UNKNOWN_LOOKUP_LIMIT, window=60 * 60)
