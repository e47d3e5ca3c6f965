"""Review of bfd9b89 ("Every rate-limit refusal says the time left"): the time said must never be
earlier than the window's end, and every 429 of the site says it, logins included.

Redis ``TTL`` rounds the remaining time to the *nearest* second (60.3 s left reads as 60), so a
``Retry-After`` taken from it is up to half a second early: a client that honours it exactly is
refused again. ``Retry-After`` is relative to the moment of the answer, so it must be at least the
time still left on the counter once the answer has been given (``PTTL`` read after it): any correct
value passes, whatever the machine's speed.
"""
import datetime as dt

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone, translation

from intrasa import ratelimit
from intrasa.cache import redis_client
from transactions.references import generate_reference

pytestmark = pytest.mark.django_db

IP = "127.0.0.1"  # the test client's REMOTE_ADDR


def _redis_key(limit: ratelimit.RateLimit, *parts: str):
    backend = caches["default"]
    return redis_client(backend), backend.make_and_validate_key(limit._key(parts))


def _warm(client):
    """One answered look-up first, so the refused one is quick (its first request in a worker is not)."""
    assert client.get(reverse("pages:check_transaction_api", args=[generate_reference()])).status_code != 429


def _refused_with(client, left_ms: int):
    """A look-up refused with ``left_ms`` milliseconds left on the used-up window; the answer and the
    milliseconds still left once it was given."""
    _warm(client)
    redis, key = _redis_key(ratelimit.PUBLIC_LOOKUPS, IP)
    redis.set(key, ratelimit.PUBLIC_LOOKUPS.limit + 1, px=left_ms)
    refused = client.get(reverse("pages:check_transaction_api", args=[generate_reference()]))
    return refused, redis.pttl(key)


def test_retry_after_is_never_earlier_than_the_end_of_the_window(client):
    # Used up, with 60.3 s left: the Redis TTL of that reads 60, the wait is 61 whole seconds.
    refused, left_ms = _refused_with(client, 60_300)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) * 1000 >= left_ms, (refused["Retry-After"], left_ms)


def test_the_minutes_said_are_never_earlier_than_the_end_of_the_window(client):
    """minutes_to_wait promises "never too early"; fed a TTL rounded down it says 1 minute for 60.45 s."""
    refused, left_ms = _refused_with(client, 60_450)
    if left_ms <= 60_000:
        pytest.skip("the request took longer than the fraction of a second the test leaves")
    assert "2 menit" in refused.json()["message"], refused.json()["message"]


def test_a_login_lockout_says_retry_after_like_every_other_429(client, seller):
    """The lead's coverage test lists RateLimit objects only; django-axes' lockout is the site's
    other 429 and carries no Retry-After."""
    from django.conf import settings

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": seller.email, "password": "salah-sandi-123"})
    refused = client.post(reverse("accounts:login"), {"username": seller.email, "password": "salah-sandi-123"})
    assert refused.status_code == 429
    assert refused.has_header("Retry-After")


def test_the_login_lockout_message_says_one_minute_in_the_singular():
    from accounts.login_limits import lockout_message

    with translation.override("en"):
        message = lockout_message(timezone.now() + dt.timedelta(seconds=30))
    assert "1 minutes" not in message, message
