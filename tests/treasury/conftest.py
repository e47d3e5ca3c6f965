import pytest

from tests.staff.conftest import fee_schedule, staff_in  # noqa: F401  (fixture re-used here)


@pytest.fixture
def finance(db):
    return staff_in("Finance", "finance@intrasa.co.id")
