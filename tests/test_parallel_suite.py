"""The suite runs in parallel (pytest-xdist): every worker has its own PostgreSQL and Redis database."""
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from intrasa.settings.test import _redis_url_of_this_worker


def test_each_worker_counts_down_from_the_configured_redis_database():
    assert _redis_url_of_this_worker("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert _redis_url_of_this_worker("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/14"
    assert _redis_url_of_this_worker("redis://:secret@redis:6380/3", "gw3") == "redis://:secret@redis:6380/0"


def test_running_out_of_redis_databases_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="gw4 would need Redis database -1"):
        _redis_url_of_this_worker("redis://127.0.0.1:6379/3", "gw4")
    with pytest.raises(ImproperlyConfigured, match="gw2 has no Redis database"):
        _redis_url_of_this_worker("redis://127.0.0.1:6379/3", "gw2", "12,7")


def test_the_databases_can_be_listed_for_a_shared_redis():
    assert _redis_url_of_this_worker("redis://127.0.0.1:6379/12", "gw0", "12,7") == "redis://127.0.0.1:6379/12"
    assert _redis_url_of_this_worker("redis://127.0.0.1:6379/12", "gw1", "12,7") == "redis://127.0.0.1:6379/7"


@pytest.mark.django_db
def test_this_worker_has_its_own_databases(settings):
    """Under xdist (``make test``), this process's Redis database and PostgreSQL test database are
    its worker's own; run serially, they are the configured ones."""
    from django.db import connection

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        assert not connection.settings_dict["NAME"].endswith(("_gw0", "_gw1"))
        return
    assert connection.settings_dict["NAME"].endswith(f"_{worker}")
    assert os.environ["INTRASA_TEST_REDIS_WORKER"] == worker
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL == os.environ["REDIS_URL"]
    assert int(settings.REDIS_URL.rsplit("/", 1)[1]) >= 0
