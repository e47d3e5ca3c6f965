"""Eight workers disbursing 100 payouts worth three times the Daily Nominal Total, at once,
against real PostgreSQL and the SendMe sandbox over HTTP."""
import random
import threading
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Sum

from disbursements import services
from disbursements.models import DailyQuota, Disbursement
from tests import scenarios
from transactions.models import Status

from .conftest import verified_bank

pytestmark = pytest.mark.django_db(transaction=True)

DAILY_LIMIT = 50_000_000


@pytest.mark.long  # eight threads against the sandbox for about a minute: `make test-long`
def test_eight_workers_never_exceed_the_daily_limit_nor_send_twice(sendme, seller, buyer, monkeypatch, settings):
    verified_bank(seller)
    # 100 transactions of one seller today: more than the invitation limit allows a real seller.
    settings.INTRASA_INVITATIONS_PER_DAY = 1_000
    # Plan every payout first without sending (the workers below do the sending).
    monkeypatch.setattr("disbursements.tasks.dispatch_disbursement.delay_on_commit", lambda *a, **k: None)
    rng = random.Random(7)
    prices = [rng.randrange(500_000, 2_500_000, 1_000) for _ in range(99)]
    prices.append(3 * DAILY_LIMIT - sum(prices))  # exactly three times the limit in all
    for price in prices:
        scenarios.advance(scenarios.create(seller, buyer, price=price, shipping_cost=0, fee_payer="buyer"),
                          buyer, Status.CONFIRMED)
    monkeypatch.undo()
    ids = list(Disbursement.objects.values_list("pk", flat=True))
    assert Disbursement.objects.aggregate(t=Sum("amount"))["t"] == 3 * DAILY_LIMIT

    errors = []

    def worker(seed):
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            for pk in order:
                services.disbursement_dispatch(disbursement_id=pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 240  # one deadline for all eight, inside the suite's per-test limit
    for thread in threads:
        thread.join(timeout=max(0, deadline - time.monotonic()))
    assert not [thread.name for thread in threads if thread.is_alive()], "workers still sending after 240 s"
    assert not errors, errors

    sent = Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED)
    sent_total = sent.aggregate(t=Sum("amount"))["t"]
    assert sent_total <= DAILY_LIMIT
    assert DailyQuota.objects.get().used == sent_total
    from sandbox.models import Transfer  # what SendMe (the sandbox) actually received

    references = Counter(Transfer.objects.values_list("partner_reference_no", flat=True))
    assert all(count == 1 for count in references.values())
    assert set(references) == set(sent.values_list("partner_reference_no", flat=True))
    queued = Disbursement.objects.filter(status=Disbursement.Status.QUEUED)
    assert queued.count() + sent.count() == len(ids)
    assert set(queued.values_list("waiting_for", flat=True)) == {Disbursement.Wait.DAILY_LIMIT}
    call_command("ledger_check")
