import pytest

from tests.staff.conftest import fee_schedule, staff_in  # noqa: F401  (fixture re-used here)


@pytest.fixture
def finance(db):
    return staff_in("Finance", "finance@intrasa.co.id")


@pytest.fixture
def deposit(monkeypatch):
    """SendMe's available deposit balance as the treasury services see it (set ``deposit.available``)."""

    class Deposit:
        available = 1_000_000_000

    monkeypatch.setattr("treasury.services.deposit_available", lambda: Deposit.available)
    return Deposit
