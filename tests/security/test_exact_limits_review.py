"""Hostile review of the exact rate limits (``intrasa.ratelimit`` places, ``accounts.login_limits``).

Each test is one way the places or the limits around them go wrong for an honest client: a place
never given back, an answer 500 when Redis is unreachable, a refusal that tells the wrong time."""
import pytest
from django.test import Client
from django.urls import reverse

from intrasa import ratelimit
from tests.pages.test_check_transaction import unknown_reference

IP = "10.77.0.1"
PASSWORD = "kopi-tubruk-pagi-hari"


@pytest.fixture
def redis_down(settings):
    """Every cache call fails as it does when Redis is unreachable (nothing listens on port 1)."""
    settings.CACHES = {"default": {"BACKEND": "intrasa.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def _person(email, **fields):
    from tests.factories import UserFactory

    person = UserFactory(email=email, **fields)
    person.set_password(PASSWORD)
    person.save()
    return person


def _places_held(*key) -> int:
    """How many login places are held for ``key`` (by others than a probe taken and given back)."""
    from accounts.login_limits import LOGIN_PLACES

    held = LOGIN_PLACES.take("probe", key)[0] - 1
    LOGIN_PLACES.give_back("probe", key)
    return held


# --- logins --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_right_password_logs_in_while_redis_is_down(redis_down):
    """Logins are limited by axes in the database; the places of a burst are an extra in the cache.
    Before the places, a login needed no Redis; with them, Redis down must not shut every login out."""
    person = _person("tetap@example.co.id")
    response = Client(REMOTE_ADDR=IP).post(reverse("accounts:login"), {"username": person.email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_wrong_password_is_counted_while_redis_is_down(redis_down):
    from axes.models import AccessAttempt

    person = _person("tetap2@example.co.id")
    response = Client(REMOTE_ADDR=IP).post(reverse("accounts:login"), {"username": person.email, "password": "salah"})
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username=person.email).failures_since_start == 1


@pytest.mark.django_db
def test_the_right_password_of_a_non_staff_account_on_the_admin_login_gives_its_places_back():
    """The admin form refuses a right password of an account that is not staff after ``authenticate()``
    succeeded: neither ``user_login_failed`` nor ``user_logged_in`` is sent, so the places taken for the
    password check stayed held for PLACE_SECONDS. A few such posts from a shared address (an office NAT)
    made every login from it wait RESERVE_WAIT; enough of them for one account, every login to it."""
    person = _person("bukan-staf@example.co.id")
    response = Client(REMOTE_ADDR=IP).post(reverse("admin:login"), {"username": person.email, "password": PASSWORD})
    assert response.status_code == 200  # the admin form again: not a staff account
    assert _places_held("ip", IP) == 0
    assert _places_held("account", person.email) == 0


# --- the public look-ups and the partner API --------------------------------------------------------

PUBLIC_REQUESTS = {
    "cek-transaksi page": lambda client: client.get(reverse("pages:check_transaction"),
                                                    {"reference": unknown_reference(1)}),
    "cek-transaksi json": lambda client: client.get(reverse("pages:check_transaction_api",
                                                            args=[unknown_reference(1)])),
    "payment check": lambda client: client.get(reverse("pages:check_payment"), {"code": "8808123456789012"}),
    "payment link": lambda client: client.get("/tautan/bukan-tautan-siapa-pun/"),
    "sign-up": lambda client: client.post(reverse("accounts:signup"), {"email": "baru@example.co.id"}),
    "password reset": lambda client: client.post(reverse("accounts:password_reset"),
                                                 {"email": "baru@example.co.id"}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(PUBLIC_REQUESTS))
def test_public_requests_do_not_answer_500_while_redis_is_down(redis_down, name):
    """The limits cannot be checked, so the request is refused, never served unlimited: 503, when to
    try again, and why, in the visitor's language (JSON on the API)."""
    client = Client(REMOTE_ADDR=IP, raise_request_exception=False)
    response = PUBLIC_REQUESTS[name](client)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "Silakan coba lagi dalam satu menit" in response.content.decode()
    client.cookies["django_language"] = "en"
    assert "Please try again in a minute" in PUBLIC_REQUESTS[name](client).content.decode()


@pytest.mark.django_db
def test_the_partner_api_does_not_answer_500_while_redis_is_down(redis_down):
    client = Client(REMOTE_ADDR=IP, raise_request_exception=False)
    response = client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer intrasa_{1:016x}_{'s' * 43}")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "temporarily_unavailable"


@pytest.mark.django_db(transaction=True)
def test_a_right_key_refused_while_places_are_in_flight_is_not_told_to_wait_the_hour(monkeypatch, seller, settings):
    from tests.partners.conftest import make_partner

    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True
    _partner, _secret, _key, raw, _staff = make_partner()
    monkeypatch.setattr(ratelimit, "RESERVE_WAIT", 0.2)
    limit = ratelimit.PARTNER_API_BAD_KEYS
    limit.reserve(IP).keep()  # one wrong key, long ago in this hour
    in_flight = [limit.reserve(IP) for _ in range(limit.limit - 1)]  # other requests being looked up
    assert all(in_flight)

    response = Client(REMOTE_ADDR=IP).get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 429, response.content[:300]  # refused after the wait: the places are still held
    assert int(response["Retry-After"]) <= ratelimit.PLACE_SECONDS  # they are given back, or lapse, within that


@pytest.mark.django_db(transaction=True)
def test_cek_transaksi_refused_while_places_are_in_flight_is_not_told_to_wait_the_hour(monkeypatch):
    monkeypatch.setattr(ratelimit, "RESERVE_WAIT", 0.2)
    limit = ratelimit.PUBLIC_UNKNOWN
    limit.reserve(IP).keep()  # one mistaken reference, earlier this hour
    in_flight = [limit.reserve(IP) for _ in range(limit.limit - 1)]  # other look-ups from the same office
    assert all(in_flight)

    response = Client(REMOTE_ADDR=IP).get(reverse("pages:check_transaction"), {"reference": unknown_reference(2)})

    assert response.status_code == 429, response.content[:300]  # refused after the wait: the places are still held
    assert int(response["Retry-After"]) <= ratelimit.PLACE_SECONDS  # they are given back, or lapse, within that


@pytest.mark.django_db
def test_one_ipv6_network_shares_the_unknown_budget():
    def guess(address, n):
        return Client(REMOTE_ADDR=address).get(reverse("pages:check_transaction"), {"reference": unknown_reference(n)})

    for n in range(ratelimit.PUBLIC_UNKNOWN.limit):
        assert guess(f"2001:db8:1:2::{n + 1:x}", n + 1).status_code == 200
    assert guess("2001:db8:1:2::ffff", 99).status_code == 429
    assert guess("2001:db8:1:3::1", 100).status_code == 200  # the next /64 is another client


@pytest.mark.django_db
def test_one_ipv6_network_shares_the_login_limit_per_address(settings):
    """django-axes counts failures per address too: a /64 is one client there as well."""
    from axes.models import AccessAttempt

    for n in range(settings.LOGIN_FAILURES_PER_IP):
        Client(REMOTE_ADDR=f"2001:db8:7:7::{n + 1:x}").post(
            reverse("accounts:login"), {"username": f"orang{n}@example.co.id", "password": "salah"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"2001:db8:7:7::"}
    refused = Client(REMOTE_ADDR="2001:db8:7:7::abcd").post(
        reverse("accounts:login"), {"username": "lain@example.co.id", "password": "salah"})
    assert refused.status_code == 429


@pytest.mark.parametrize(("address", "counted"), [
    ("203.0.113.9", "203.0.113.9"), ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
    ("::ffff:203.0.113.9", "203.0.113.9"), ("unknown", "unknown"), ("not:an:address", "not:an:address")])
def test_the_counted_address(address, counted):
    assert ratelimit.network_of(address) == counted
