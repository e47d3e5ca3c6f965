"""Every page of the journeys costs a fixed number of queries, whatever the number of rows.

Each page is requested once with a little data, then again after the seller, the buyer and the
transaction have gained many more rows (transactions, timeline events, notifications); the count
must not move, and it must stay within the page's own budget below. A page that starts loading
rows one by one (an N+1) fails here before it is slow in production.
"""
import datetime as dt

import pytest
from django.urls import reverse

from tests import scenarios
from tests.disbursements.fakes import fake_sendme  # noqa: F401  (the SendMe double of the payout budgets)
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
    "check_transaction_api": ("anonymous", 2),  # the JSON look-up of a reference not looked up yet
    "invitation": ("anonymous", 1),
    "pay": ("buyer", 6),  # the payment page of an accepted transaction: channels, bills, deadline
    "live_status": ("seller", 3),  # the detail page's live-status poll
    "dashboard_status": ("seller", 3),  # the dashboard's live-status poll
    "login": ("anonymous", 0),
    "signup": ("anonymous", 0),
}


def _paths(txn, disputed, invited, payable):
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
        "check_transaction_api": reverse("pages:check_transaction_api", args=[payable.reference]),
        "invitation": reverse("transactions:invitation", args=[invited.invitation_token]),
        "pay": reverse("payments:pay", args=[payable.reference]),
        "live_status": reverse("transactions:status", args=[txn.reference]),
        "dashboard_status": reverse("transactions:dashboard_status"),
        "login": reverse("accounts:login"),
        "signup": reverse("accounts:signup"),
    }


def _counts(django_assert_num_queries, clients, txn, disputed, invited, payable):
    from django.core.cache import cache

    cache.clear()  # the first Cek Transaksi look-up reads the database, the second the cache
    counts = {}
    for page, path in _paths(txn, disputed, invited, payable).items():
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
    invited = scenarios.create(seller, buyer)
    payable = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    few = _counts(django_assert_num_queries, clients, txn, disputed, invited, payable)

    for _ in range(12):
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    for n in range(5):
        from disputes import services as dispute_services

        dispute_services.dispute_post_message(dispute=disputed.dispute, author=buyer, body=f"Pesan ke-{n}")
    many = _counts(django_assert_num_queries, clients, txn, disputed, invited, payable)
    assert many == few


# --- the periodic payout jobs: SQL per payout part -------------------------------------------------
# One run of ``dispatch_due_disbursements`` / ``resolve_due_disbursements`` that pays every part it
# handles (the costliest path: a ledger entry, the payout completed, the transaction disbursed and a
# notification per part) may spend at most this many statements per part, the scan included. The
# parts of a chunk share their locks and bulk writes; what is left per part is its quota UPDATE
# (dispatch), its ledger entry and its transaction's UPDATE.
SQL_PER_PART = 8


def _queued_parts(seller, buyer, n):
    from disbursements.models import Disbursement

    for _ in range(n):
        scenarios.advance(scenarios.create(seller, buyer, fee_payer="buyer"), buyer, Status.CONFIRMED)
    # Eager Celery runs nothing here (no commit in this test): the parts wait in the queue.
    return list(Disbursement.objects.filter(status=Disbursement.Status.QUEUED))


def _pay_one_first(seller, buyer):
    """The day's quota row and the SendMe deposit account exist from the first payout of the day
    on; the budget is about the steady state."""
    from disbursements import tasks

    _queued_parts(seller, buyer, 1)
    assert tasks.dispatch_due_disbursements() == 1


@pytest.mark.parametrize("n", [5, 12])
def test_dispatch_cycle_costs_at_most_eight_statements_per_part(seller, buyer, fake_sendme, settings, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from disbursements import tasks
    from disbursements.models import Disbursement, Payout
    from notifications.models import Notification
    from tests.disbursements.conftest import verified_bank

    settings.SENDME_NIGHT_HOLD_BANK = False
    verified_bank(seller)
    _pay_one_first(seller, buyer)
    parts = _queued_parts(seller, buyer, n)
    with CaptureQueriesContext(connection) as captured:
        assert tasks.dispatch_due_disbursements() == n
    per_part = len(captured.captured_queries) / n
    assert per_part <= SQL_PER_PART, f"{per_part:.1f} statements per part"
    # The work was done, not skipped: every part paid, its payout completed, its transaction
    # closed and its seller told, exactly once.
    ids = [part.pk for part in parts]
    assert set(Disbursement.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Disbursement.Status.SUCCEEDED}
    assert set(Payout.objects.filter(parts__pk__in=ids).values_list("status", flat=True)) == {Payout.Status.COMPLETED}
    assert set(Disbursement.objects.filter(pk__in=ids).values_list("payout__escrow_transaction__status", flat=True)) == {
        Status.DISBURSED}
    assert Notification.objects.filter(kind="payout_sent", event_key__in=[f"disbursement:{pk}:succeeded"
                                                                          for pk in ids]).count() == n
    assert len(fake_sendme.sent) == n + 1


@pytest.mark.parametrize("n", [5, 12])
def test_resolve_cycle_costs_at_most_eight_statements_per_part(seller, buyer, fake_sendme, settings, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from disbursements import tasks
    from disbursements.models import Disbursement
    from ledger.models import JournalEntry
    from tests.disbursements.conftest import verified_bank
    from tests.disbursements.fakes import accepted

    settings.SENDME_NIGHT_HOLD_BANK = False
    verified_bank(seller)
    _pay_one_first(seller, buyer)
    parts = _queued_parts(seller, buyer, n)
    fake_sendme.answers = [accepted(f"PENDING{i:08d}", status="03") for i in range(n)]  # in process at SendMe
    tasks.dispatch_due_disbursements()
    ids = [part.pk for part in parts]
    assert set(Disbursement.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Disbursement.Status.PENDING}
    Disbursement.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    with CaptureQueriesContext(connection) as captured:
        assert tasks.resolve_due_disbursements() == n
    per_part = len(captured.captured_queries) / n
    assert per_part <= SQL_PER_PART, f"{per_part:.1f} statements per part"
    assert len(fake_sendme.inquiries) == n
    assert set(Disbursement.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Disbursement.Status.SUCCEEDED}
    assert JournalEntry.objects.filter(idempotency_key__in=[f"disbursement:{pk}:sent" for pk in ids]).count() == n
