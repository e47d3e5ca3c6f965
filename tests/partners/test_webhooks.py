"""Webhooks: an event row per transition (in the transition's own database transaction), delivered
from Celery to a real HTTP endpoint, signed, at least once, retried with backoff by the beat scan,
ordered per transaction, visible with every attempt, redeliverable; and never to a private address
in production."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from examples.partner_client import verify_webhook
from partners import services, tasks
from partners.models import WebhookAttempt, WebhookEvent
from partners.webhook_http import UnsafeDestination, check_destination
from tests import scenarios
from tests.partners.conftest import make_partner, post_json, terms
from transactions.models import EscrowTransaction, Status


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what the code schedules after commit (the delivery task), as a real commit would."""
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()
    return run


def create(client, hooked, on_commit, key="k-1", **overrides):
    response = on_commit(lambda: post_json(client, "/api/v1/transactions", terms(hooked, **overrides), hooked, key=key))
    assert response.status_code == 201, response.content
    return EscrowTransaction.objects.get(reference=response.json()["reference"])


def make_due(event_ids=None):
    """The clock moves on: every pending retry is due now."""
    events = WebhookEvent.objects.filter(delivered_at__isnull=True, gave_up_at__isnull=True)
    if event_ids:
        events = events.filter(pk__in=event_ids)
    events.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def test_a_created_transaction_is_delivered_signed(client, hooked, receiver, on_commit):
    txn = create(client, hooked, on_commit)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = request["headers"]
    assert verify_webhook(secret=hooked.secret, body=request["body"], timestamp=headers["INTRASA-Timestamp"],
                          signature=headers["INTRASA-Signature"])
    assert not verify_webhook(secret="whsec_wrong", body=request["body"], timestamp=headers["INTRASA-Timestamp"],
                              signature=headers["INTRASA-Signature"])
    assert not verify_webhook(secret=hooked.secret, body=request["body"] + b" ", timestamp=headers["INTRASA-Timestamp"],
                              signature=headers["INTRASA-Signature"])
    assert not verify_webhook(secret=hooked.secret, body=request["body"], signature=headers["INTRASA-Signature"],
                              timestamp=str(int(headers["INTRASA-Timestamp"]) - 301),
                              now=int(headers["INTRASA-Timestamp"]))
    payload = json.loads(request["body"])
    assert payload["type"] == "transaction.created" and payload["sequence"] == 1
    assert payload["data"] == {"reference": txn.reference, "external_id": "thread-123", "action": "created",
                               "from_status": None, "to_status": "created"}
    event = WebhookEvent.objects.get()
    assert event.delivered_at is not None and event.attempts.get().status_code == 200
    assert headers["INTRASA-Event-Id"] == str(event.public_id) == payload["id"]


def test_every_transition_becomes_an_event_in_its_own_database_transaction(client, hooked, receiver, on_commit, buyer):
    txn = create(client, hooked, on_commit, buyer_email=buyer.email, category="physical")
    on_commit(lambda: scenarios.advance(txn, buyer, Status.SHIPPED))
    types = [payload["type"] for payload in receiver.payloads()]
    assert types == ["transaction.created", "transaction.accepted", "transaction.paid", "transaction.verified",
                     "transaction.shipped"]
    assert [payload["sequence"] for payload in receiver.payloads()] == [1, 2, 3, 4, 5]
    # A website transaction of the same seller produces no events.
    on_commit(lambda: scenarios.advance(scenarios.create(txn.seller, buyer), buyer, Status.VERIFIED))
    assert WebhookEvent.objects.count() == 5


def test_a_rolled_back_transition_leaves_no_event(client, hooked, receiver, on_commit, buyer):
    from django.db import transaction

    txn = create(client, hooked, on_commit, buyer_email=buyer.email)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            scenarios.advance(txn, buyer, Status.CREATED)  # accepts
            raise RuntimeError("the request failed after the transition")
    assert list(WebhookEvent.objects.values_list("event_type", flat=True)) == ["transaction.created"]


def test_a_down_endpoint_is_retried_with_backoff_in_order_and_then_delivered(client, hooked, receiver, on_commit, settings):
    receiver.answers = [503, 503]
    txn = create(client, hooked, on_commit)
    first = WebhookEvent.objects.get()
    attempt = first.attempts.get()
    assert (attempt.status_code, attempt.response_excerpt) == (503, "endpoint down for maintenance")
    first.refresh_from_db()
    assert first.attempt_count == 1 and first.delivered_at is None
    delay = (first.next_attempt_at - attempt.attempted_at).total_seconds()
    assert delay == pytest.approx(settings.PARTNER_WEBHOOK_FIRST_RETRY_SECONDS, abs=1)

    # The seller cancels while the endpoint is down: event 2 waits behind event 1.
    on_commit(lambda: post_json(client, f"/api/v1/transactions/{txn.reference}/cancel", {"reason": "batal"}, hooked,
                                key="c-1"))
    second = WebhookEvent.objects.get(sequence=2)
    assert second.attempts.count() == 0 and len(receiver.requests) == 1

    assert tasks.deliver_due_webhooks() == 0  # nothing is due before its time
    make_due([first.pk])
    assert tasks.deliver_due_webhooks() == 1  # only the head of the line
    first.refresh_from_db()
    assert first.attempt_count == 2
    delay = (first.next_attempt_at - first.attempts.last().attempted_at).total_seconds()
    assert delay == pytest.approx(2 * settings.PARTNER_WEBHOOK_FIRST_RETRY_SECONDS, abs=1)  # doubled

    make_due()
    on_commit(tasks.deliver_due_webhooks)  # the endpoint is back: 1, then 2 right after it
    assert [payload["sequence"] for payload in receiver.payloads()] == [1, 1, 1, 2]
    assert [payload["type"] for payload in receiver.payloads()][-1] == "transaction.cancelled"
    assert WebhookEvent.objects.filter(delivered_at__isnull=True).count() == 0
    assert all(verify_webhook(secret=hooked.secret, body=r["body"], timestamp=r["headers"]["INTRASA-Timestamp"],
                              signature=r["headers"]["INTRASA-Signature"]) for r in receiver.requests)


def test_backoff_grows_to_six_hours_and_gives_up_after_the_retry_days(client, hooked, receiver, on_commit, settings):
    receiver.answers = [500] * 40
    create(client, hooked, on_commit)
    event = WebhookEvent.objects.get()
    gaps = [(event.next_attempt_at - event.attempts.get().attempted_at).total_seconds()]
    while True:
        make_due([event.pk])
        assert services.webhook_deliver(event_id=event.pk) in ("retry", "gave_up")
        event.refresh_from_db()
        if event.gave_up_at is not None:
            break
        gaps.append((event.next_attempt_at - event.attempts.last().attempted_at).total_seconds())
        # Pretend the event is as old as the time its retries have taken so far.
        WebhookEvent.objects.filter(pk=event.pk).update(created_at=event.created_at - dt.timedelta(seconds=gaps[-1]))
        event.refresh_from_db()
    assert gaps[:4] == pytest.approx([30, 60, 120, 240], abs=1)
    assert max(gaps) == settings.PARTNER_WEBHOOK_MAX_RETRY_SECONDS
    assert sum(gaps) <= settings.PARTNER_WEBHOOK_RETRY_DAYS * 86400 < sum(gaps) + settings.PARTNER_WEBHOOK_MAX_RETRY_SECONDS
    assert event.delivery_state == "failed" and event.attempt_count == len(gaps) + 1


def test_attempts_are_visible_to_the_partner_and_it_can_ask_for_redelivery(client, hooked, receiver, on_commit):
    receiver.answers = [500]
    create(client, hooked, on_commit)
    event = WebhookEvent.objects.get()
    listed = client.get("/api/v1/webhooks/events", **hooked.headers()).json()
    assert [item["id"] for item in listed] == [str(event.public_id)] and listed[0]["delivery_state"] == "pending"
    detail = client.get(f"/api/v1/webhooks/events/{event.public_id}", **hooked.headers()).json()
    assert [(a["status_code"], a["response_excerpt"]) for a in detail["attempts"]] == [
        (500, "endpoint down for maintenance")]

    response = on_commit(lambda: post_json(client, f"/api/v1/webhooks/events/{event.public_id}/redeliver", {}, hooked,
                                           key="r-1"))
    assert response.status_code == 202
    detail = client.get(f"/api/v1/webhooks/events/{event.public_id}", **hooked.headers()).json()
    assert detail["delivery_state"] == "delivered" and [a["status_code"] for a in detail["attempts"]] == [500, 200]

    # A delivered event can be asked for again too (the partner lost it): the same id and body.
    on_commit(lambda: post_json(client, f"/api/v1/webhooks/events/{event.public_id}/redeliver", {}, hooked, key="r-2"))
    assert len(receiver.requests) == 3 and receiver.requests[1]["body"] == receiver.requests[2]["body"]

    other = make_partner(name="Pasar Lain")[3]
    assert client.get(f"/api/v1/webhooks/events/{event.public_id}",
                      HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404


def test_staff_see_attempts_in_the_admin(client, hooked, receiver, on_commit):
    receiver.answers = [502]
    create(client, hooked, on_commit)
    event = WebhookEvent.objects.get()
    client.force_login(hooked.staff.__class__.objects.filter(is_superuser=True).first() or _superuser())
    page = client.get(f"/admin/partners/webhookevent/{event.pk}/change/").content.decode()
    assert "502" in page and "endpoint down for maintenance" in page


def _superuser():
    from tests.factories import StaffFactory

    return StaffFactory(email="root@intrasa.co.id", is_superuser=True)


def test_private_addresses_are_refused_in_production(client, hooked, receiver, on_commit, settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = False
    create(client, hooked, on_commit)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("refused")
    for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://[::1]/hook",
                "https://169.254.169.254/latest/meta-data", "https://localhost/hook", "ftp://example.com/",
                "https://user:pw@example.com/hook"):
        with pytest.raises(UnsafeDestination):
            check_destination(url, allow_private=False)
    with pytest.raises(services.PartnerError):
        make_partner(name="Nakal", webhook_url="http://192.168.1.5/hook")


def test_delivery_never_happens_inside_a_database_transaction(client, hooked, receiver, on_commit):
    """The network guard (tests/network_guard.py) fails any test whose HTTP call happens inside
    atomic(); here the delivery task runs after the commit of the request that created the event."""
    create(client, hooked, on_commit)
    assert len(receiver.requests) == 1


def test_a_public_name_that_resolves_to_a_private_address_is_refused_at_delivery(monkeypatch):
    import socket

    def resolve(host, port, *args, **kwargs):
        address = {"hooks.forum.example": "10.1.2.3", "public.forum.example": "93.184.216.34"}[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    check_destination("https://hooks.forum.example/x", allow_private=False, resolve=False)  # registration: name only
    with pytest.raises(UnsafeDestination):
        check_destination("https://hooks.forum.example/x", allow_private=False)
    check_destination("https://public.forum.example/x", allow_private=False)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_event_send_it_once(hooked, receiver):
    """A worker claims the event (row lock, then a lease) before the slow HTTP call; a second worker
    arriving meanwhile finds it not due and sends nothing."""
    import threading

    from django.db import connections

    from partners.models import PartnerTransaction
    from transactions.models import TransactionEvent

    receiver.answers = [500]
    txn = scenarios.create(hooked.link.user, category="digital", shipping_cost=0)
    bound = PartnerTransaction.objects.create(partner=hooked.partner, link=hooked.link, escrow_transaction=txn)
    event = services.webhook_event_record(partner_transaction=bound, timeline_event=TransactionEvent.objects.get(
        escrow_transaction=txn))
    receiver.requests.clear()
    receiver.answers, receiver.delay = [], 0.5
    make_due([event.pk])
    barrier, outcomes = threading.Barrier(2), []

    def work():
        barrier.wait()
        try:
            outcomes.append(services.webhook_deliver(event_id=event.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) in (["delivered", "not_due"], ["delivered", "done"])
    assert len(receiver.requests) == 1
