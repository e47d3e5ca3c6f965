"""Sessions are read from the cache and written through to the database (``SESSION_ENGINE`` =
``cached_db``): a logged-in page reads no session row, and every way a session ends still ends it
for the cached copy too. Each test replays the old session cookie from a fresh client, as a thief
who copied it would."""
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def _replay(cookie: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return client


def _is_logged_in(client: Client) -> bool:
    response = client.get(PROFILE)
    return response.status_code == 200


def _login(user) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_logged_in_page_reads_no_session_row(seller):
    client, _cookie = _login(seller)
    with CaptureQueriesContext(connection) as captured:
        assert _is_logged_in(client)
    assert not any("django_session" in query["sql"] for query in captured.captured_queries)


def test_the_database_stays_the_record(seller):
    """A session whose cached copy is gone (Redis restarted, evicted) is read from its row again."""
    from django.core.cache import caches

    client, cookie = _login(seller)
    caches[settings.SESSION_CACHE_ALIAS].clear()
    assert Session.objects.filter(session_key=cookie).exists()
    assert _is_logged_in(_replay(cookie))


def test_logging_out_ends_the_cached_session(seller):
    client, cookie = _login(seller)
    assert _is_logged_in(_replay(cookie))
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=cookie).exists()
    assert not _is_logged_in(_replay(cookie))


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(seller, password):
    here, here_cookie = _login(seller)
    _elsewhere, elsewhere_cookie = _login(seller)
    response = here.post(reverse("accounts:password_change"), {
        "old_password": password, "new_password1": "Ganti-Sandi-Baru-2026", "new_password2": "Ganti-Sandi-Baru-2026"})
    assert response.status_code == 302
    assert _is_logged_in(here)
    assert not _is_logged_in(_replay(elsewhere_cookie))


def test_a_session_row_deleted_directly_no_longer_authenticates_once_the_account_is_closed(seller):
    """Defence in depth: a session whose row went some other way than through the engine (a cached
    copy left behind) is refused once the account is disabled and its password hash changed, as
    account erasure does (``get_user`` checks both on every request)."""
    _client, cookie = _login(seller)
    Session.objects.filter(session_key=cookie).delete()
    seller.is_active = False
    seller.set_unusable_password()
    seller.save(update_fields=["is_active", "password"])
    assert not _is_logged_in(_replay(cookie))


def test_ending_someones_sessions_ends_the_cached_copies(seller):
    """What account erasure calls: the row and the cached copy go, with the account still active."""
    from intrasa.sessions import sessions_end

    _client, cookie = _login(seller)
    assert _is_logged_in(_replay(cookie))
    sessions_end([cookie, ""])
    assert not Session.objects.filter(session_key=cookie).exists()
    assert not _is_logged_in(_replay(cookie))


@pytest.fixture
def redis_down(monkeypatch):
    """Every call of the session cache fails as it does when Redis is unreachable."""
    import redis
    from django.core.cache import caches

    session_cache = caches[settings.SESSION_CACHE_ALIAS]

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for name in ("get", "set", "delete", "has_key"):
        monkeypatch.setattr(session_cache, name, unreachable)


def test_pages_and_logout_work_from_the_database_while_redis_is_down(seller, redis_down, caplog):
    client, cookie = _login(seller)
    assert _is_logged_in(client)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()
    assert not _is_logged_in(_replay(cookie))
    assert "session cache" in caplog.text and "could not be deleted" in caplog.text
