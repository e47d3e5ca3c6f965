"""Every POST takes an Idempotency-Key: a retry returns the first answer and creates nothing twice,
also when copies race (real PostgreSQL, concurrent HTTP requests to the live server)."""
import json
import threading
import time

import pytest
import requests
from django.db import connection

from partners.models import IdempotencyRecord, PartnerTransaction, WebhookEvent
from tests.partners.conftest import post_json, terms
from transactions.models import EscrowTransaction, Status


def test_a_retry_returns_the_first_answer_and_creates_nothing(client, setup):
    first = post_json(client, "/api/v1/transactions", terms(setup), setup, key="order-77")
    again = post_json(client, "/api/v1/transactions", terms(setup), setup, key="order-77")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert EscrowTransaction.objects.count() == 1 and WebhookEvent.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(client, setup):
    post_json(client, "/api/v1/transactions", terms(setup), setup, key="order-77")
    other = post_json(client, "/api/v1/transactions", terms(setup, price=999_000), setup, key="order-77")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    # The same key on another endpoint is another request too.
    reference = EscrowTransaction.objects.get().reference
    cancel = post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "x"}, setup, key="order-77")
    assert cancel.status_code == 422
    assert EscrowTransaction.objects.get().status == Status.CREATED


def test_a_refusal_is_an_answer_too(client, setup, settings):
    settings.INTRASA_INVITATIONS_PER_DAY = 0
    first = post_json(client, "/api/v1/transactions", terms(setup), setup, key="k")
    settings.INTRASA_INVITATIONS_PER_DAY = 20
    again = post_json(client, "/api/v1/transactions", terms(setup), setup, key="k")
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert post_json(client, "/api/v1/transactions", terms(setup), setup, key="k2").status_code == 201


def test_keys_belong_to_one_partner(client, setup, seller):
    from tests.partners.conftest import Setup, link_seller, make_partner

    partner, secret, key, raw, staff = make_partner(name="Pasar Lain")
    other = Setup(partner=partner, key=key, raw_key=raw, secret=secret, link=link_seller(partner, seller), staff=staff)
    assert post_json(client, "/api/v1/transactions", terms(setup), setup, key="same").status_code == 201
    assert post_json(client, "/api/v1/transactions", terms(other), other, key="same").status_code == 201
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.parametrize("same_body", [True, False])
def test_racing_copies_create_one_transaction(live_server, setup, monkeypatch, same_body):
    """Eight copies arrive together; the first holds the key's row while it works (slowed down
    here, so the others surely arrive meanwhile): they wait for its commit, then replay its answer
    (or, with another body, are refused)."""
    from transactions import services as transaction_services

    real_create = transaction_services.transaction_create

    def slow_create(**kwargs):
        txn = real_create(**kwargs)
        time.sleep(0.5)
        return txn

    monkeypatch.setattr(transaction_services, "transaction_create", slow_create)
    copies = 8
    barrier = threading.Barrier(copies)
    answers: list = [None] * copies

    def send(index):
        body = terms(setup) if same_body or index == 0 else terms(setup, price=800_000 + index)
        barrier.wait()
        if not same_body and index:
            time.sleep(0.1)  # the first copy is the one with the original body
        answers[index] = requests.post(f"{live_server.url}/api/v1/transactions", data=json.dumps(body), timeout=30,
                                       headers={"Authorization": f"Bearer {setup.raw_key}", "Idempotency-Key": "race-1",
                                                "Content-Type": "application/json"})

    threads = [threading.Thread(target=send, args=(index,)) for index in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert EscrowTransaction.objects.count() == 1 and PartnerTransaction.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    statuses = sorted(answer.status_code for answer in answers)
    created = [answer for answer in answers if answer.status_code == 201]
    if same_body:
        assert statuses == [201] * copies
        assert len({answer.json()["reference"] for answer in created}) == 1
        assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == copies - 1
    else:
        assert statuses == [201] + [422] * (copies - 1)
        assert all(answer.json()["error"]["code"] == "idempotency_key_reused"
                   for answer in answers if answer.status_code == 422)
