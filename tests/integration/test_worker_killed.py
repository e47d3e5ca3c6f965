"""A real Celery worker (Redis broker, PostgreSQL) is SIGKILLed in the middle of a SendMe call.

After a restart the transfer is resolved by a status inquiry under the same partnerReferenceNo:
exactly one payout, at SendMe and in the ledger.
"""
import signal
import time

import pytest
from django.core.management import call_command
from django.db import connection

from disbursements import tasks
from disbursements.models import Disbursement
from intrasa import celery_app
from ledger.models import JournalEntry
from transactions.models import Status

from .workers import QUEUE, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="a worker needs a shared database")]


def test_worker_killed_mid_sendme_call_ends_in_exactly_one_payout(sendme, confirmed, live_server, settings,
                                                                 monkeypatch, tmp_path, real_broker):
    from sandbox.models import Transfer

    monkeypatch.setattr("disbursements.tasks.dispatch_disbursement.delay_on_commit", lambda *a, **k: None)
    celery_app.conf.task_always_eager = True
    txn = confirmed()
    celery_app.conf.task_always_eager = False
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.QUEUED
    # SendMe accepts the transfer, then the answer hangs: the worker is inside the call.
    sendme("fault", kind="timeout", scope="sendme.transfer-interbank", count=1, seconds=30, after_processing=True)
    sendme("fault", kind="callback_drop", scope="callback.sendme", count=10)

    log = open(tmp_path / "worker.log", "w+")
    first = start_worker(live_server, settings, log)
    try:
        tasks.dispatch_disbursement.apply_async(args=[part.pk], queue=QUEUE)
        assert wait_for(lambda: Transfer.objects.filter(partner_reference_no=part.partner_reference_no).exists()), \
            "the worker never reached SendMe"
        part.refresh_from_db()
        assert part.status == Disbursement.Status.SENDING
        first.send_signal(signal.SIGKILL)  # the worker dies inside the call: no warm shutdown
        first.wait(timeout=10)
    finally:
        stop_worker(first, grace=0)

    second = start_worker(live_server, settings, log)
    try:
        time.sleep(3.5)  # the lease of the dead worker runs out
        tasks.resolve_due_disbursements.apply_async(queue=QUEUE)
        assert wait_for(lambda: Disbursement.objects.get(pk=part.pk).status == Disbursement.Status.SUCCEEDED), \
            (log.seek(0), log.read()[-3000:])[1]
        # The redelivered dispatch message (acks_late) arrives too and must do nothing.
        time.sleep(4)
    finally:
        stop_worker(second, grace=20)
        log.close()

    part.refresh_from_db()
    txn.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED
    assert Transfer.objects.filter(partner_reference_no=part.partner_reference_no).count() == 1
    assert Transfer.objects.count() == 1
    assert JournalEntry.objects.filter(kind="payout").count() == 1
    assert txn.status == Status.DISBURSED
    call_command("ledger_check")
