"""Shared fixtures. Transactional tests need nothing special: see _serialized_rollback_everywhere."""
import pytest

from tests.factories import UserFactory

PASSWORD = "rahasia-yang-kuat-123"


@pytest.fixture(autouse=True)
def _serialized_rollback_everywhere(django_db_serialized_rollback):
    """Transactional tests (live_server, threads) restore the data migrations' rows (fee
    schedule, groups) when they flush the database, so every later test sees the same start."""


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
