"""Every page of the journeys costs a fixed number of queries, whatever the number of rows.

Each page is requested once with a little data, then again after the seller, the buyer and the
transaction have gained many more rows (transactions, timeline events, notifications); the count
must not move, and it must stay within the page's own budget below. A page that starts loading
rows one by one (an N+1) fails here before it is slow in production.
"""
import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from tests import scenarios
from tests.disbursements.fakes import fake_sendme  # noqa: F401  (the SendMe double of the payout budgets)
from transactions.models import Status

pytestmark = pytest.mark.django_db

# page → (who looks, its exact number of queries). Today's counts: change one only with a reason
# (a page that shows more), never because rows were added. Logged-in pages include the user (1
# query); the session is read from the cache (SESSION_ENGINE "cached_db": the database is its record).
BUDGETS = {
    "home": ("anonymous", 0),
    "check_transaction": ("anonymous", 2),  # not cached: the transaction and its timeline
    "check_transaction_cached": ("anonymous", 0),  # pages.public_cache
    "check_payment": ("anonymous", 1),
    "fees": ("anonymous", 1),
    "faq": ("anonymous", 0),
    "refund_policy": ("anonymous", 0),
    "privacy_notice": ("anonymous", 0),
    "dashboard": ("seller", 6),  # with the live-status token (count and last change, one aggregate)
    "create": ("seller", 2),
    # Rendered: the user, the page's version with the access check and the unread count (one query:
    # transactions.selectors.transaction_page_version_for_party), the transaction with its dispute and
    # what its cards have (transaction_detail_for_party), its ledger lines, its timeline.
    "detail_seller": ("seller", 5),
    # Kept (transactions.page_cache): the user and the version's query.
    "detail_seller_kept": ("seller", 2),
    "detail_buyer": ("buyer", 5),
    "dispute_buyer": ("buyer", 7),
    "notifications": ("seller", 4),
    "profile": ("seller", 3),
    "my_data": ("seller", 6),
    "check_transaction_api": ("anonymous", 2),  # the JSON look-up of a reference not looked up yet
    "invitation": ("anonymous", 1),
    "pay": ("buyer", 5),  # the payment page of an accepted transaction: channels, bills, deadline
    "live_status": ("seller", 2),  # the detail page's live-status poll
    "dashboard_status": ("seller", 2),  # the dashboard's live-status poll
    "login": ("anonymous", 0),
    "signup": ("anonymous", 0),
    "password_reset": ("anonymous", 0),
    "password_change": ("seller", 2),
    "health": ("anonymous", 1),  # SELECT 1: the database answers
    "destinations_status": ("seller", 2),  # the payout accounts' verification poll
    "dispute_seller": ("seller", 7),
    "refund_buyer": ("buyer", 10),  # the refund page: the request, its documents, return, payout, refund-by date
    "receipt_pdf": ("buyer", 5),  # documents: the receipt (kuitansi) PDF
    "links": ("seller", 3),  # payment links with their unpaid and paid counts
    "link_create": ("seller", 2),
    "link_manage": ("seller", 6),
    "link_public": ("buyer", 5),  # the buyer's view of a link, with their unpaid holds across the site
    "link_qr": ("anonymous", 1),
    "plans": ("seller", 3),
    "plan_create": ("seller", 2),
    "plan_seller": ("seller", 4),
    "plan_buyer": ("buyer", 4),
    "plan_pdf": ("buyer", 3),
    "partner_links": ("seller", 3),  # the partner platforms the seller connected
    "erase": ("seller", 18),  # what stops an erasure and what is kept until when (privacy.obligations)
}


def _paths(txn, disputed, invited, payable, more):
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
        "detail_seller_kept": reverse("transactions:detail", args=[txn.reference]),
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
        "password_reset": reverse("accounts:password_reset"),
        "password_change": reverse("accounts:password_change"),
        "health": reverse("health"),
        "destinations_status": reverse("accounts:destinations_status"),
        "dispute_seller": reverse("disputes:detail", args=[disputed.reference]),
        "refund_buyer": reverse("refunds:detail", args=[more.refunded.reference]),
        "receipt_pdf": reverse("documents:download", kwargs={"reference": txn.reference, "kind": "kuitansi"}),
        "links": reverse("paylinks:list"),
        "link_create": reverse("paylinks:create"),
        "link_manage": reverse("paylinks:manage", args=[more.link.token]),
        "link_public": more.link.get_absolute_url(),
        "link_qr": reverse("paylinks:qr_png", args=[more.link.token]),
        "plans": reverse("milestones:list"),
        "plan_create": reverse("milestones:create"),
        "plan_seller": more.plan.get_absolute_url(),
        "plan_buyer": more.plan.get_absolute_url(),
        "plan_pdf": reverse("milestones:pdf", args=[more.plan.token]),
        "partner_links": reverse("partners:links"),
        "erase": reverse("privacy:erase"),
    }


def _counts(django_assert_num_queries, clients, txn, disputed, invited, payable, more):
    from django.core.cache import cache

    cache.clear()  # the first Cek Transaksi look-up reads the database, the second the cache
    for client in clients.values():  # each session back in the cache, as every request after login finds it
        client.get(reverse("home"))
    counts = {}
    for page, path in _paths(txn, disputed, invited, payable, more).items():
        who, budget = BUDGETS[page]
        try:
            with django_assert_num_queries(budget) as captured:
                response = clients[who].get(path)
        except pytest.fail.Exception as exc:
            pytest.fail(f"{page}: {exc}")
        assert response.status_code == 200, (page, response.status_code)
        counts[page] = len(captured.captured_queries)
    return counts


def test_every_journey_page_costs_the_same_queries_with_more_rows(seller, buyer, django_assert_num_queries, settings):
    from django.test import Client

    settings.INTRASA_INVITATIONS_PER_DAY = 100  # the growth below creates more than a day's invitations

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
    more = SimpleNamespace(refunded=_refunded(seller, buyer), link=_link_bought(seller), plan=_plan(seller, buyer))
    few = _counts(django_assert_num_queries, clients, txn, disputed, invited, payable, more)

    for _ in range(12):
        scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    for n in range(5):
        from disputes import services as dispute_services

        dispute_services.dispute_post_message(dispute=disputed.dispute, author=buyer, body=f"Pesan ke-{n}")
    for _ in range(3):  # more refunds, links with their purchases, plans with their milestones
        _refunded(seller, buyer)
        _link_bought(seller, link=more.link)
        _link_bought(seller)
        _plan(seller, buyer)
    many = _counts(django_assert_num_queries, clients, txn, disputed, invited, payable, more)
    assert many == few


def _refunded(seller, buyer):
    from escrow import services as escrow_services

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    return txn


def _link_bought(seller, link=None):
    """A payment link (a new one unless given) with one more buyer's transaction started from it."""
    from paylinks import services as link_services
    from tests.factories import UserFactory
    from tests.paylinks.test_payment_links import make_link

    link = link or make_link(seller)
    person = UserFactory()
    scenarios.advance(link_services.payment_link_start(payment_link=link, buyer=person), person, Status.VERIFIED)
    return link


def _plan(seller, buyer):
    from milestones import services as plan_services
    from tests.milestones.conftest import propose

    plan = propose(seller, buyer)
    plan_services.milestone_plan_accept(plan=plan, buyer=buyer)
    return plan


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


# --- one escrow lifecycle: SQL per step ------------------------------------------------------------
# What each service of the happy path costs the request that calls it (the statements inside its
# database transaction; BEGIN/COMMIT not counted), and what the email it schedules costs the worker
# that sends it. ``benchmarks/money.py`` counts the same steps over HTTP against the sandbox. Every
# state change still locks its row, posts its ledger entry, writes its timeline event (and audit row
# where it has one); these ceilings only keep repeated look-ups from coming back. "One write" is
# ``transactions.writes``: the rows a step changes and adds, its event and its notices in one
# statement.
LIFECYCLE_BUDGETS = {
    "create": 2,  # the seller's lock (with the fee schedule), one write (the row, its event, the invitation; today's count)
    "accept": 2,  # lock (with the parties, the partner binding and the buyer as committed), one write
    "payment_start": 4,  # lock, the bills locked at once, the unique amount, one write (bill, UPDATE, event)
    "ship": 2,  # lock, one write (UPDATE, event, notice)
    # lock, one write (UPDATE, event, both notices; counting the reversed bills and an escrow hold
    # other than received, either refusing it), ledger entry, the payout planned (account with the
    # day's limit, one write of the payout and its part, audit; none looked up: it was shipped, so it
    # has none)
    "confirm": 6,
    "email": 2,  # the worker: claim and read in one statement, then mark it sent
    "both_emails": 2,  # both parties' emails of one event, in one task: the same two statements
    # the worker: the part locked, its quota, its UPDATE; SendMe; its transaction, payout and part
    # locked in one statement (partner binding joined), then the success applied: the ledger entry,
    # the part, its payout's parts, the payout completed, the balance, one write (the transaction
    # disbursed and its event), the seller's notice. 11 in production: here the second of its two
    # database transactions is a savepoint of the test's (SAVEPOINT, RELEASE).
    "dispatch": 13,
}


def test_escrow_lifecycle_costs_its_budget_per_step(seller, buyer, fake_sendme, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from disbursements.models import Disbursement
    from disbursements.services import disbursement_dispatch
    from escrow import services as escrow_services
    from ledger.models import JournalEntry
    from notifications.models import Notification
    from notifications.tasks import send_notification_email, send_notification_emails
    from payments import services as payment_services
    from tests.disbursements.conftest import verified_bank
    from transactions import services
    from transactions.models import TransactionEvent

    settings.SENDME_NIGHT_HOLD_BANK = False
    verified_bank(seller)
    _pay_one_first(seller, buyer)  # first-use rows exist: the day's quota, the SendMe deposit account
    counts = {}

    def step(name, work):
        with CaptureQueriesContext(connection) as captured:
            result = work()
        statements = [query["sql"] for query in captured.captured_queries]
        # Inside the test's transaction the service's own block is a savepoint; in production it is
        # the transaction itself (BEGIN/COMMIT, not counted). Any savepoint nested in it counts.
        opened = next((n for n, sql in enumerate(statements) if sql.startswith("SAVEPOINT")), None)
        if opened is not None:
            name_of_block = statements[opened].split()[-1]
            statements = [sql for n, sql in enumerate(statements)
                          if n != opened and sql != f"RELEASE SAVEPOINT {name_of_block}"]
        counts[name] = len(statements)
        return result

    txn = step("create", lambda: scenarios.create(seller, buyer))
    txn = step("accept", lambda: services.transaction_accept(escrow_transaction=txn, buyer=buyer))
    step("payment_start", lambda: payment_services.payment_start(
        escrow_transaction=txn, buyer=buyer, channel_code=payment_services.BANK_TRANSFER))
    txn = scenarios.pay_by_transfer(txn, buyer)
    txn = step("ship", lambda: services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne",
                                                         tracking_number="JNE0012345678"))
    txn = step("confirm", lambda: escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer))
    notice = Notification.objects.get(event_key=f"txn:{txn.reference}:confirmed_seller:{seller.pk}")
    step("email", lambda: send_notification_email(notice.pk))
    both = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    both_notices = list(Notification.objects.filter(event_key__startswith=f"txn:{both.reference}:confirmed_")
                        .values_list("pk", flat=True))
    step("both_emails", lambda: send_notification_emails(both_notices))
    part = Disbursement.objects.get(payout__escrow_transaction=txn)
    step("dispatch", lambda: disbursement_dispatch(disbursement_id=part.pk, client=fake_sendme))

    over = {name: (counts[name], budget) for name, budget in LIFECYCLE_BUDGETS.items() if counts[name] > budget}
    assert not over, f"steps over their budget (count, budget): {over}"
    # Nothing was skipped to get there: every step is on the timeline, the release and the payout are
    # booked, the payout paid with its part, both parties told and the email sent, with the seller's
    # name.
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    assert list(TransactionEvent.objects.filter(escrow_transaction=txn).values_list("action", flat=True)
                .order_by("id")) == ["created", "accepted", "payment_method_chosen", "mark_paid", "verify", "ship",
                                     "confirm", "mark_disbursed"]
    assert txn.journal_entries.filter(kind="escrow_release").count() == 1
    assert JournalEntry.objects.filter(idempotency_key=f"disbursement:{part.pk}:sent").count() == 1
    payout = txn.payouts.get()
    assert payout.status == "completed" and payout.parts.get().status == "succeeded"
    assert Notification.objects.filter(event_key=f"disbursement:{part.pk}:succeeded").count() == 1
    assert Notification.objects.filter(event_key__startswith=f"txn:{txn.reference}:confirmed_").count() == 2
    notice.refresh_from_db()
    assert notice.email_sent_at is not None
    from django.core import mail

    assert "Sari" in mail.outbox[-3].body
    assert Notification.objects.filter(pk__in=both_notices, email_sent_at__isnull=False).count() == 2


# --- every page is in the table above ---------------------------------------------------------------
# What answers a GET but is not a page of the journeys, and why it has no budget here.
NOT_JOURNEY_PAGES = {
    # Staff steps: staff only, and nothing on them grows with rows.
    "accounts:staff_second_factor": "staff's second factor",
    "accounts:staff_authenticator": "staff's authenticator set-up",
    "privacy:staff_access": "staff's reason before opening someone's data (a form)",
    # One-time links from an email: one row looked up by its token, then a redirect.
    "accounts:verify_email": "one-time link",
    "accounts:password_reset_confirm": "one-time link",
    "privacy:email_confirm": "one-time link",
    "notifications:open": "marks one notification read and redirects to its page",
    # Redirects and confirmations with no data of their own.
    "accounts:password_reset_done": "a sentence, no data",
    "accounts:password_reset_complete": "a sentence, no data",
    "accounts:password_change_done": "a sentence, no data",
    "accounts:set_language": "redirects (the switch is a POST)",
    # Files served from storage: one row looked up by its key (their own tests check who may).
    "disputes:evidence": "a file",
    "refunds:document": "a file",
    "privacy:export_download": "a file",
    "payments:qris_image": "the QR image of the payment page's one bill",
    # Answers for scripts, not pages: an htmx fragment with its own tests, the partner consent step.
    "transactions:quote": "the fee quote fragment of the create form (no rows read but the fee schedule)",
    "partners:authorize": "the partner consent step (tests/partners/test_consent.py)",
}


def test_every_page_that_answers_a_get_has_a_budget(client, seller):
    """A new page fails here until it has its budget above (or a reason in NOT_JOURNEY_PAGES)."""
    from urllib.parse import urlsplit

    from django.urls import resolve

    from tests.security.test_access import routes

    stand_in = SimpleNamespace(reference="INT-AAAA-BBBB-CCCC", invitation_token="t", token="t",
                               get_absolute_url=lambda: reverse("paylinks:public", args=["t"]))
    plan = SimpleNamespace(token="t", get_absolute_url=lambda: reverse("milestones:detail", args=["t"]))
    more = SimpleNamespace(refunded=stand_in, link=stand_in, plan=plan)
    budgeted = {resolve(urlsplit(path).path).view_name
                for path in _paths(stand_in, stand_in, stand_in, stand_in, more).values()}
    client.force_login(seller)
    answers_get = set()
    for route, _name in routes():
        if route.startswith(("api/v1/", "dev/")):
            continue  # the partner API: tests/partners/test_query_costs.py; dev/: never mounted in production
        path = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", "1", route)
        view_name = resolve(path).view_name
        if client.get(path).status_code != 405:
            answers_get.add(view_name)
    unbudgeted = answers_get - budgeted - set(NOT_JOURNEY_PAGES)
    assert not unbudgeted, f"pages without a query budget: {sorted(unbudgeted)}"
    stale = set(NOT_JOURNEY_PAGES) - answers_get
    assert not stale, f"NOT_JOURNEY_PAGES names what no longer answers a GET: {sorted(stale)}"
