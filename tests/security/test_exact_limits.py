"""Rate limits that are judged by what a look-up finds hold exactly under a burst.

The budgets for guesses (``PARTNER_API_BAD_KEYS``: keys that open nothing; ``PUBLIC_UNKNOWN``:
references, payment codes and payment-link tokens that are no one's) can only be counted after the
look-up, once it is known that it was a guess. A budget checked before the look-up and counted after
it lets a burst through: every request of the burst passes the check before the first count lands.
Each look-up therefore takes a place first (``RateLimit.reserve``), keeps it when it was a guess and
gives it back otherwise. Each test fires more requests than the limit at once, with real threads
(each its own connection), a barrier, real Redis, and a look-up slowed down so that the burst is
certainly in flight together; exactly ``limit`` guesses may be looked up.
"""
import importlib
import threading
import time

import pytest
from django.test import Client
from django.urls import reverse

from intrasa import ratelimit
from tests.concurrency import race
from tests.pages.test_check_transaction import unknown_reference

IP = "10.20.30.40"
SLOW = 0.2  # seconds a look-up takes: long enough for the whole burst to arrive meanwhile


def slowed(monkeypatch, target: str) -> list:
    """Count the calls of ``target`` (a dotted path: a module's function or a class's method), each
    made ``SLOW`` seconds long."""
    owner_path, name = target.rsplit(".", 1)
    try:
        owner = importlib.import_module(owner_path)
    except ImportError:
        module_path, class_name = owner_path.rsplit(".", 1)
        owner = getattr(importlib.import_module(module_path), class_name)
    real = getattr(owner, name)
    calls = []
    lock = threading.Lock()

    def counted(*args, **kwargs):
        with lock:
            calls.append(1)
        time.sleep(SLOW)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def burst(requests: list) -> list[int]:
    """Send ``requests`` (functions of a fresh client) at once; the status codes, in order."""
    statuses: list = [None] * len(requests)

    def send(index, request):
        statuses[index] = request(Client(REMOTE_ADDR=IP)).status_code

    race(*[lambda index=index, request=request: send(index, request) for index, request in enumerate(requests)])
    return statuses


# --- the partner API: keys that open nothing ----------------------------------------------------

def wrong_key(n: int) -> str:
    """Well formed (so looked up), and no key's."""
    return f"intrasa_{n:016x}_{'s' * 43}"


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_api_keys_looks_up_exactly_the_limit(monkeypatch):
    limit = ratelimit.PARTNER_API_BAD_KEYS.limit
    looked_up = slowed(monkeypatch, "partners.services.api_key_check")

    statuses = burst([lambda client, n=n: client.get("/api/v1/transactions",
                                                     HTTP_AUTHORIZATION=f"Bearer {wrong_key(n)}")
                      for n in range(limit + 10)])

    assert len(looked_up) == limit
    assert sorted(statuses) == [401] * limit + [429] * 10
    assert ratelimit.PARTNER_API_BAD_KEYS.exhausted(IP)


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_the_partners_own_key_is_never_taken_for_guesses(monkeypatch, seller, settings):
    """More requests with the right key at once than the address may send wrong ones: every one is
    answered (a request waits for a place while the others are looked up), and none counts."""
    from tests.partners.conftest import make_partner

    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True
    _partner, _secret, _key, raw, _staff = make_partner()
    limit = ratelimit.PARTNER_API_BAD_KEYS.limit
    looked_up = slowed(monkeypatch, "partners.services.api_key_check")

    statuses = burst([lambda client: client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {raw}")]
                     * (limit + 5))

    assert statuses == [200] * (limit + 5)
    assert len(looked_up) == limit + 5
    assert not ratelimit.PARTNER_API_BAD_KEYS.exhausted(IP)
    assert ratelimit.PARTNER_API_BAD_KEYS.reserve(IP) is not None  # every place was given back


# --- the public look-ups: references, payment codes and payment-link tokens that are no one's ----

@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["page", "api"])
def test_a_burst_of_unknown_references_looks_up_exactly_the_unknown_limit(monkeypatch, path):
    unknown = ratelimit.PUBLIC_UNKNOWN.limit
    burst_size = ratelimit.PUBLIC_LOOKUPS.limit  # as many as the look-up budget lets through
    assert burst_size > unknown
    looked_up = slowed(monkeypatch, "pages.selectors.public_facts")

    def look_up(n):
        if path == "page":
            return lambda client: client.get(reverse("pages:check_transaction"), {"reference": unknown_reference(n)})
        return lambda client: client.get(reverse("pages:check_transaction_api", args=[unknown_reference(n)]))

    statuses = burst([look_up(n) for n in range(1, burst_size + 1)])

    assert len(looked_up) == unknown
    assert sorted(statuses) == [200 if path == "page" else 404] * unknown + [429] * (burst_size - unknown)
    assert ratelimit.PUBLIC_UNKNOWN.exhausted(IP)


@pytest.mark.django_db(transaction=True)
def test_a_lucky_guess_in_a_burst_is_not_answered_after_the_unknown_budget(monkeypatch, seller, buyer):
    """The promise of ``PUBLIC_UNKNOWN``: once an address has guessed too often, a right guess is not
    answered either. With one place left, a burst of guesses and the right reference: one guess is
    looked up, and the right reference only if its turn came before that guess's (then it gives its
    place back to the next one)."""
    from tests import scenarios

    txn = scenarios.create(seller, buyer)
    for _ in range(ratelimit.PUBLIC_UNKNOWN.limit - 1):
        ratelimit.PUBLIC_UNKNOWN.hit(IP)
    looked_up = slowed(monkeypatch, "pages.selectors.public_facts")
    references = [unknown_reference(n) for n in range(1, 8)] + [txn.reference]

    statuses = burst([lambda client, reference=reference: client.get(
        reverse("pages:check_transaction_api", args=[reference])) for reference in references])

    assert statuses.count(404) == 1
    assert len(looked_up) == 1 + statuses.count(200) <= 2
    assert statuses.count(429) == len(references) - len(looked_up)


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_unknown_payment_codes_looks_up_exactly_the_unknown_limit(monkeypatch):
    unknown = ratelimit.PUBLIC_UNKNOWN.limit
    burst_size = ratelimit.PUBLIC_LOOKUPS.limit
    looked_up = slowed(monkeypatch, "pages.selectors.payment_instruction_check")

    statuses = burst([lambda client, n=n: client.get(reverse("pages:check_payment"), {"code": f"88300{n:011d}"})
                      for n in range(1, burst_size + 1)])

    assert len(looked_up) == unknown
    assert sorted(statuses) == [200] * unknown + [429] * (burst_size - unknown)


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_unknown_payment_link_tokens_looks_up_exactly_the_unknown_limit(monkeypatch):
    unknown = ratelimit.PUBLIC_UNKNOWN.limit
    looked_up = slowed(monkeypatch, "paylinks.selectors.payment_link_get_public")

    statuses = burst([lambda client, n=n: client.get(reverse("paylinks:public", args=[f"tebakan{n:04d}"]))
                      for n in range(unknown + 10)])

    assert len(looked_up) == unknown
    assert sorted(statuses) == [404] * unknown + [429] * 10


# --- the places themselves (intrasa.ratelimit.reserve) ------------------------------------------

def test_a_place_kept_counts_and_a_place_given_back_does_not():
    limit = ratelimit.RateLimit("test-places", limit=2, window=60)
    limit.reserve("a").give_back()
    assert limit.reserve("a").keep() == 1
    assert limit.reserve("a").keep() == 2
    assert limit.reserve("a") is None and limit.exhausted("a")
    assert limit.reserve("b") is not None  # another key has its own places


def test_places_in_flight_make_a_request_wait_then_it_gets_the_one_given_back():
    limit = ratelimit.RateLimit("test-wait", limit=1, window=60)
    first = limit.reserve("a")
    threading.Timer(0.1, first.give_back).start()
    started = time.monotonic()
    second = limit.reserve("a")
    assert second is not None and 0.05 < time.monotonic() - started < ratelimit.RESERVE_WAIT
    second.keep()
    assert limit.reserve("a") is None  # the one guess allowed is counted: used up, no waiting


def test_a_request_waiting_for_a_place_that_is_kept_is_refused_at_once_then():
    limit = ratelimit.RateLimit("test-wait-kept", limit=1, window=60)
    first = limit.reserve("a")
    threading.Timer(0.1, first.keep).start()
    started = time.monotonic()
    assert limit.reserve("a") is None
    assert time.monotonic() - started < ratelimit.RESERVE_WAIT / 2


def test_a_place_left_behind_by_a_killed_process_is_dropped(monkeypatch):
    monkeypatch.setattr(ratelimit, "PLACE_SECONDS", 1)
    monkeypatch.setattr(ratelimit, "RESERVE_WAIT", 0.1)
    limit = ratelimit.RateLimit("test-left-behind", limit=1, window=60)
    assert limit.reserve("a") is not None  # never kept nor given back
    assert limit.reserve("a") is None  # busy all along the wait
    time.sleep(1.1)
    assert limit.reserve("a") is not None


def test_each_step_of_a_place_is_one_round_trip(monkeypatch):
    import redis

    limit = ratelimit.RateLimit("test-place-trips", limit=5, window=60)
    limit.reserve("a").keep()  # scripts registered
    calls = []
    execute_command = redis.Redis.execute_command

    def counting(self, *args, **kwargs):
        calls.append(args[0])
        return execute_command(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    place = limit.reserve("a")
    assert calls == ["EVALSHA"]
    place.keep()
    assert calls == ["EVALSHA", "EVALSHA"]
    limit.reserve("a").give_back()
    assert calls == ["EVALSHA", "EVALSHA", "EVALSHA", "ZREM"]


def test_without_redis_the_places_hold_exactly_within_a_process(settings):
    """``make run`` without Redis: local memory, one process; a burst of threads still takes exactly
    ``limit`` places, and places given back are free again."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "exact-limits"}}
    limit = ratelimit.RateLimit("test-locmem", limit=5, window=60)
    limit.reserve("a").give_back()
    taken = []
    barrier = threading.Barrier(12)

    def guess():
        barrier.wait(timeout=10)
        place = limit.reserve("a")
        if place is not None:
            time.sleep(SLOW)
            taken.append(place.keep())

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(taken) == [1, 2, 3, 4, 5]
    assert limit.reserve("a") is None


def test_a_look_up_that_fails_gives_its_place_back():
    limit = ratelimit.RateLimit("test-failing-look-up", limit=1, window=60)

    def broken():
        raise ConnectionError("database gone")

    with pytest.raises(ConnectionError):
        limit.reserve("a").look_up(broken, is_guess=lambda result: True)
    assert limit.reserve("a").look_up(lambda: None, is_guess=lambda result: result is None) is None  # the place was free
    assert limit.reserve("a") is None  # that one was a guess, kept


# --- logins (django-axes, with places in flight: accounts.login_limits) ---------------------------

BAD = "salah-salah-salah"


def bad_login(username, ip=IP):
    return lambda client: client.post(reverse("accounts:login"), {"username": username, "password": BAD},
                                      REMOTE_ADDR=ip)


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_bad_logins_at_the_account_limit_checks_one_password(monkeypatch, settings):
    """One failure left for the account: of a burst of wrong passwords from several addresses, one is
    checked; the others wait for it, then find the account locked."""
    from tests.factories import UserFactory

    user = UserFactory(email="korban@example.co.id")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert bad_login(user.email, ip=f"10.0.9.{n}")(Client()).status_code == 200
    checked = slowed(monkeypatch, "django.contrib.auth.backends.ModelBackend.authenticate")

    statuses = burst([bad_login(user.email, ip=f"10.0.8.{n}") for n in range(6)])

    assert len(checked) == 1, f"{len(checked)} passwords checked, {statuses}"
    assert statuses == [429] * 6


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_bad_logins_across_accounts_checks_exactly_the_address_limit(monkeypatch, settings):
    ip_limit = settings.LOGIN_FAILURES_PER_IP
    checked = slowed(monkeypatch, "django.contrib.auth.backends.ModelBackend.authenticate")

    burst([bad_login(f"orang{n}@example.co.id") for n in range(ip_limit + 5)])

    assert len(checked) == ip_limit


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_right_logins_from_one_address_is_never_refused(monkeypatch, settings):
    """More people behind one address (an office, a carrier's NAT) logging in at once than the
    address may fail: they wait for places, none is refused, and the places are all given back."""
    from tests.factories import UserFactory

    people = [UserFactory(email=f"kantor{n}@example.co.id") for n in range(settings.LOGIN_FAILURES_PER_IP + 5)]
    for person in people:
        person.set_password("kopi-tubruk-pagi-hari")
        person.save()
    slowed(monkeypatch, "django.contrib.auth.backends.ModelBackend.authenticate")

    statuses = burst([lambda client, person=person: client.post(reverse("accounts:login"), {
        "username": person.email, "password": "kopi-tubruk-pagi-hari"}) for person in people])

    assert statuses == [302] * len(people)
    from accounts.login_limits import LOGIN_PLACES

    assert LOGIN_PLACES.take("probe", ("ip", IP)) == [1]  # every place was given back


@pytest.mark.parametrize("backend", ["redis", "locmem"])
def test_places_count_what_is_in_flight_and_lapse(settings, monkeypatch, backend):
    if backend == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                       "LOCATION": "exact-limits-places"}}
    places = ratelimit.Places("test-places")
    assert places.take("one", ("a",), ("b",)) == [1, 1]
    assert places.take("two", ("a",)) == [2]
    places.give_back("one", ("a",), ("b",))
    assert places.take("three", ("b",)) == [1]
    if backend == "redis":  # a place left behind lapses (locmem: its count does, as a whole)
        monkeypatch.setattr(ratelimit, "PLACE_SECONDS", 1)
        time.sleep(1.1)
        assert places.take("four", ("a",)) == [1]


@pytest.mark.django_db
def test_a_login_waiting_for_a_place_reads_the_failures_only_to_decide(monkeypatch, settings,
                                                                      django_assert_max_num_queries):
    """Waiting costs Redis polls, not database reads: every poll used to read the account's and the
    address's failures again (2 queries per poll, up to RESERVE_WAIT), so a burst of logins held in
    wait multiplied its load on PostgreSQL. The failures are read to decide, once before and once to
    confirm a place."""
    from axes.handlers.proxy import AxesProxyHandler
    from django.test import RequestFactory

    from accounts.login_limits import LOGIN_PLACES, LoginAttemptHandler

    monkeypatch.setattr(ratelimit, "RESERVE_WAIT", 0.3)
    request = RequestFactory().post("/akun/masuk/", REMOTE_ADDR=IP)
    AxesProxyHandler.update_request(request)  # what axes' middleware sets on every request
    credentials = {"username": "sibuk@example.co.id"}
    held = [LOGIN_PLACES.take(f"in-flight-{n}", ("account", "sibuk@example.co.id"))
            for n in range(settings.AXES_FAILURE_LIMIT)]  # every place of the account held by others
    assert held[-1] == [settings.AXES_FAILURE_LIMIT]
    with django_assert_max_num_queries(4):
        assert LoginAttemptHandler().is_allowed(request, credentials) is True  # waited, then went ahead
