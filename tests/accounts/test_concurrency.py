"""Two requests adding a person's first destinations at once must still leave exactly one default.

Real threads on real PostgreSQL connections: the services lock the owner's row, so the second
request waits and then sees the first one's default instead of tripping the one-default constraint.
"""
import threading

import pytest
from django.db import connection

from accounts.models import PayoutDestination
from accounts.services import payout_destination_add_bank
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_destinations_leave_exactly_one_default():
    owner = UserFactory()
    barrier = threading.Barrier(4)
    errors = []

    def add(number: str):
        try:
            barrier.wait(timeout=10)
            payout_destination_add_bank(owner=owner, bank_code="014", account_number=number,
                                        account_holder_name=owner.full_name)
        except Exception as error:  # noqa: BLE001 - reported to the main thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(f"88800000{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    destinations = PayoutDestination.objects.filter(owner=owner)
    assert destinations.count() == 4
    assert destinations.filter(is_default=True).count() == 1
