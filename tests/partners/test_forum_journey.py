"""The issue's end-to-end: a forum registers as a partner (staff admin), links a seller (consent
page), creates a transaction by API with the example client over real HTTP, the buyer pays on
INTRASA, the forum receives every webhook with a valid signature — including after its endpoint
was down for a while — and the payout completes through the SendMe sandbox."""
import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from examples.partner_client import IntrasaClient, IntrasaError, verify_webhook
from partners import tasks
from partners.models import WebhookEvent
from tests import scenarios
from tests.disbursements.conftest import sendme, verified_bank  # noqa: F401 - the SendMe sandbox fixture
from tests.factories import StaffFactory
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "https://forum.example/intrasa/callback"


def secret_on(page: bytes) -> str:
    return re.search(r'data-testid="secret-value">([^<]+)<', page.decode()).group(1)


def test_a_forum_sells_through_intrasa(live_server, sendme, client, seller, buyer, receiver, settings):  # noqa: F811
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True
    # 1. Staff register the forum and issue its key (shown once each).
    staff = StaffFactory(email="ops@intrasa.co.id", is_superuser=True)
    client.force_login(staff)
    page = client.post("/admin/partners/partner/add/", {
        "name": "Forum Kaskus-an", "website": "https://forum.example", "redirect_uris": CALLBACK,
        "webhook_url": receiver.url, "is_active": "on", "reason": "perjanjian kemitraan no. 12",
        "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"})
    assert page.status_code == 200, page.content[:2000]
    webhook_secret = secret_on(page.content)
    from partners.models import Partner

    partner = Partner.objects.get()
    page = client.post(f"/admin/partners/partner/{partner.pk}/issue-key/", {
        "scopes": ["transactions:read", "transactions:write", "webhooks:read", "webhooks:write"],
        "label": "produksi", "reason": "kunci pertama"})
    api_key = secret_on(page.content)
    forum = IntrasaClient(live_server.url, api_key)

    # 2. The seller links their account on INTRASA's consent page.
    url = forum.authorize_url(client_id=partner.client_id, redirect_uri=CALLBACK, state="s-42")
    client.force_login(seller)
    consent = client.get(url.removeprefix(live_server.url))
    assert consent.status_code == 200 and b"Forum Kaskus-an" in consent.content
    answer = client.post("/mitra/otorisasi/", {"client_id": partner.client_id, "redirect_uri": CALLBACK,
                                               "scope": "transactions:read transactions:write", "state": "s-42",
                                               "decision": "approve"})
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["state"] == ["s-42"]
    link = forum.exchange_code(query["code"][0], CALLBACK)

    # 3. The forum creates the transaction and sends the buyer to INTRASA.
    verified_bank(seller)
    receiver.answers = [503] * 100  # the forum's endpoint is down for a while
    created = forum.create_transaction(link_id=link["link_id"], title="Kamera bekas", description="Lensa kit",
                                       category="physical", price=1_250_000, shipping_cost=25_000,
                                       buyer_email=buyer.email, external_id="thread-9001",
                                       idempotency_key="thread-9001-create")
    again = forum.create_transaction(link_id=link["link_id"], title="Kamera bekas", description="Lensa kit",
                                     category="physical", price=1_250_000, shipping_cost=25_000,
                                     buyer_email=buyer.email, external_id="thread-9001",
                                     idempotency_key="thread-9001-create")
    assert again == created and EscrowTransaction.objects.count() == 1
    assert forum.buyer_links(created["reference"]) == created["links"]
    client.force_login(buyer)
    invitation = client.get(urlsplit(created["links"]["accept_url"]).path)
    assert invitation.status_code == 200 and b"Kamera bekas" in invitation.content

    # 4. The buyer accepts, pays, receives and confirms on INTRASA; the payout goes through SendMe.
    txn = EscrowTransaction.objects.get(reference=created["reference"])
    scenarios.advance(txn, buyer, Status.CONFIRMED)
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    assert forum.get_transaction(txn.reference)["status"] == "disbursed"
    assert [t["reference"] for t in forum.list_transactions(status="disbursed")] == [txn.reference]
    assert [entry["to_status"] for entry in forum.timeline(txn.reference)][-1] == "disbursed"
    with pytest.raises(IntrasaError) as refused:
        forum.cancel(txn.reference, "terlambat")
    assert refused.value.status == 409

    # 5. The endpoint is back; the beat scan retries what is due (the clock moved on).
    assert WebhookEvent.objects.filter(delivered_at__isnull=True).count() == 7  # all wait behind the first
    receiver.answers = []
    WebhookEvent.objects.filter(delivered_at__isnull=True).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    tasks.deliver_due_webhooks()  # the first, and after it each next one of the transaction
    assert not WebhookEvent.objects.filter(delivered_at__isnull=True).exists()

    delivered = [r for r in receiver.requests if r["status"] == 200]
    assert all(verify_webhook(secret=webhook_secret, body=r["body"], timestamp=r["headers"]["INTRASA-Timestamp"],
                              signature=r["headers"]["INTRASA-Signature"]) for r in receiver.requests)
    payloads = [__import__("json").loads(r["body"]) for r in delivered]
    assert [p["sequence"] for p in payloads] == list(range(1, len(payloads) + 1))  # in order, each once
    assert [p["type"] for p in payloads] == [
        "transaction.created", "transaction.accepted", "transaction.paid", "transaction.verified",
        "transaction.shipped", "transaction.confirmed", "transaction.disbursed"]
    assert {p["data"]["external_id"] for p in payloads} == {"thread-9001"}
    first = forum.webhook_event(payloads[0]["id"])
    assert [a["status_code"] for a in first["attempts"]][:1] == [503] and first["delivery_state"] == "delivered"
    call_command("ledger_check")
