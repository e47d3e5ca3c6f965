"""Eight Celery worker processes (Redis broker, PostgreSQL) disbursing 100 payouts worth three
times the Daily Nominal Total, every task delivered twice: the day's sum never exceeds the limit,
nothing is sent twice, the rest waits for the next day."""
import random
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Q, Sum

from disbursements import tasks
from disbursements.models import DailyQuota, Disbursement
from intrasa import celery_app
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from transactions.models import Status

from .workers import QUEUE, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.long,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="workers need a shared database")]

DAILY_LIMIT = 50_000_000


def test_eight_worker_processes_respect_the_daily_limit(sendme, seller, buyer, live_server, settings, monkeypatch,
                                                        tmp_path, real_broker):
    from sandbox.models import Transfer

    verified_bank(seller)
    # 100 transactions of one seller today: more than the invitation limit allows a real seller.
    settings.INTRASA_INVITATIONS_PER_DAY = 1_000
    monkeypatch.setattr("disbursements.tasks.dispatch_disbursement.delay_on_commit", lambda *a, **k: None)
    celery_app.conf.task_always_eager = True
    rng = random.Random(11)
    prices = [rng.randrange(500_000, 2_500_000, 1_000) for _ in range(99)]
    prices.append(3 * DAILY_LIMIT - sum(prices))
    for price in prices:
        scenarios.advance(scenarios.create(seller, buyer, price=price, shipping_cost=0, fee_payer="buyer"),
                          buyer, Status.CONFIRMED)
    celery_app.conf.task_always_eager = False
    ids = list(Disbursement.objects.values_list("pk", flat=True))
    assert len(ids) == 100

    log = open(tmp_path / "workers.log", "w+")
    workers = start_worker(live_server, settings, log, pool="prefork", concurrency=8)
    try:
        for pk in ids + ids[::-1]:  # every part twice, in opposite orders
            tasks.dispatch_disbursement.apply_async(args=[pk], queue=QUEUE)
        settled = wait_for(lambda: not Disbursement.objects.filter(
            Q(status=Disbursement.Status.SENDING) | Q(status=Disbursement.Status.QUEUED, waiting_for="")).exists()
            and Transfer.objects.count() == Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED).count(),
            timeout=180)
        log.seek(0)
        assert settled, log.read()[-3000:]
    finally:
        stop_worker(workers)
        log.close()

    sent = Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED)
    sent_total = sent.aggregate(t=Sum("amount"))["t"]
    assert 0 < sent_total <= DAILY_LIMIT
    assert DailyQuota.objects.get().used == sent_total
    references = Counter(Transfer.objects.values_list("partner_reference_no", flat=True))
    assert set(references.values()) == {1}
    assert set(references) == set(sent.values_list("partner_reference_no", flat=True))
    waiting = Disbursement.objects.filter(status=Disbursement.Status.QUEUED)
    assert waiting.count() + sent.count() == 100
    assert set(waiting.values_list("waiting_for", flat=True)) == {Disbursement.Wait.DAILY_LIMIT}
