"""Every delivery attempt is recorded and counted, whatever the partner's endpoint answers or its URL
holds (hostile review). An attempt whose record failed left the event leased and uncounted: it came due
again every lease (43 s), was sent again and again though the partner had answered 2xx, never reached
the give-up limit, and held back every later event of the same transaction."""

import pytest

from partners import services, webhook_http
from partners.models import WebhookAttempt, WebhookEvent
from tests.partners.conftest import post_json, terms
from transactions.models import EscrowTransaction

pytestmark = pytest.mark.django_db


def created(client, hooked, django_capture_on_commit_callbacks) -> WebhookEvent:
    with django_capture_on_commit_callbacks(execute=True):  # the delivery task runs after the commit
        response = post_json(client, "/api/v1/transactions", terms(hooked), hooked, key="k-1")
    assert response.status_code == 201, response.content
    assert EscrowTransaction.objects.filter(reference=response.json()["reference"]).exists()
    return WebhookEvent.objects.get()


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_with_a_nul_byte_is_recorded_and_counted(client, hooked, receiver, status,
                                                           django_capture_on_commit_callbacks):
    receiver.body = b"ok\x00ok"
    receiver.answers = [status]
    event = created(client, hooked, django_capture_on_commit_callbacks)
    attempt = WebhookAttempt.objects.get(event=event)
    assert attempt.status_code == status and attempt.response_excerpt == "ok\ufffdok"
    event.refresh_from_db()
    assert event.attempt_count == 1
    if status == 200:
        assert event.delivered_at is not None and event.next_attempt_at is None
    else:  # a retry after the first backoff step, counted
        assert event.delivered_at is None and event.next_attempt_at - attempt.attempted_at == services._backoff(1)


@pytest.mark.parametrize("url", ["https://hooks.forum.example:99999/x", "https://hooks.forum.example:65536/x",
                                 "https://[::1/x", "https://hooks.forum.example:port/x"])
def test_a_url_that_cannot_be_parsed_is_refused_when_registered(url, settings, admin_user):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(services.PartnerError) as refused:
        services.partner_register(actor=admin_user, reason="kontrak", name="Forum", webhook_url=url,
                                  redirect_uris="https://forum.example/callback")
    assert refused.value.code == "invalid_webhook_url"
    with pytest.raises(webhook_http.UnsafeDestination):
        webhook_http.check_destination(url, allow_private=True, resolve=False)


def test_a_stored_url_that_cannot_be_parsed_fails_one_counted_attempt(client, hooked, receiver,
                                                                   django_capture_on_commit_callbacks):
    """A URL stored before the check refused it (or edited in the database) fails the attempt, recorded."""
    type(hooked.partner).objects.filter(pk=hooked.partner.pk).update(webhook_url="https://hooks.forum.example:99999/x")
    event = created(client, hooked, django_capture_on_commit_callbacks)
    attempt = WebhookAttempt.objects.get(event=event)
    assert attempt.status_code is None and "not valid" in attempt.error
    event.refresh_from_db()
    assert event.attempt_count == 1 and event.delivered_at is None and not receiver.requests


def test_an_unexpected_failure_of_the_call_is_counted_and_retried_with_backoff(client, hooked, receiver, monkeypatch,
                                                                               django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(webhook_http, "post", broken)
    event = created(client, hooked, django_capture_on_commit_callbacks)
    event.refresh_from_db()
    attempt = event.attempts.get()
    assert event.attempt_count == 1 and attempt.error == "failed: RuntimeError"
    assert event.next_attempt_at - attempt.attempted_at == services._backoff(1)  # the backoff, not the lease
