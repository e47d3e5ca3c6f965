import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache (Redis in the suite): every test starts at zero."""
    cache.clear()
    yield
    cache.clear()
