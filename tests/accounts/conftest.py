import pytest

from tests.factories import StaffFactory


@pytest.fixture
def superuser(db):
    return StaffFactory(email="admin@intrasa.co.id", full_name="Admin Intrasa", is_superuser=True)
