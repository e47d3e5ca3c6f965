"""The transaction page's kept page (``transactions.page_cache``) is never stale after a write, whatever made
the write, and never carries one request's token, viewer or language into another's page.

The class test: every table the page reads (its SQL captured in every state, both parties) either records
its changes (a ``intrasa_page_change_*`` trigger, found in PostgreSQL's catalogue) or is listed below with
the reason it need not; and a raw SQL write to a row of each recording table moves the version."""
import datetime as dt
import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger.models import AccountCategory, EntryKind
from ledger.services import credit, debit, entry_post
from refunds import services as refund_services
from refunds.models import ReturnShipment
from refunds.policy import RefundCase
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import fake_sendme  # noqa: F401  (fixture: SendMe answers in-process)
from tests.factories import UserFactory
from tests.transactions.test_detail_page_cost import _logged_in, _queries, _states, _url
from transactions import page_cache, selectors
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db

# Read by the page but not part of its version, and why that is safe.
NOT_RECORDED = {
    # The header's unread count: read on every request by the version's own statement, never kept.
    "notifications_notification": "read live",
    # Written in one statement with their entry (ledger_journalentry records it) and never changed after.
    "ledger_posting": "append-only, with its entry",
    "ledger_account": "created with the transaction's first entry, never changed",
    # The payout card's expected time plays the whole queue forward under the daily limit; it is kept
    # PAYOUT_OUTLOOK_SECONDS on its own, and the page at most PAGE_SECONDS.
    "disbursements_dailyquota": "bounded by time",
    "disbursements_dailylimitchange": "bounded by time",
    # What a permission is (its name, its model): written by migrations, never by a running site. Who holds
    # one is recorded (accounts_user_user_permissions, accounts_user_groups, auth_group_permissions).
    "auth_permission": "definitions",
    "django_content_type": "definitions",
    # A group's own row is its name; deleting it deletes its memberships and grants, which are recorded.
    "auth_group": "its name only",
}


def _recording_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'intrasa_page_change_%'")
        return {row[0] for row in cursor.fetchall()}


def _version(user, txn) -> int:
    return selectors.transaction_page_version_for_party(user=user, reference=txn.reference).version


@pytest.fixture
def every_state(seller, buyer, fake_sendme):  # noqa: F811
    states = _states(seller, buyer)
    refunded = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    request = refund_services.refund_request_submit(
        escrow_transaction=refunded, buyer=buyer, case=RefundCase.DOUBLE_PAYMENT, amount=10_000,
        description="Terpotong dua kali dari rekening saya.")
    # A return shipment written straight to the table: the triggers must not care who writes.
    ReturnShipment.objects.create(refund_request=request, rma_number="RMA-PAGE-1",
                                  address_due_at=timezone.now() + dt.timedelta(days=2))
    states["refund"] = refunded
    # A party who is also staff: what they may see on the page follows their permissions.
    staff_seller = UserFactory(full_name="Staf Penjual", is_staff=True)
    staff_seller.user_permissions.add(Permission.objects.get(codename="view_refundrequest"))
    group = Group.objects.create(name="Finance (page test)")
    group.permissions.add(Permission.objects.get(codename="view_escrowtransaction"))
    staff_seller.groups.add(group)
    staff_sold = scenarios.advance(scenarios.create(staff_seller, buyer), buyer, Status.VERIFIED)
    refund_services.refund_request_submit(
        escrow_transaction=staff_sold, buyer=buyer, case=RefundCase.DOUBLE_PAYMENT, amount=10_000,
        description="Terpotong dua kali dari rekening saya.")
    states["staff_seller"] = staff_sold
    return states


def test_the_version_function_counts_what_the_orm_counts_in_every_state(seller, buyer, stranger, every_state):
    """The per-request read is a PL/pgSQL function (migrations transactions 0009, 0010): its counts are the ORM's."""
    from django.db.models import Q
    from django.http import Http404

    from notifications.models import Notification
    from transactions.models import PageChange

    for txn in every_state.values():
        for viewer in filter(None, (txn.seller, txn.buyer)):
            read = selectors.transaction_page_version_for_party(user=viewer, reference=txn.reference)
            parties = Q(user_id=txn.seller_id) | Q(user_id=txn.buyer_id) if txn.buyer_id else Q(user_id=txn.seller_id)
            assert read.transaction_pk == txn.pk
            assert read.version == (PageChange.objects.filter(escrow_transaction_id=txn.pk).count()
                                    + PageChange.objects.filter(parties).count()) > 0
            assert read.unread_notification_count == Notification.objects.filter(
                recipient=viewer, read_at__isnull=True).count()
        with pytest.raises(Http404):
            selectors.transaction_page_version_for_party(user=stranger, reference=txn.reference)
    with pytest.raises(Http404):
        selectors.transaction_page_version_for_party(user=seller, reference="INT-0000-0000-0000")


def test_every_table_the_page_reads_records_its_changes_or_says_why_not(seller, buyer, every_state):
    read: dict[str, set[str]] = {}
    for name, txn in every_state.items():
        for role, user in (("seller", txn.seller), ("buyer", buyer)):
            if role == "buyer" and name == "invited":
                continue
            for sql in _queries(_logged_in(user), txn)[1]:
                for table in re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', sql):
                    read.setdefault(table, set()).add(name)
    recording = _recording_tables()
    unaccounted = set(read) - recording - set(NOT_RECORDED) - {"transactions_pagechange"}
    assert not unaccounted, f"read by the transaction page, but a write to it would not move the version: {unaccounted}"
    # The cards the states above show were all read (else this test would prove nothing about them).
    assert {"disbursements_payout", "disbursements_disbursement", "disputes_dispute", "refunds_refundrequest",
            "refunds_returnshipment", "transactions_transactionevent", "ledger_journalentry",
            "accounts_user_user_permissions", "accounts_user_groups", "auth_group_permissions"} <= set(read)


def _a_row_of(table: str, txn) -> int | None:
    """The id of a row of ``table`` that belongs to ``txn`` (for ``accounts_user``: its seller)."""
    links = {
        "transactions_escrowtransaction": "id = %s",
        "transactions_transactionevent": "escrow_transaction_id = %s",
        "ledger_journalentry": "escrow_transaction_id = %s",
        "disbursements_payout": "escrow_transaction_id = %s",
        "disbursements_disbursement": "payout_id IN (SELECT id FROM disbursements_payout WHERE escrow_transaction_id = %s)",
        "disputes_dispute": "escrow_transaction_id = %s",
        "refunds_refundrequest": "escrow_transaction_id = %s",
        "refunds_returnshipment": "refund_request_id IN (SELECT id FROM refunds_refundrequest WHERE escrow_transaction_id = %s)",
    }
    parties = {"accounts_user_user_permissions": "user_id = %s", "accounts_user_groups": "user_id = %s",
               "auth_group_permissions": "group_id IN (SELECT group_id FROM accounts_user_groups WHERE user_id = %s)"}
    with connection.cursor() as cursor:
        if table == "accounts_user":
            return txn.seller_id
        if table in parties:
            cursor.execute(f"SELECT id FROM {table} WHERE {parties[table]} ORDER BY id LIMIT 1", [txn.seller_id])  # noqa: S608
            row = cursor.fetchone()
            return row[0] if row else None
        cursor.execute(f"SELECT id FROM {table} WHERE {links[table]} ORDER BY id LIMIT 1", [txn.pk])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


# Text columns a raw write must not touch: constrained to their choices, or not free text.
_CONSTRAINED = {"status", "kind", "purpose", "method", "category", "action", "flag", "outcome", "case", "reason_code",
                "from_status", "to_status", "actor_role", "side", "courier", "fee_payer", "delivery_source",
                "waiting_for", "password", "email", "reference", "invitation_token", "phone"}


def _a_free_text_column(cursor, table: str) -> str | None:
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                   "AND data_type IN ('text', 'character varying') ORDER BY ordinal_position", [table])
    return next((name for (name,) in cursor.fetchall() if name not in _CONSTRAINED), None)


def test_a_raw_write_to_any_recording_table_moves_the_version(seller, buyer, every_state):
    """Not through the ORM's signals: an UPDATE in SQL, as ``QuerySet.update()`` or psql would send it."""
    tested = set()
    append_only = {"ledger_journalentry"}  # refused by the ledger's own triggers; its inserts are tested below
    for table in sorted(_recording_tables() - append_only):
        for txn in every_state.values():
            row = _a_row_of(table, txn)
            if row is None:
                continue
            before = _version(txn.seller, txn)
            with connection.cursor() as cursor:
                column = _a_free_text_column(cursor, table)
                if column is None:  # a join table: rewriting the row is the write
                    cursor.execute(f"UPDATE {table} SET id = id WHERE id = %s", [row])  # noqa: S608
                else:
                    cursor.execute(f"UPDATE {table} SET {column} = {column} || '·' WHERE id = %s", [row])  # noqa: S608
            assert _version(txn.seller, txn) > before, table
            tested.add(table)
            break
    assert tested == _recording_tables() - append_only
    # A ledger entry alone, the transaction's row untouched (the ledger's PostgreSQL function writes it).
    txn = every_state["accepted"]
    before = _version(seller, txn)
    with transaction.atomic():
        entry_post(idempotency_key="page-version", kind=EntryKind.PAYMENT_VERIFIED, memo="test", escrow_transaction=txn,
                   lines=[debit(AccountCategory.PROVIDER_CLEARING, 1000), credit(AccountCategory.ESCROW_HOLD, 1000)])
    assert _version(seller, txn) == before + 1


def _a_buyers_refund_a_staff_seller_may_see(seller, buyer):
    """A buyer's double-payment refund request, which the seller sees only as staff with
    ``refunds.view_refundrequest`` (``refunds.access``); the seller is made so."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    refund_services.refund_request_submit(
        escrow_transaction=txn, buyer=buyer, case=RefundCase.DOUBLE_PAYMENT, amount=10_000,
        description="Terpotong dua kali dari rekening saya.")
    type(seller).objects.filter(pk=seller.pk).update(is_staff=True)
    seller.user_permissions.add(Permission.objects.get(codename="view_refundrequest"))
    return txn


def test_a_staff_party_who_loses_a_permission_stops_seeing_what_it_showed_at_once(seller, buyer):
    """A seller who is also staff with ``refunds.view_refundrequest`` sees the buyer's double-payment refund
    request (``refunds.access``); revoked by a plain update, as a script would, the kept page must follow."""
    txn = _a_buyers_refund_a_staff_seller_may_see(seller, buyer)
    client = _logged_in(seller)
    assert 'data-testid="refund-link"' in client.get(_url(txn)).content.decode()
    assert 'data-testid="refund-link"' in client.get(_url(txn)).content.decode()  # kept
    type(seller).objects.filter(pk=seller.pk).update(is_staff=False)
    seller.user_permissions.clear()
    assert 'data-testid="refund-link"' not in client.get(_url(txn)).content.decode()


def test_a_staff_flag_revoked_while_a_request_runs_is_not_kept_for_the_next(seller, buyer, monkeypatch):
    """The request loaded its user (staff) before the revoke committed and read the version after it: its page,
    rendered for a staff viewer, is kept under the new version, but not for a viewer loaded without the flag."""
    from transactions import views

    txn = _a_buyers_refund_a_staff_seller_may_see(seller, buyer)
    client = _logged_in(seller)
    read_version = selectors.transaction_page_version_for_party

    def revoked_meanwhile(*, user, reference):  # another process commits between the user's load and the version
        type(seller).objects.filter(pk=seller.pk).update(is_staff=False)
        return read_version(user=user, reference=reference)

    monkeypatch.setattr(views.selectors, "transaction_page_version_for_party", revoked_meanwhile)
    assert 'data-testid="refund-link"' in client.get(_url(txn)).content.decode()  # as the request's user saw it
    monkeypatch.setattr(views.selectors, "transaction_page_version_for_party", read_version)
    assert 'data-testid="refund-link"' not in client.get(_url(txn)).content.decode()


def test_the_invitation_link_keeps_the_scheme_it_was_asked_over(seller, buyer):
    txn = scenarios.create(seller, buyer)
    client = _logged_in(seller)
    assert 'value="https://' in client.get(_url(txn), secure=True).content.decode()
    plain = client.get(_url(txn), secure=False).content.decode()
    assert 'value="http://' in plain and 'value="https://' not in plain


def test_a_later_migration_may_change_the_type_of_a_column_the_triggers_read(seller):
    """The triggers test columns inside their functions, not in WHEN or UPDATE OF, on which PostgreSQL
    would refuse any ALTER COLUMN TYPE of them (an ordinary AlterField)."""
    from django.db import models

    user_model = type(seller)
    old = user_model._meta.get_field("full_name")
    new = models.CharField(max_length=old.max_length + 50, verbose_name="full name")
    new.set_attributes_from_name("full_name")
    new.model = user_model
    with connection.schema_editor() as editor:
        editor.alter_field(user_model, old, new)
    before = _version(seller, txn := scenarios.create(seller, buyer=None))
    user_model.objects.filter(pk=seller.pk).update(full_name="Sari Penjual Setelah Migrasi")
    assert _version(seller, txn) == before + 1


def test_every_web_process_finds_the_bodies_another_kept():
    """gunicorn's workers import the module each: the keys must not differ between them."""
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'intrasa.settings.test'); "
            "django.setup(); from transactions import page_cache; print(page_cache._salt())")
    generations = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
                   for _ in range(2)}
    assert len(generations) == 1


def test_a_payout_promise_passing_ends_a_kept_page(seller, buyer, fake_sendme, monkeypatch):  # noqa: F811
    """The payout card turns "later than promised" when the promise passes behind the expected time (an expected
    time already past is shown as now): by the clock alone, so the promise is a deadline of the kept page."""
    from disbursements import selectors as payout_selectors
    from disbursements.models import Payout
    from disbursements.templatetags import payouts as payouts_tag

    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    payout = Payout.objects.get(escrow_transaction=txn, recipient=seller)
    due = timezone.now() + dt.timedelta(seconds=30)
    Payout.objects.filter(pk=payout.pk).update(due_at=due, status=Payout.Status.IN_PROGRESS)

    def kept_replay(*, payouts):  # a kept replay: expected 10 s before the promise, as of now
        return payout_selectors._as_of_now({p.pk: payout_selectors.Outlook(
            payout_id=p.pk, due_at=p.due_at, expected_at=due - dt.timedelta(seconds=10), reason="daily_limit")
            for p in payouts})

    monkeypatch.setattr(payouts_tag, "payout_outlooks", kept_replay)
    client = _logged_in(seller)

    def expected_line():
        page = client.get(_url(txn)).content.decode()
        before, _marker, after = page.partition('data-testid="payout-expected"')
        return before[-60:] + after[:60]

    assert "warning" not in expected_line()
    assert "warning" not in expected_line()  # kept
    later = due + dt.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "warning" in expected_line()


def test_a_party_logging_in_moves_nothing(seller, buyer):
    """Only a change the page shows counts: a login (last_login) keeps the page kept."""
    txn = scenarios.create(seller, buyer)
    before = _version(seller, txn)
    _logged_in(seller)
    type(seller).objects.filter(pk=seller.pk).update(last_login=timezone.now())
    assert _version(seller, txn) == before


def test_a_write_the_orm_signals_never_see_shows_at_once(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    assert "Kamera Mirrorless Bekas" in client.get(_url(txn)).content.decode()
    assert client.get(_url(txn)).content.decode().count("Budi Pembeli") >= 1  # kept now
    EscrowTransaction.objects.filter(pk=txn.pk).update(title="Kamera Mirrorless Baru")
    type(buyer).objects.filter(pk=buyer.pk).update(full_name="Budi Santoso")
    page = client.get(_url(txn)).content.decode()
    assert "Kamera Mirrorless Baru" in page and "Budi Santoso" in page and "Budi Pembeli" not in page


def test_a_page_this_process_kept_costs_no_redis_round_trip_and_another_process_finds_it_in_redis(seller, buyer,
                                                                                                 monkeypatch):
    import redis

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    rendered = client.get(_url(txn)).content.decode()
    sent = []
    send = redis.connection.Connection.send_packed_command
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command",
                        lambda self, command, *a, **k: sent.append(command) or send(self, command, *a, **k))
    kept_here = client.get(_url(txn))
    assert kept_here.context is None  # not rendered
    assert len(sent) == 1  # the session; the page came from this process's memory
    page_cache.forget_kept_here()  # as another web process: nothing of its own in memory
    sent.clear()
    from_redis = client.get(_url(txn))
    assert from_redis.context is None and len(sent) == 2  # the session, then the page from Redis
    assert _without_tokens(kept_here.content.decode()) == _without_tokens(from_redis.content.decode()) \
        == _without_tokens(rendered)


def test_a_copy_in_memory_ends_by_the_monotonic_clock_too(seller, buyer, monkeypatch):
    """A wall clock stepped back (NTP, a resumed VM) must not keep this process's copy past PAGE_SECONDS."""
    import time

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    client.get(_url(txn))
    assert client.get(_url(txn)).context is None  # kept
    later = time.monotonic() + page_cache.PAGE_SECONDS + 1
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    from django.core.cache import cache

    cache.clear()  # and Redis's copy gone, as its timeout would have taken it
    assert client.get(_url(txn)).context is not None  # rendered again


def test_memory_holds_a_bounded_length_of_pages_and_never_an_outsized_one(monkeypatch):
    monkeypatch.setattr(page_cache, "LOCAL_BYTES", 250)
    monkeypatch.setattr(page_cache, "LOCAL_PAGE_BYTES", 120)
    page_cache.forget_kept_here()
    fresh_until = timezone.now().timestamp() + 30
    for n in range(10):
        page_cache._keep_here(f"k{n}", ("stand-in", fresh_until, "x" * 100), timezone.now().timestamp())
    page_cache._keep_here("huge", ("stand-in", fresh_until, "x" * 121), timezone.now().timestamp())
    assert list(page_cache._local_pages) == ["k8", "k9"] and page_cache._local_bytes == 200
    assert page_cache._kept_here("k9", timezone.now().timestamp()) is not None
    assert page_cache._kept_here("huge", timezone.now().timestamp()) is None
    page_cache.forget_kept_here()
    assert page_cache._local_bytes == 0


def test_the_version_function_outlives_a_type_change_of_the_columns_it_returns(seller, buyer):
    """PostgreSQL does not track what a function body reads: a later migration may change these columns."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    before = _version(seller, txn)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's writes' deferred checks, fired first
        cursor.execute("ALTER TABLE transactions_escrowtransaction ALTER COLUMN buyer_id TYPE integer, "
                       "ALTER COLUMN seller_id TYPE integer")
        cursor.execute("ALTER TABLE transactions_pagechange ALTER COLUMN user_id TYPE integer")
    assert _version(seller, txn) == before


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_a_kept_page_is_served_without_rendering_and_carries_this_requests_csrf_token(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for client in (first, second):
        client.force_login(seller)
    rendered = first.get(_url(txn)).content.decode()
    kept_response, kept_queries = _queries(second, txn, kept=True)
    assert len(kept_queries) == 2  # the user, then access + version + unread count
    kept = kept_response.content.decode()
    tokens = {re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[0] for page in (rendered, kept)}
    assert len(tokens) == 2 and not any(token.startswith("csrf-") for token in tokens)
    assert "csrf-" not in kept  # the stand-in never reaches a page
    # The kept page's form works for its own session: ship with its token.
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', kept)[0]
    response = second.post(reverse("transactions:act", args=[txn.reference, "ship"]),
                           {"csrfmiddlewaretoken": token, "courier": "jne", "tracking_number": "JNE0012345678"})
    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.status == Status.SHIPPED
    assert "ship-form" not in second.get(_url(txn)).content.decode()  # and the page moved on at once


def test_each_party_and_each_language_has_its_own_page(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    seller_client, buyer_client = _logged_in(seller), _logged_in(buyer)
    seller_page = seller_client.get(_url(txn)).content.decode()
    buyer_page = buyer_client.get(_url(txn)).content.decode()
    assert 'id="ship-form"' in seller_page and 'id="ship-form"' not in buyer_page
    assert 'id="ship-form"' not in buyer_client.get(_url(txn)).content.decode()  # kept: still the buyer's own
    seller_client.cookies["django_language"] = "en"
    english = seller_client.get(_url(txn)).content.decode()
    assert "What you can do now" in english and "What you can do now" not in seller_page


def test_a_deadline_passing_ends_a_kept_page_though_nothing_was_written(seller, buyer, monkeypatch):
    """The buyer may extend the inspection period until it ends: the kept page must not offer it after."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    txn.refresh_from_db()
    client = _logged_in(buyer)
    assert 'data-testid="extend-inspection"' in client.get(_url(txn)).content.decode()
    assert 'data-testid="extend-inspection"' in client.get(_url(txn)).content.decode()  # kept
    later = txn.inspection_ends_at + dt.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert 'data-testid="extend-inspection"' not in client.get(_url(txn)).content.decode()


def test_a_kept_page_lasts_at_most_page_seconds(seller, buyer, monkeypatch):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    client.get(_url(txn))
    assert len(_queries(client, txn, kept=True)[1]) == 2
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(seconds=page_cache.PAGE_SECONDS + 1))
    assert len(_queries(client, txn, kept=True)[1]) > 2


def test_a_stranger_gets_404_though_the_page_is_kept(seller, buyer, stranger):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    _logged_in(seller).get(_url(txn))
    assert _logged_in(stranger).get(_url(txn)).status_code == 404


def test_not_kept_where_the_version_is_not_real(settings):
    """SQLite (``make run``) has no triggers, and a per-process cache would miss the worker's writes."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not page_cache.enabled()


def test_turned_off_every_request_renders(seller, buyer, settings):
    settings.TRANSACTION_PAGE_CACHE = False
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    client.get(_url(txn))
    response, queries = _queries(client, txn, kept=True)
    assert len(queries) > 2 and 'id="ship-form"' in response.content.decode()


def test_a_message_after_an_action_is_shown_once_and_never_kept(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    client.get(_url(txn))
    response = client.post(reverse("transactions:act", args=[txn.reference, "ship"]),
                           {"courier": "jne", "tracking_number": "JNE0012345678"}, follow=True)
    shown = re.search(r'<div class="messages" role="status">.*?</div>', response.content.decode(), re.S)
    assert shown and "JNE" not in shown.group(0) and len(shown.group(0)) > 60  # the sentence, in Indonesian
    again = client.get(_url(txn)).content.decode()
    assert shown.group(0) not in again and 'class="messages"' not in again
    assert 'class="messages"' not in client.get(_url(txn)).content.decode()  # kept now, still without it


def test_a_query_string_is_answered_but_never_kept(seller, buyer):
    """The language form sends the path with its query back, and each query string would keep a page of its
    own: a party could fill Redis with them (and its eviction would take the rate-limit counters)."""
    from django.core.cache import caches

    from intrasa.cache import redis_client

    def kept():
        return set(redis_client(caches["default"]).keys("*txn-page*"))

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    plain = client.get(_url(txn)).content.decode()
    kept_keys = kept()
    for n in range(3):
        response, queries = _queries(client, txn, kept=True, query=f"?n={n}")
        assert len(queries) > 2
        assert f'name="next" type="hidden" value="{_url(txn)}?n={n}"' in response.content.decode()
    assert kept() == kept_keys and len(kept_keys) == 1
    assert f'name="next" type="hidden" value="{_url(txn)}"' in plain
    assert f'name="next" type="hidden" value="{_url(txn)}"' in client.get(_url(txn)).content.decode()


def test_a_release_with_other_static_files_has_other_keys(monkeypatch):
    """A kept page links the hashed names of its release's static files: another release must not serve it."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.utils.functional import empty

    if staticfiles_storage._wrapped is empty:
        staticfiles_storage._setup()
    storage_class = type(staticfiles_storage._wrapped)
    monkeypatch.setattr(page_cache, "_generation", "")
    monkeypatch.setattr(storage_class, "manifest_hash", "release-a", raising=False)
    assert page_cache._salt() == "release-a"
    monkeypatch.setattr(page_cache, "_generation", "")
    monkeypatch.setattr(storage_class, "manifest_hash", "release-b", raising=False)
    assert page_cache._salt() == "release-b"


def test_bookkeeping_the_page_never_shows_keeps_the_version(seller, buyer, fake_sendme):  # noqa: F811
    """A pending part's poll schedule and the courier tracking's last check change nothing shown: the kept page
    stays kept and the page-change table does not grow each poll. Any other column still counts."""
    from disbursements.models import Disbursement

    verified_bank(seller)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    part = Disbursement.objects.filter(payout__escrow_transaction=txn).first()
    assert part is not None
    before = _version(seller, txn)
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now(), attempts=part.attempts + 3)
    EscrowTransaction.objects.filter(pk=txn.pk).update(tracking_checked_at=timezone.now())
    assert _version(seller, txn) == before
    Disbursement.objects.filter(pk=part.pk).update(failure_reason="Rekening tujuan ditutup")
    assert _version(seller, txn) == before + 1
    EscrowTransaction.objects.filter(pk=txn.pk).update(tracking_checked_at=timezone.now(), title="Judul baru")
    assert _version(seller, txn) == before + 2


@pytest.mark.django_db(transaction=True)
def test_before_its_migration_ran_the_page_is_rendered_not_a_500(seller, buyer):
    """Code deployed before ``migrate`` (or after a rollback to 0008): the version's function is missing."""
    import importlib

    dropping = importlib.import_module("transactions.migrations.0009_page_version_function")
    # Put back as the latest migration left it: this test commits, and the tests after it read the function.
    latest = importlib.import_module("transactions.migrations.0010_page_version_counts_unread_up_to_the_badge")
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    client = _logged_in(seller)
    with connection.cursor() as cursor:
        cursor.execute(dropping.DROP)
    try:
        response = client.get(_url(txn))
        assert response.status_code == 200 and txn.reference in response.content.decode()
        assert response.context is not None  # rendered
    finally:
        with connection.cursor() as cursor:
            cursor.execute(latest.CREATE)
    assert client.get(_url(txn)).status_code == 200


def test_the_page_counts_unread_notifications_as_far_as_the_badge_shows_in_both_its_reads(seller, buyer):
    """The version function (migration transactions 0010) and the ORM's read (a page rendered where pages
    are not kept) stop at the badge's 100 rows alike, and the page shows "99+"."""
    from notifications.models import Notification
    from notifications.selectors import BADGE_COUNTS_UP_TO

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    Notification.objects.bulk_create(
        Notification(event_key=f"many-{n}", recipient=seller, email=seller.email, kind="confirmed_buyer",
                     subject="Subjek", body="Isi") for n in range(BADGE_COUNTS_UP_TO + 40))
    read = selectors.transaction_page_version_for_party(user=seller, reference=txn.reference)
    rendered = selectors.transaction_detail_for_party(user=seller, reference=txn.reference)
    assert read.unread_notification_count == rendered.viewer_unread_notifications == BADGE_COUNTS_UP_TO + 1
    client = Client()
    client.force_login(seller)
    for _ in range(2):  # rendered, then kept
        assert 'data-testid="unread-count">99+<' in client.get(_url(txn)).content.decode()
