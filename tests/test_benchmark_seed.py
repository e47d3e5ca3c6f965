"""The benchmark's web seed (``benchmarks/seed.py``) builds every state through the real services,
so the books it leaves pass ``manage.py ledger_check``: the soak section checks the whole ledger of a
seeded benchmark database, and a seed that took shortcuts (paid without a bill, disputed without a
dispute) would break that check for reasons that are not the product's."""
import pytest
from django.core.management import call_command

from benchmarks import seed
from ledger.checks import ledger_breaches
from transactions.models import Status

pytestmark = pytest.mark.django_db


def test_the_web_seed_reaches_every_state_and_leaves_the_ledger_green():
    _pairs, txns = seed.seed_web(count=len(seed.STATE_MIX), people=2)

    reached = {txn.status for txn in txns}
    assert reached == {Status.CREATED, Status.PAID, Status.VERIFIED, Status.SHIPPED, Status.CONFIRMED,
                       Status.DISPUTED, Status.REFUNDED, Status.CANCELLED}
    assert [str(breach) for breach in ledger_breaches()] == []
    call_command("ledger_check", verbosity=0)
