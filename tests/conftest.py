"""Shared fixtures. Transactional tests need nothing special: see pytest_collection_modifyitems.

Every test runs under the network guard (``tests/network_guard.py``): a provider, HTTP or SMTP
call made inside an open ``transaction.atomic()`` block fails the test."""
import pytest
from hypothesis import settings as hypothesis_settings

from tests.factories import UserFactory
from tests.network_guard import pytest_configure, pytest_runtest_call  # noqa: F401 - pytest hooks

PASSWORD = "rahasia-yang-kuat-123"

# Property tests check what is true, not how fast: Hypothesis' default 200 ms deadline per example
# fails a pure function on a loaded 2-core CI machine. Speed is measured in `make bench` instead.
hypothesis_settings.register_profile("intrasa", deadline=None)
hypothesis_settings.load_profile("intrasa")


def pytest_collection_modifyitems(items):
    """Transactional tests (live_server, threads) flush the database when they end; serialized
    rollback restores the data migrations' rows (fee schedule, groups) so every later test starts
    from the same place, whatever order or subset of tests runs."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}),
                            append=False)


@pytest.fixture(scope="session", autouse=True)
def _test_database_dropped_at_the_end(django_db_setup):
    """The live server's request threads end without closing their PostgreSQL connections, so the
    test database could not be dropped ("is being accessed by other users") and every CI log
    carried that warning. At the end of the session, nothing of ours is still using it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                         user=settings["USER"], dbname="postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND pid <> pg_backend_pid()", [settings["NAME"]])


@pytest.fixture(autouse=True)
def _serialized_rollback_everywhere(django_db_serialized_rollback):
    """The same for transactional tests that come through ``live_server`` without a marker."""


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache (Redis in the suite): every test starts from zero. Kept
    transaction pages also live in each process's memory (``transactions.page_cache``): forgotten too."""
    from django.core.cache import cache

    from transactions import page_cache

    cache.clear()
    page_cache.forget_everything()
    yield
    cache.clear()
    page_cache.forget_everything()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language. A request with ``Accept-Language: en``
    leaves English active on the worker's thread, and a later test on that worker would then see
    English where it expects Indonesian, failing or passing by the order the tests ran in."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client():
    """pytest-django's ``client``, whose ``force_login`` of a staff member also passes the admin's
    second factor with a real device (tests/staff_login.py). ``unverified_client`` does not."""
    from tests.staff_login import StaffClient

    return StaffClient()


@pytest.fixture
def unverified_client():
    from django.test import Client

    return Client()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def seller(db):
    return UserFactory(full_name="Sari Penjual", email="sari@example.co.id")


@pytest.fixture
def buyer(db):
    return UserFactory(full_name="Budi Pembeli", email="budi@example.co.id")


@pytest.fixture
def stranger(db):
    return UserFactory(full_name="Orang Lain", email="lain@example.co.id")


@pytest.fixture
def dispute_officer(db):
    from django.contrib.auth.models import Permission

    from tests.factories import StaffFactory

    user = StaffFactory(full_name="Dewi Petugas", email="dewi@intrasa.co.id")
    user.user_permissions.add(Permission.objects.get(codename="resolve_dispute"))
    return type(user).objects.get(pk=user.pk)  # fresh instance: permission cache is empty


@pytest.fixture
def in_english(client):
    """Tests that quote the English source texts read pages and service messages in English,
    whatever the Indonesian catalogue says (the cookie outranks the profile's language)."""
    from django.conf import settings
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield client


@pytest.fixture
def finance_officer(db):
    """A staff member of the Finance group (treasury, refunds, payment amounts)."""
    from django.contrib.auth.models import Group

    from tests.factories import StaffFactory

    user = StaffFactory(full_name="Fajar Keuangan", email="fajar@intrasa.co.id")
    user.groups.add(Group.objects.get(name="Finance"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def customer_service_officer(db):
    """A staff member of the Customer service group (no money permissions)."""
    from django.contrib.auth.models import Group

    from tests.factories import StaffFactory

    user = StaffFactory(full_name="Citra Layanan", email="citra@intrasa.co.id")
    user.groups.add(Group.objects.get(name="Customer service"))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def tracking_sandbox(live_server, settings):
    """The courier-tracking sandbox on the live server (``sandbox/tracking.py``): the inspection clock
    and the returns follow its scripted pickup, transit and delivery scans."""
    from tests.sandbox_control import SandboxControl

    settings.SITE_URL = live_server.url
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.TRACKING_BASE_URL = f"{live_server.url}/sandbox/tracking"
    control = SandboxControl(live_server.url)
    yield control
    control.close()
