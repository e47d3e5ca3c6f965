"""The transaction page costs a few queries in every state, the same with many rows, and still shows
at once what changed beside the transaction row: a refund request, a payout, a dispute, a new
notification. Rendered, its one query says whether each card has anything to show
(``transactions.selectors.transaction_detail_for_party``); kept (``transactions.page_cache``), it costs
the user and one query (access, version, unread count). These tests would fail if either were stale."""
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intrasa.money import rupiah_on_one_line
from notifications.services import notify
from refunds import services as refund_services
from refunds.policy import RefundCase
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import fake_sendme  # noqa: F401  (fixture: SendMe answers in-process)
from transactions import page_cache
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def _url(txn):
    return reverse("transactions:detail", args=[txn.reference])


def _logged_in(user):
    client = Client()
    client.force_login(user)
    client.get(reverse("home"))  # the session is in the cache, as after any first request
    return client


def _queries(client, txn, *, kept=False, query=""):
    from disbursements import selectors as payout_selectors

    if not kept:  # the body rendered, not the one kept from the request before
        page_cache.forget_everything()
    # As if the kept replay of the payout queue were old: the page plays it again (the worst case).
    cache.delete_many([payout_selectors.OUTLOOKS_FRESH_KEY, payout_selectors.OUTLOOKS_REPLAY_LOCK])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_url(txn) + query)
    assert response.status_code == 200
    return response, [captured_query["sql"] for captured_query in captured.captured_queries]


def _without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def _remind(user, txn, key):
    notify(event_key=key, kind="shipping_reminder", recipient=user,
           context={"reference": txn.reference, "title": txn.title, "deadline": "besok"})


def _states(seller, buyer):
    """A transaction in each state the page shows differently."""
    verified_bank(seller)
    cancelled = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    from transactions import services

    services.transaction_cancel(escrow_transaction=cancelled, actor=seller, reason="Stok habis")
    disputed = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(disputed, buyer)
    return {
        "invited": scenarios.create(seller, buyer),
        "accepted": scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED),
        "paid": scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID),
        "verified": scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED),
        "shipped": scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED),
        "disputed": disputed,
        "confirmed": scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED),
        "cancelled": cancelled,
    }


# Kept: the user, then access, version and unread count in one statement.
KEPT = 2
# Rendered: the same two, the transaction (with its dispute, whether its refund and payout cards have rows, the
# unread count), its ledger lines, its timeline. A payout card with rows adds its payouts and their
# parts; an open payout adds the queue played forward (disbursements.selectors.payout_schedule) when
# the kept replay is old (payout_outlooks): ``_queries`` measures that worst case, replay included.
CEILING = 5
PAYOUT_CARD = 2
PAYOUT_SCHEDULE = 5


def test_the_page_costs_a_few_queries_in_every_state_and_the_same_with_more_rows(seller, buyer, fake_sendme):  # noqa: F811
    states = _states(seller, buyer)
    clients = {"seller": _logged_in(seller), "buyer": _logged_in(buyer)}
    few = {}
    for name, txn in states.items():
        for role, client in clients.items():
            if role == "buyer" and name == "invited":
                continue  # not the buyer's until accepted (404)
            response, queries = _queries(client, txn)
            few[name, role] = len(queries)
            ceiling = CEILING
            if name == "confirmed" and role == "seller":  # the seller's payout, still open
                ceiling += PAYOUT_CARD + PAYOUT_SCHEDULE
            assert len(queries) <= ceiling, (name, role, queries)
            assert not any("django_session" in sql for sql in queries), (name, role)
            kept_response, kept_queries = _queries(client, txn, kept=True)
            assert len(kept_queries) == KEPT, (name, role, kept_queries)
            assert _without_csrf(kept_response) == _without_csrf(response), (name, role)

    # More of everything the page lists or counts: timeline events, notifications, other transactions.
    for txn in states.values():
        for n in range(6):
            for user in (seller, buyer):
                _remind(user, txn, f"cost:{txn.pk}:{user.pk}:{n}")
    for _ in range(3):
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    for name, txn in states.items():
        for role, client in clients.items():
            if (name, role) in few:
                assert len(_queries(client, txn)[1]) == few[name, role], (name, role)


def test_a_stranger_still_gets_404(seller, buyer, stranger):
    txn = scenarios.create(seller, buyer)
    assert _logged_in(stranger).get(_url(txn)).status_code == 404


def test_a_refund_request_shows_at_once_though_the_transaction_row_did_not_change(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(buyer)
    page = client.get(_url(txn)).content.decode()
    assert 'data-testid="refund-link"' not in page
    before = EscrowTransaction.objects.get(pk=txn.pk).updated_at

    refund_services.refund_request_submit(escrow_transaction=txn, buyer=buyer, case=RefundCase.DOUBLE_PAYMENT,
                                          amount=10_000, description="Terpotong dua kali dari rekening saya.")
    assert EscrowTransaction.objects.get(pk=txn.pk).updated_at == before  # the case a row-keyed cache misses
    page = client.get(_url(txn)).content.decode()
    assert 'data-testid="dispute-card"' in page and 'data-testid="refund-link"' in page
    assert rupiah_on_one_line(10_000) in page


def test_the_dispute_card_and_the_seller_payout_card_follow_the_state(seller, buyer, fake_sendme):  # noqa: F811
    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    seller_client, buyer_client = _logged_in(seller), _logged_in(buyer)
    assert 'data-testid="dispute-link"' not in seller_client.get(_url(txn)).content.decode()
    scenarios.open_dispute(txn, buyer)
    assert 'data-testid="dispute-link"' in seller_client.get(_url(txn)).content.decode()

    confirmed = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    assert 'data-testid="payouts"' in seller_client.get(_url(confirmed)).content.decode()
    # The payout is the seller's: the buyer's page has no payout card and asks for none.
    response, queries = _queries(buyer_client, confirmed)
    assert 'data-testid="payouts"' not in response.content.decode()
    assert not any("disbursements_payout" in sql and "EXISTS" not in sql for sql in queries)


def test_the_unread_badge_counts_what_is_unread_now(seller, buyer):
    txn = scenarios.create(seller, buyer)
    client = _logged_in(seller)
    seller.notifications.update(read_at=txn.created_at)
    assert 'data-testid="unread-count"' not in client.get(_url(txn)).content.decode()
    _remind(seller, txn, "badge:1")
    _remind(seller, txn, "badge:2")
    page = client.get(_url(txn)).content.decode()
    assert '<span class="badge" data-testid="unread-count">2</span>' in page
    seller.notifications.update(read_at=txn.created_at)
    assert 'data-testid="unread-count"' not in client.get(_url(txn)).content.decode()
