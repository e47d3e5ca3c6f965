"""A part sent more than once: the resend is the same request, and its first status check comes
as soon as for a part accepted on its first send (over real HTTP against the SendMe sandbox)."""
import datetime as dt
import json
import time

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from disbursements import tasks
from disbursements.models import Disbursement
from faspay.sendme import default_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


class RecordingSession(requests.Session):
    """A real HTTP session that keeps what it sent."""

    sent: list = []

    def post(self, url, *args, **kwargs):
        RecordingSession.sent.append((url, kwargs.get("data"), dict(kwargs.get("headers") or {})))
        return super().post(url, *args, **kwargs)


@pytest.fixture
def recording_client(monkeypatch):
    RecordingSession.sent = []

    def client():
        real = default_client()
        real.session = RecordingSession()
        return real

    monkeypatch.setattr("disbursements.services.default_client", client)
    monkeypatch.setattr("disbursements.tasks.default_client", client)
    return RecordingSession


def resend_due():
    time.sleep(1.1)  # a later second: a body rebuilt from the clock would differ
    Disbursement.objects.filter(status=Disbursement.Status.RETRYING).update(next_attempt_at=timezone.now())
    tasks.resolve_due_disbursements()


def test_a_resend_is_the_same_request_and_polled_as_soon_as_a_first_send(sendme, confirmed, recording_client):
    sendme("config", settle_delay_seconds=3600)  # SendMe accepts and keeps the transfer pending
    sendme("fault", kind="http_429", scope="sendme.transfer-interbank", count=2)
    confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.RETRYING
    resend_due()
    resend_due()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.PENDING and part.attempts == 3
    # The first status check of a part accepted on its third send comes after the first step of
    # the pending schedule, as for a part accepted at once (not 15 minutes later).
    assert part.next_attempt_at - timezone.now() <= dt.timedelta(seconds=31)

    sends = [(body, headers) for url, body, headers in recording_client.sent if url.endswith("/transfer-interbank")]
    assert len(sends) == 3
    assert len({body for body, _headers in sends}) == 1  # byte for byte the same request body
    assert json.loads(sends[0][0])["partnerReferenceNo"] == part.partner_reference_no
    assert len({headers["X-EXTERNAL-ID"] for _body, headers in sends}) == 3  # what must change does
