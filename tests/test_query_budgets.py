"""Every page of the journeys costs a fixed number of queries, whatever the number of rows.

Each page is requested once with a little data, then again after the seller, the buyer and the
transaction have gained many more rows (transactions, timeline events, notifications); the count
must not move, and it must stay within the page's own budget below. A page that starts loading
rows one by one (an N+1) fails here before it is slow in production.
"""
import pytest
from django.urls import reverse

from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db

# page → (who looks, its exact number of queries). Today's counts: change one only with a reason
# (a page that shows more), never because rows were added. Logged-in pages include the session
# and the user (2 queries).
BUDGETS = {
    "home": ("anonymous", 0),
    "check_transaction": ("anonymous", 2),  # not cached: the transaction and its timeline
    "check_transaction_cached": ("anonymous", 0),  # pages.public_cache
    "check_payment": ("anonymous", 1),
    "fees": ("anonymous", 1),
    "faq": ("anonymous", 0),
    "refund_policy": ("anonymous", 0),
    "privacy_notice": ("anonymous", 0),
    "dashboard": ("seller", 7),  # with the live-status token (count and last change, one aggregate)
    "create": ("seller", 3),
    "detail_seller": ("seller", 9),
    "detail_buyer": ("buyer", 9),
    "dispute_buyer": ("buyer", 8),
    "notifications": ("seller", 5),
    "profile": ("seller", 4),
    "my_data": ("seller", 7),
}


def _paths(txn, disputed):
    return {
        "home": reverse("home"),
        "check_transaction": reverse("pages:check_transaction") + f"?reference={txn.reference}",
        "check_transaction_cached": reverse("pages:check_transaction") + f"?reference={txn.reference}",
        "check_payment": reverse("pages:check_payment") + f"?code={txn.reference}",
        "fees": reverse("pages:fees"),
        "faq": reverse("pages:faq"),
        "refund_policy": reverse("pages:refund_policy"),
        "privacy_notice": reverse("privacy:notice"),
        "dashboard": reverse("transactions:dashboard"),
        "create": reverse("transactions:create"),
        "detail_seller": reverse("transactions:detail", args=[txn.reference]),
        "detail_buyer": reverse("transactions:detail", args=[txn.reference]),
        "dispute_buyer": reverse("disputes:detail", args=[disputed.reference]),
        "notifications": reverse("notifications:list"),
        "profile": reverse("accounts:profile"),
        "my_data": reverse("privacy:my_data"),
    }


def _counts(django_assert_num_queries, clients, txn, disputed):
    from django.core.cache import cache

    cache.clear()  # the first Cek Transaksi look-up reads the database, the second the cache
    counts = {}
    for page, path in _paths(txn, disputed).items():
        who, budget = BUDGETS[page]
        try:
            with django_assert_num_queries(budget) as captured:
                response = clients[who].get(path)
        except pytest.fail.Exception as exc:
            pytest.fail(f"{page}: {exc}")
        assert response.status_code == 200, (page, response.status_code)
        counts[page] = len(captured.captured_queries)
    return counts


def test_every_journey_page_costs_the_same_queries_with_more_rows(seller, buyer, django_assert_num_queries):
    from django.test import Client

    clients = {"anonymous": Client(), "seller": Client(), "buyer": Client()}
    clients["seller"].force_login(seller)
    clients["buyer"].force_login(buyer)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    disputed = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(disputed, buyer)
    for who in ("anonymous", "seller", "buyer"):  # sessions, language and first-request work done
        clients[who].get(reverse("home"))
    few = _counts(django_assert_num_queries, clients, txn, disputed)

    for _ in range(12):
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    for n in range(5):
        from disputes import services as dispute_services

        dispute_services.dispute_post_message(dispute=disputed.dispute, author=buyer, body=f"Pesan ke-{n}")
    many = _counts(django_assert_num_queries, clients, txn, disputed)
    assert many == few
