"""Rate limits on sign-up and password-reset requests (intrasa.ratelimit). Login limits (django-axes)
are tested in tests/security/test_logins.py."""
import threading
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from intrasa import ratelimit as throttle
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SIGNUP = reverse("accounts:signup")
RESET = reverse("accounts:password_reset")
RESET_DONE = reverse("accounts:password_reset_done")


# --- the counter ----------------------------------------------------------------------------

def test_a_limit_allows_exactly_its_number_of_attempts_per_key():
    limit = throttle.RateLimit("test", limit=3, window=60)
    assert [limit.hit("a") for _ in range(5)] == [True, True, True, False, False]
    assert limit.hit("b")  # another key has its own count
    limit.clear("a")
    assert limit.hit("a")


def test_a_window_ends_and_the_count_starts_again():
    limit = throttle.RateLimit("test-window", limit=1, window=1)
    assert limit.hit("a")
    assert not limit.hit("a")
    time.sleep(1.2)
    assert limit.hit("a")


def test_a_counter_left_without_an_expiry_gets_one():
    """What Redis leaves behind when a key expires between Django's existence check and INCR."""
    limit = throttle.RateLimit("test-ttl", limit=5, window=1)
    key = limit._key(("a",))
    cache.set(key, 0, timeout=None)
    assert limit.hit("a")
    time.sleep(1.2)
    assert cache.get(key) is None


def test_concurrent_attempts_cannot_slip_under_the_limit():
    """The counter is one atomic INCR: 20 simultaneous attempts against a limit of 10 let exactly 10 in."""
    limit = throttle.RateLimit("test-race", limit=10, window=60)
    barrier = threading.Barrier(20)
    results = []

    def attempt():
        barrier.wait(timeout=10)
        results.append(limit.hit("same-key"))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results.count(True) == 10 and results.count(False) == 10


# --- sign-up --------------------------------------------------------------------------------

def _signup_data(n):
    return {"full_name": f"Orang Baru {n}", "email": f"baru{n}@example.co.id", "phone": f"0812 3456 {n:04d}",
            "password1": "kopi-tubruk-pagi-hari", "password2": "kopi-tubruk-pagi-hari"}


def test_ten_sign_ups_per_hour_from_one_ip(english):
    client = english
    for n in range(10):
        response = client.post(SIGNUP, _signup_data(n), REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 302, n
        client.logout()  # also forgets every cookie: read the refusal in English again
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(SIGNUP, _signup_data(10), REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429
    assert not User.objects.filter(email="baru10@example.co.id").exists()
    messages = [str(m) for m in response.context["messages"]]
    # The window opened with the first sign-up, moments ago: nearly the whole hour is left.
    assert "Too many sign-up attempts from your network in the last hour. Please try again in 60 minutes." in messages
    assert 3595 <= int(response["Retry-After"]) <= 3600
    assert response.context["form"]["email"].value() == "baru10@example.co.id"
    assert "kopi-tubruk" not in response.content.decode()

    assert client.post(SIGNUP, _signup_data(11), REMOTE_ADDR="10.0.0.2").status_code == 302


def test_failed_sign_up_attempts_count_too(client):
    for _ in range(10):
        assert client.post(SIGNUP, {}, REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.post(SIGNUP, _signup_data(1), REMOTE_ADDR="10.0.0.1").status_code == 429


# --- password reset -------------------------------------------------------------------------

def test_five_reset_requests_per_hour_from_one_ip(client, mailoutbox):
    users = [UserFactory(email=f"reset{n}@example.co.id") for n in range(7)]
    for user in users[:5]:
        assert client.post(RESET, {"email": user.email}, REMOTE_ADDR="10.0.0.1").url == RESET_DONE
    assert len(mailoutbox) == 5

    response = client.post(RESET, {"email": users[5].email}, REMOTE_ADDR="10.0.0.1")

    # The same answer as always, so the limit reveals nothing, but no email.
    assert response.status_code == 302 and response.url == RESET_DONE
    assert len(mailoutbox) == 5

    client.post(RESET, {"email": users[6].email}, REMOTE_ADDR="10.0.0.2")
    assert [mail.to for mail in mailoutbox[5:]] == [[users[6].email]]


def test_three_reset_emails_per_hour_to_one_address(client, seller, mailoutbox):
    for n in range(3):
        client.post(RESET, {"email": seller.email}, REMOTE_ADDR=f"10.0.1.{n}")
    assert len(mailoutbox) == 3

    response = client.post(RESET, {"email": seller.email.upper()}, REMOTE_ADDR="10.0.1.9")

    assert response.status_code == 302 and response.url == RESET_DONE
    assert len(mailoutbox) == 3


def test_a_flooding_ip_does_not_use_up_the_owners_allowance(client, seller, mailoutbox):
    for _ in range(5):
        client.post(RESET, {"email": "nobody@example.co.id"}, REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        client.post(RESET, {"email": seller.email}, REMOTE_ADDR="10.0.0.1")  # refused by the IP limit
    assert mailoutbox == []

    client.post(RESET, {"email": seller.email}, REMOTE_ADDR="10.0.0.2")
    assert len(mailoutbox) == 1


def test_a_hit_is_one_round_trip_on_a_reused_redis_client(monkeypatch):
    """On Redis a hit is one pipelined INCR + EXPIRE NX, on a client taken once, not per call."""
    import redis
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    assert isinstance(backend, RedisCache)  # the suite runs on Redis (DESIGN.md §7)
    limit = throttle.RateLimit("round-trips", limit=5, window=60)
    limit.hit("a")  # the first hit takes the client from the cache backend
    clients_made, round_trips, single_commands = [], [], []
    execute = redis.client.Pipeline.execute

    def counting_execute(pipeline, *args, **kwargs):
        round_trips.append([command[0][0] for command in pipeline.command_stack])
        return execute(pipeline, *args, **kwargs)

    init = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        clients_made.append(1)
        return init(self, *args, **kwargs)

    with monkeypatch.context() as patch:  # undone before the cache is cleared after the test
        patch.setattr(redis.Redis, "__init__", counting_init)
        patch.setattr(redis.client.Pipeline, "execute", counting_execute)
        patch.setattr(redis.Redis, "execute_command", lambda self, *args, **kwargs: single_commands.append(args[0]))
        results = [limit.hit("a") for _ in range(5)]

    assert results == [True, True, True, True, False]
    assert clients_made == [] and single_commands == []
    assert round_trips == [["INCRBY", "EXPIRE"]] * 5 or round_trips == [["INCR", "EXPIRE"]] * 5


def test_cache_calls_reuse_one_redis_client(monkeypatch):
    """intrasa.cache: Django's Redis cache would build a redis.Redis per call; ours builds one per pool."""
    import redis
    from django.core.cache import cache

    cache.set("reuse-probe", 1)
    made = []
    init = redis.Redis.__init__

    def counting_init(self, *args, **kwargs):
        made.append(1)
        return init(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(redis.Redis, "__init__", counting_init)
        assert [cache.get("reuse-probe") for _ in range(5)] == [1] * 5
        cache.set("reuse-probe", 2)
        assert cache.get("reuse-probe") == 2
    assert made == []
