import pytest
from django.conf import settings
from django.core.cache import cache

from tests.factories import StaffFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def superuser(db):
    return StaffFactory(email="admin@intrasa.co.id", full_name="Admin Intrasa", is_superuser=True)


@pytest.fixture
def english(client):
    """Read the pages in English, so assertions can quote the source texts whatever the
    Indonesian catalogue says (the cookie outranks the browser and the profile)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
