"""The double-entry ledger: balanced, idempotent, immutable, and checked."""
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction

from ledger.checks import ledger_breaches
from ledger.models import Account, AccountCategory, EntryKind, JournalEntry, Posting
from ledger.selectors import category_balance, transaction_balances
from ledger.services import LedgerError, Line, _array_literal, credit, debit, entry_post, entry_reverse
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db

HOLD, CLEARING = AccountCategory.ESCROW_HOLD, AccountCategory.PROVIDER_CLEARING


def post(txn, key="k1", amount=1000, lines=None):
    with transaction.atomic():
        return entry_post(idempotency_key=key, kind=EntryKind.PAYMENT_VERIFIED, memo="test",
                          escrow_transaction=txn,
                          lines=lines or [debit(CLEARING, amount), credit(HOLD, amount)])


@pytest.fixture
def txn(seller, buyer):
    return scenarios.create(seller, buyer)


@pytest.mark.parametrize("lines,message", [
    ([debit(CLEARING, 100), credit(HOLD, 99)], "does not balance"),
    ([debit(CLEARING, 100)], "at least two"),
    ([debit(CLEARING, 0), credit(HOLD, 0)], "positive"),
    ([debit(CLEARING, -5), credit(HOLD, -5)], "positive"),
    ([debit(CLEARING, 10.5), credit(HOLD, 10.5)], "whole Rupiah"),
    ([debit("nonsense", 10), credit(HOLD, 10)], "unknown account"),
    ([debit(CLEARING, 10), credit(HOLD, 10), Line(HOLD, "X", 5)], "debit or a credit"),
])
def test_bad_entries_are_refused(txn, lines, message):
    with pytest.raises(LedgerError, match=message):
        post(txn, lines=lines)
    assert not JournalEntry.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_posting_outside_a_transaction_is_refused(txn):
    with pytest.raises(LedgerError, match="atomic"):
        entry_post(idempotency_key="x", kind=EntryKind.PAYMENT_VERIFIED, memo="m", escrow_transaction=txn,
                   lines=[debit(CLEARING, 1), credit(HOLD, 1)])


def test_same_key_posts_once(txn):
    first = post(txn)
    second = post(txn)
    assert first.pk == second.pk
    assert Posting.objects.count() == 2


def test_same_key_with_different_lines_is_refused(txn):
    post(txn, amount=1000)
    with pytest.raises(LedgerError, match="different entry"):
        post(txn, amount=2000)


def test_per_transaction_accounts_need_a_transaction():
    with pytest.raises(LedgerError, match="per transaction"):
        post(None)


def test_reversal_restores_balances_and_keeps_the_original(txn):
    entry = post(txn)
    with transaction.atomic():
        reversal = entry_reverse(entry=entry, reason="salah posting")
    assert reversal.reverses == entry
    assert transaction_balances(escrow_transaction=txn) == {HOLD: 0}
    assert category_balance(category=CLEARING) == 0
    assert JournalEntry.objects.count() == 2


def test_models_refuse_edits(txn):
    entry = post(txn)
    posting = entry.postings.first()
    posting.amount = 1
    with pytest.raises(ValueError):
        posting.save()
    entry.memo = "diubah"
    with pytest.raises(ValueError):
        entry.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_database_refuses_update_and_delete(txn):
    entry = post(txn)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Posting.objects.filter(entry=entry).update(amount=1)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(memo="diubah")
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Posting.objects.filter(entry=entry).delete()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_refuses_an_unbalanced_entry_at_commit(seller, buyer):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL trigger")
    txn = scenarios.create(seller, buyer)
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            entry = JournalEntry.objects.create(idempotency_key="raw", kind=EntryKind.PAYMENT_VERIFIED,
                                                memo="bypassing the service", escrow_transaction=txn)
            from ledger.services import account_get
            Posting.objects.create(entry=entry, account=account_get(category=CLEARING), side="D", amount=10)
            Posting.objects.create(entry=entry, account=account_get(category=HOLD, escrow_transaction=txn),
                                   side="C", amount=9)
    assert not JournalEntry.objects.filter(idempotency_key="raw").exists()


def test_ledger_check_passes_on_a_clean_book(seller, buyer):
    scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    call_command("ledger_check")


def test_ledger_check_finds_money_held_for_a_transaction_that_was_never_verified(txn):
    post(txn, amount=5000)  # a hold on a transaction that is still 'created'
    rules = {breach.rule for breach in ledger_breaches()}
    assert {"escrow-hold-matches-state", "escrow-liability-total"} <= rules
    with pytest.raises(CommandError, match="breach"):
        call_command("ledger_check")


def test_ledger_check_finds_money_that_went_nowhere(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with transaction.atomic():  # a release whose fee was credited to the clearing account instead
        entry_post(idempotency_key="bad-release", kind=EntryKind.ESCROW_RELEASE, memo="bug",
                   escrow_transaction=txn, lines=[
                       debit(HOLD, 100), credit(AccountCategory.PROVIDER_CLEARING, 100)])
    rules = {breach.rule for breach in ledger_breaches()}
    assert "paid-equals-accounted" in rules


def test_an_entry_posts_its_lines_in_order_on_the_accounts_of_its_transaction(seller, buyer):
    first, second = scenarios.create(seller, buyer), scenarios.create(seller, buyer)
    lines = [debit(CLEARING, 1500), credit(HOLD, 1000), credit(AccountCategory.FEE_REVENUE, 500)]
    entry = post(first, key="three-lines", lines=lines)
    post(second, key="other-transaction", amount=700)

    postings = list(entry.postings.select_related("account"))
    assert [(p.account.category, p.side, p.amount) for p in postings] == [
        (CLEARING, "D", 1500), (HOLD, "C", 1000), (AccountCategory.FEE_REVENUE, "C", 500)]
    assert [p.account.escrow_transaction_id for p in postings] == [None, first.pk, None]
    assert transaction_balances(escrow_transaction=first) == {HOLD: 1000}
    assert transaction_balances(escrow_transaction=second) == {HOLD: 700}
    # One shared clearing account, one hold per transaction.
    assert Account.objects.filter(category=CLEARING).count() == 1
    assert Account.objects.filter(category=HOLD).count() == 2
    assert JournalEntry.objects.get(pk=entry.pk).memo == "test"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_first_entry_waiting_on_another_writers_new_account_still_posts_every_line(seller, buyer):
    """Two first entries of one transaction: the first creates its escrow hold and has not committed
    when the second looks for it. The second waits, finds the account taken, and posts its line on
    the first writer's account once that commits."""
    if connection.vendor != "postgresql":
        pytest.skip("two connections at once")
    txn = scenarios.create(seller, buyer)
    holding, done = threading.Event(), threading.Event()
    release = threading.Event()
    outcome = {}

    def first_writer():
        try:
            with transaction.atomic():
                post_unwrapped(txn, "first", 1000)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def second_writer():
        try:
            holding.wait(30)
            outcome["entry"] = post(txn, key="second", amount=400)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc
        finally:
            done.set()
            connections.close_all()

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    assert holding.wait(30)
    assert not done.wait(0.5), "the second writer should wait for the first one's account"
    release.set()
    for thread in threads:
        thread.join(30)

    assert "error" not in outcome, outcome.get("error")
    assert Account.objects.filter(category=HOLD, escrow_transaction=txn).count() == 1
    assert outcome["entry"].postings.count() == 2
    assert transaction_balances(escrow_transaction=txn) == {HOLD: 1400}
    assert not [b for b in ledger_breaches() if b.rule == "balanced-entries"]


def post_unwrapped(txn, key, amount):
    """``post`` inside the caller's atomic block."""
    return entry_post(idempotency_key=key, kind=EntryKind.PAYMENT_VERIFIED, memo="test", escrow_transaction=txn,
                      lines=[debit(CLEARING, amount), credit(HOLD, amount)])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL posting function")
def test_a_new_entry_is_one_statement_the_call_of_the_posting_function(seller, buyer, django_assert_num_queries):
    """Issue 18: PostgreSQL planned the former one-statement CTE anew for every entry, which cost more
    than the inserts; the plans inside ``ledger_entry_post`` are kept, so only this call is planned."""
    txn = scenarios.create(seller, buyer)
    post(txn, key="accounts-exist")
    with django_assert_num_queries(1) as captured:  # inside the test's transaction: no savepoint
        entry = post_unwrapped(txn, "second", 250)
    assert captured.captured_queries[0]["sql"].startswith("SELECT posted_entry, posted_lines FROM ledger_entry_post(")
    assert transaction_balances(escrow_transaction=txn) == {HOLD: 1250}
    assert [(p.side, p.amount) for p in entry.postings.all()] == [("D", 250), ("C", 250)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL posting function")
@pytest.mark.parametrize("cast,items", [
    ("varchar[]", ["provider_clearing", "escrow_hold"]),
    ("varchar[]", ['a"quote', "back\\slash", "com,ma", "{brace}", " spaced ", "NULL", "", "é ü 日本", "\\\""]),
    ("bigint[]", [1, 9_223_372_036_854_775_807, 0]),
    ("boolean[]", ["t", "f", "t"]),
])
def test_the_posting_arrays_sent_as_text_read_back_element_for_element(cast, items):
    """``entry_post`` sends its lines' columns as PostgreSQL array text (cheaper for the client than
    a list); whatever an element holds, the database must read back exactly the elements sent."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}", [_array_literal(items)])
        (read,) = cursor.fetchone()
    expected = [item == "t" for item in items] if cast == "boolean[]" else items
    assert read == expected
