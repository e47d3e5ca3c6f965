"""A webhook is a read the partner did not have to ask for: it carries the transaction's reference and
status, so it follows the same consent as ``GET /transactions/{reference}`` (hostile review). A
partner staff deactivated (its keys refused at once) went on receiving its sellers' transactions by
webhook, and so did a partner whose seller withdrew ``transactions:read``.

Such an event is withheld: no HTTP request, an attempt recorded with the reason. For a deactivated
partner it is retried on the usual backoff (delivery resumes when staff reactivate it) and given up
after ``PARTNER_WEBHOOK_RETRY_DAYS``; without the seller's consent it ends at once (a seller may grant
only ``transactions:write``: no point retrying for days), and the partner may ask for it again once
the seller grants reading. The partner's own view of its events (``GET /webhooks/events``) leaves out
what it may not read, as the transaction list does. Reading follows the seller's latest answer to the
partner, for transactions of links they removed too."""
import pytest
from django.utils import timezone

from partners import services
from partners.models import LINK_SCOPES, SCOPE_TRANSACTIONS_WRITE, WebhookAttempt, WebhookEvent
from tests.factories import UserFactory
from tests.partners.conftest import post_json, terms

pytestmark = pytest.mark.django_db


def created(client, hooked, django_capture_on_commit_callbacks, *, key="k-1") -> WebhookEvent:
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client, "/api/v1/transactions", terms(hooked), hooked, key=key)
    assert response.status_code == 201, response.content
    return WebhookEvent.objects.get(partner_transaction__escrow_transaction__reference=response.json()["reference"])


def deactivate(hooked, *, active=False):
    p = hooked.partner
    services.partner_update(partner=p, actor=hooked.staff, reason="pelanggaran kontrak", name=p.name,
                            website=p.website, redirect_uris=p.redirect_uris, webhook_url=p.webhook_url,
                            is_active=active)


def withdraw_reading(hooked, seller):
    services.link_approve(partner=hooked.partner, user=seller, scopes=[SCOPE_TRANSACTIONS_WRITE],
                          redirect_uri="https://forum.example/callback")


def due_now(event):
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())


def test_a_deactivated_partner_receives_nothing_until_reactivated(client, hooked, receiver, seller,
                                                                  django_capture_on_commit_callbacks):
    receiver.answers = [500]  # the first attempt fails: the event is still pending when staff act
    event = created(client, hooked, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    deactivate(hooked)
    due_now(event)
    assert services.webhook_deliver(event_id=event.pk) == "withheld"
    assert len(receiver.requests) == 1  # nothing sent
    attempt = WebhookAttempt.objects.filter(event=event).latest("id")
    assert attempt.status_code is None and "deactivated" in attempt.error
    event.refresh_from_db()
    assert event.attempt_count == 2 and event.delivered_at is None and event.gave_up_at is None
    assert event.next_attempt_at - attempt.attempted_at == services._backoff(2)

    deactivate(hooked, active=True)
    due_now(event)
    assert services.webhook_deliver(event_id=event.pk) == "delivered"
    assert len(receiver.requests) == 2


def test_without_the_sellers_read_consent_nothing_is_sent_until_granted_and_asked(
        client, hooked, receiver, seller, django_capture_on_commit_callbacks):
    withdraw_reading(hooked, seller)
    event = created(client, hooked, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get(event=event)
    assert attempt.status_code is None and "transactions:read" in attempt.error
    event.refresh_from_db()  # ended at once, not retried for days
    assert event.delivered_at is None and event.attempt_count == 1 and event.gave_up_at is not None
    assert event.next_attempt_at is None

    with django_capture_on_commit_callbacks(execute=True):  # the seller grants reading: due again
        services.link_approve(partner=hooked.partner, user=seller, scopes=list(LINK_SCOPES),
                              redirect_uri="https://forum.example/callback")
    assert len(receiver.requests) == 1 and receiver.payloads()[0]["id"] == str(event.public_id)
    event.refresh_from_db()
    assert event.delivered_at is not None and event.gave_up_at is None


def test_events_ended_for_consent_go_out_in_order_with_the_later_ones(client, hooked, receiver, seller,
                                                                      django_capture_on_commit_callbacks):
    """Review: an ended event no longer held later ones back, so a later event went out first and the
    earlier one, redelivered, after it (cancelled before created)."""
    withdraw_reading(hooked, seller)
    event = created(client, hooked, django_capture_on_commit_callbacks)
    later = WebhookEvent.objects.create(partner=event.partner, partner_transaction=event.partner_transaction,
                                        sequence=event.sequence + 1, event_type="transaction.cancelled",
                                        payload={"sequence": event.sequence + 1}, next_attempt_at=None)
    services.link_approve(partner=hooked.partner, user=seller, scopes=list(LINK_SCOPES),
                          redirect_uri="https://forum.example/callback")
    due_now(later)
    assert services.webhook_deliver(event_id=later.pk) == "waiting"  # the resumed earlier one goes first
    assert services.webhook_deliver(event_id=event.pk) == "delivered"
    assert services.webhook_deliver(event_id=later.pk) == "delivered"
    assert [payload.get("sequence") for payload in receiver.payloads()] == [event.sequence, event.sequence + 1]


def test_granting_reading_resumes_only_this_sellers_events_with_this_partner(client, hooked, receiver, seller,
                                                                             django_capture_on_commit_callbacks):
    from tests.partners.conftest import link_seller, make_partner

    withdraw_reading(hooked, seller)
    event = created(client, hooked, django_capture_on_commit_callbacks)
    other_partner = make_partner(name="Pasar Lain", webhook_url=receiver.url)[0]
    services.link_approve(partner=other_partner, user=seller, scopes=list(LINK_SCOPES),
                          redirect_uri="https://forum.example/callback")
    link_seller(hooked.partner, UserFactory())
    event.refresh_from_db()
    assert event.gave_up_at is not None and receiver.requests == []


def test_withheld_to_the_end_is_given_up_like_any_undeliverable_event(client, hooked, receiver, seller, settings,
                                                                     django_capture_on_commit_callbacks):
    receiver.answers = [500]
    event = created(client, hooked, django_capture_on_commit_callbacks)
    deactivate(hooked)
    WebhookEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timezone.timedelta(days=settings.PARTNER_WEBHOOK_RETRY_DAYS), next_attempt_at=timezone.now())
    assert services.webhook_deliver(event_id=event.pk) == "gave_up"
    event.refresh_from_db()
    assert event.gave_up_at is not None and len(receiver.requests) == 1


def test_a_later_event_waits_behind_a_withheld_one(client, hooked, receiver, seller,
                                                   django_capture_on_commit_callbacks):
    """Order per transaction holds: the scan does not offer a later event while an earlier one is withheld."""
    from partners import selectors

    receiver.answers = [500]
    event = created(client, hooked, django_capture_on_commit_callbacks)
    deactivate(hooked)
    due_now(event)
    assert services.webhook_deliver(event_id=event.pk) == "withheld"
    later = WebhookEvent.objects.create(partner=event.partner, partner_transaction=event.partner_transaction,
                                        sequence=event.sequence + 1, event_type="transaction.cancelled",
                                        payload={}, next_attempt_at=timezone.now())
    assert later.pk not in selectors.due_webhook_event_ids(limit=100)
    assert services.webhook_deliver(event_id=later.pk) == "waiting"
    assert len(receiver.requests) == 1  # the first attempt, before staff deactivated the partner


@pytest.mark.parametrize("reads_again", [False, True])
def test_reading_follows_the_sellers_latest_answer_for_links_they_removed(client, hooked, receiver, seller,
                                                                          reads_again,
                                                                          django_capture_on_commit_callbacks):
    """Removing the link and approving again without reading must not leave the older transactions
    readable (narrowing the live link hides them); approving with reading shows them again."""
    event = created(client, hooked, django_capture_on_commit_callbacks)
    reference = event.partner_transaction.escrow_transaction.reference
    services.link_revoke(link_id=hooked.link.pk, user=seller)
    assert client.get(f"/api/v1/transactions/{reference}", **hooked.headers()).status_code == 200
    services.link_approve(partner=hooked.partner, user=seller,
                          scopes=list(LINK_SCOPES) if reads_again else [SCOPE_TRANSACTIONS_WRITE],
                          redirect_uri="https://forum.example/callback")
    read = client.get(f"/api/v1/transactions/{reference}", **hooked.headers())
    listed = client.get("/api/v1/webhooks/events", **hooked.headers()).json()
    if reads_again:
        assert read.status_code == 200 and [e["id"] for e in listed] == [str(event.public_id)]
    else:
        assert read.status_code == 403 and listed == []
        later = WebhookEvent.objects.create(partner=event.partner, partner_transaction=event.partner_transaction,
                                            sequence=event.sequence + 1, event_type="transaction.cancelled",
                                            payload={}, next_attempt_at=timezone.now())
        assert services.webhook_deliver(event_id=later.pk) == "withheld"
        assert len(receiver.requests) == 1


def test_the_partners_event_list_leaves_out_what_it_may_not_read(client, hooked, receiver, seller,
                                                                 django_capture_on_commit_callbacks):
    readable = created(client, hooked, django_capture_on_commit_callbacks, key="k-1")
    withdraw_reading(hooked, seller)
    # The consent is the link's, as last approved: every transaction of that link is unreadable now.
    listed = client.get("/api/v1/webhooks/events", **hooked.headers())
    assert listed.status_code == 200 and listed.json() == []
    one = client.get(f"/api/v1/webhooks/events/{readable.public_id}", **hooked.headers())
    assert one.status_code == 404
    again = client.post(f"/api/v1/webhooks/events/{readable.public_id}/redeliver", **hooked.headers(
        HTTP_IDEMPOTENCY_KEY="r-1"))
    assert again.status_code == 404
