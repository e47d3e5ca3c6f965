"""Cek Transaksi's cached facts (pages.public_cache): free when they hit, never stale after a change."""
import pytest
import redis
from django.core.cache import caches
from django.urls import reverse

from intrasa import ratelimit as throttle
from intrasa.cache import redis_client
from pages import public_cache, selectors
from tests import scenarios
from tests.disputes.conftest import finance  # noqa: F401 - a Finance member approves refunds
from transactions import services
from transactions.models import Status

pytestmark = pytest.mark.django_db
PAGE = reverse("pages:check_transaction")


def api(reference):
    return reverse("pages:check_transaction_api", args=[reference])


@pytest.fixture
def verified(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)


@pytest.fixture
def redis_calls(monkeypatch):
    """Every command or pipeline sent to Redis, by name."""
    calls = []
    execute_command = redis.Redis.execute_command
    pipeline_execute = redis.client.Pipeline.execute

    def counting_command(self, *args, **kwargs):
        calls.append(args[0])
        return execute_command(self, *args, **kwargs)

    def counting_pipeline(self, *args, **kwargs):
        calls.append("PIPELINE:" + "+".join(str(c[0][0]) for c in self.command_stack))
        return pipeline_execute(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", counting_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counting_pipeline)
    return calls


def test_a_cached_look_up_is_one_redis_round_trip_and_no_query(client, verified, redis_calls,
                                                                   django_assert_num_queries):
    first = client.get(api(verified.reference)).json()  # a miss: the database, then stored
    redis_calls.clear()
    with django_assert_num_queries(0):
        again = client.get(api(verified.reference))
    assert again.json() == first
    assert redis_calls == ["EVALSHA"]  # budgets and facts on one trip
    with django_assert_num_queries(0):
        page = client.get(PAGE, {"reference": verified.reference})
    assert page.status_code == 200 and page.context["lookup"].transaction.status == "verified"


def test_the_miss_costs_its_queries_and_three_round_trips(client, verified, redis_calls,
                                                          django_assert_num_queries):
    with django_assert_num_queries(2):  # the transaction and its timeline
        assert client.get(api(verified.reference)).status_code == 200
    # Budgets + read + a place for a possible guess (intrasa.ratelimit.reserve), the place given back
    # (the reference was found), then the compare-and-set store.
    assert redis_calls == ["EVALSHA", "ZREM", "EVALSHA"]


def test_a_transition_is_shown_at_once(client, verified, buyer, seller):
    assert client.get(api(verified.reference)).json()["status"] == "verified"
    assert client.get(api(verified.reference)).json()["status"] == "verified"  # served from the cache
    shipped = services.transaction_ship(escrow_transaction=verified, seller=seller, courier="jne",
                                        tracking_number="JNE0012345678")
    data = client.get(api(verified.reference)).json()
    assert data["status"] == "shipped" and data["timeline"][-1]["step"] == "ship"
    assert data["next_due"]["step"] == "confirm"
    services.transaction_confirm(escrow_transaction=shipped, buyer=buyer)
    assert client.get(api(verified.reference)).json()["status"] == "confirmed"


def test_a_ledger_entry_of_the_transaction_changes_the_generation(verified, seller):
    generation_key, _facts_key = public_cache.keys(verified.reference)
    client = redis_client(caches["default"])
    before = client.get(generation_key)
    services.transaction_refund(escrow_transaction=verified, actor=seller, reason="Stok habis")
    assert client.get(generation_key) != before


def test_facts_read_before_a_commit_are_never_served_after_it(client, verified, seller,
                                                              django_capture_on_commit_callbacks):
    """The race: a reader queries the database while a transition is being committed, and
    stores what it read after the writer's first invalidation. The writer's after-commit
    invalidation makes those facts unusable."""
    old_facts = selectors.public_facts(reference=verified.reference)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_ship(escrow_transaction=verified, seller=seller, courier="jne",
                                  tracking_number="JNE0012345678")
        # A reader between the first invalidation and the commit: it sees the old row (other
        # connection) and the current generation, and stores the old facts.
        generation, stored = redis_client(caches["default"]).mget(public_cache.keys(verified.reference))
        assert public_cache.cached_facts(generation, stored) == (None, public_cache._decode(generation))
        assert public_cache.store(verified.reference, public_cache._decode(generation), old_facts.to_json())
    assert client.get(api(verified.reference)).json()["status"] == "shipped"


def test_a_store_is_refused_once_the_generation_moved(verified, seller):
    generation, _stored = redis_client(caches["default"]).mget(public_cache.keys(verified.reference))
    seen = public_cache._decode(generation)
    facts = selectors.public_facts(reference=verified.reference)
    public_cache.forget(verified.reference)
    assert public_cache.store(verified.reference, seen, facts.to_json()) is False


def test_the_facts_serve_every_language(client, verified):
    indonesian = client.get(api(verified.reference), HTTP_ACCEPT_LANGUAGE="id").json()
    english = client.get(api(verified.reference), HTTP_ACCEPT_LANGUAGE="en").json()  # from the cache
    assert indonesian["status"] == english["status"] == "verified"
    assert english["status_label"] != indonesian["status_label"]
    assert english["next_due"]["at"] == indonesian["next_due"]["at"]


def test_facts_round_trip_through_json(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    facts = selectors.public_facts(reference=txn.reference)
    assert selectors.PublicFacts.from_json(facts.to_json()) == facts


def test_a_redis_failure_while_forgetting_does_not_fail_the_write(verified, seller, monkeypatch, caplog):
    def broken(self, *args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(redis.client.Pipeline, "execute", broken)
    shipped = services.transaction_ship(escrow_transaction=verified, seller=seller, courier="jne",
                                        tracking_number="JNE0012345678")
    assert shipped.status == Status.SHIPPED
    assert "could not forget" in caplog.text


def test_an_unknown_reference_is_not_cached_and_still_counts_as_a_guess(client):
    from tests.pages.test_check_transaction import unknown_reference

    for n in range(throttle.PUBLIC_UNKNOWN.limit):
        assert client.get(api(unknown_reference(n))).status_code == 404
    assert client.get(api(unknown_reference(99))).status_code == 429


def test_a_payout_deadline_comes_on_the_same_round_trip_and_follows_the_calendar(client, seller, buyer,
                                                                                 redis_calls):
    import datetime as dt

    from workdays.models import CalendarOverride

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    client.get(api(txn.reference))  # facts stored
    client.get(api(txn.reference))  # the calendar's overrides cached by the look-up before
    redis_calls.clear()
    first = client.get(api(txn.reference)).json()["next_due"]
    assert first["step"] == "payout"
    assert redis_calls == ["EVALSHA"]  # budgets, facts and the calendar: one trip
    due = dt.datetime.fromisoformat(first["at"])
    last_working_day = (due - dt.timedelta(microseconds=1)).date()  # the day the 24 working hours end in
    CalendarOverride.objects.create(date=last_working_day, kind=CalendarOverride.Kind.HOLIDAY, name="Libur mendadak")
    moved = client.get(api(txn.reference)).json()["next_due"]
    assert dt.datetime.fromisoformat(moved["at"]) > due  # the facts stayed cached, the date moved


def test_the_payment_check_counts_its_budgets_in_one_round_trip(client, redis_calls, settings):
    response = client.get(reverse("pages:check_payment"), {"code": settings.INTRASA_ESCROW_BANK_ACCOUNT})
    assert response.status_code == 200 and response.context["check"].is_live
    # Both budgets and a place for a possible guess on one trip; the place given back (no guess).
    assert redis_calls == ["EVALSHA", "ZREM"]


def _bumps(calls) -> int:
    return sum(1 for call in calls if call.startswith("PIPELINE:SET+DEL"))


def test_a_step_forgets_once_now_and_once_on_commit(verified, seller, redis_calls,
                                                    django_capture_on_commit_callbacks):
    """Shipping saves the row and appends a timeline event: the generation moves once while the
    step runs and once on commit, not once per saved row."""
    redis_calls.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.transaction_ship(escrow_transaction=verified, seller=seller, courier="jne",
                                  tracking_number="JNE0012345678")
        assert _bumps(redis_calls) == 1
    assert _bumps(redis_calls) == 2
    assert sum(1 for callback in callbacks if callback.__name__ == "on_commit") == 1


def test_a_rolled_back_savepoint_does_not_swallow_the_bump_on_commit(verified, redis_calls,
                                                                    django_capture_on_commit_callbacks):
    from django.db import transaction

    redis_calls.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            with pytest.raises(RuntimeError), transaction.atomic():
                public_cache.forget(verified.reference)
                raise RuntimeError("the step failed; its on-commit bump is dropped with it")
            public_cache.forget(verified.reference)  # registers the bump on commit again
    assert len(callbacks) == 1
    assert _bumps(redis_calls) == 3  # now (twice: two blocks) and on commit


def test_a_refund_step_moves_the_cached_refund_by_date_at_once(client, seller, buyer, finance,  # noqa: F811
                                                               django_capture_on_commit_callbacks):
    """The refund-by date depends on where the refund stands (``refunds.policy``): a step of the refund
    request (an approval, an account named) forgets the cached facts like a transition does."""
    import datetime as dt
    from unittest import mock

    from accounts.services import payout_destination_add_ewallet
    from escrow import services as escrow_services
    from intrasa.wib import WIB
    from refunds import services as refund_services
    from refunds.models import RefundRequest

    monday = dt.datetime(2026, 11, 2, 10, 0, tzinfo=WIB)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    with mock.patch("django.utils.timezone.now", return_value=monday):
        escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    request = RefundRequest.objects.get(escrow_transaction=txn)

    def due(at):
        with mock.patch("django.utils.timezone.now", return_value=at):
            return client.get(api(txn.reference)).json()["next_due"]["at"]

    first = due(monday)
    assert due(monday) == first  # served from the cache
    tuesday = monday + dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=tuesday), \
            django_capture_on_commit_callbacks(execute=True):
        refund_services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap")
    approved = due(tuesday)
    assert approved != first  # approved a day before its deadline: the account step starts a day earlier
    thursday = monday + dt.timedelta(days=2)  # the buyer names an e-wallet on Wednesday
    with mock.patch("django.utils.timezone.now", return_value=thursday), \
            django_capture_on_commit_callbacks(execute=True):
        wallet = payout_destination_add_ewallet(owner=buyer, provider="gpy", phone="081234567890",
                                                registered_name=buyer.full_name)
        refund_services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    assert due(thursday) != approved
    request.refresh_from_db()
    with mock.patch("django.utils.timezone.now", return_value=thursday):
        from refunds.selectors import refund_request_due_by

        assert dt.datetime.fromisoformat(due(thursday)) == refund_request_due_by(request)


def _entry_alone(txn, key, lines):
    """An entry posted on its own, in a block that saves nothing else of the transaction."""
    from django.db import transaction

    from ledger.models import EntryKind
    from ledger.services import entry_post

    with transaction.atomic():
        entry_post(idempotency_key=key, kind=EntryKind.PAYMENT_VERIFIED, memo="test", escrow_transaction=txn,
                   lines=lines)


def test_an_entry_on_an_account_the_facts_read_forgets_them(verified, redis_calls,
                                                            django_capture_on_commit_callbacks):
    """The public facts read the transaction's buyer refund payable (``public_facts``): an entry that
    moves it, with nothing else saved, must still forget them now and on commit."""
    from ledger.models import AccountCategory
    from ledger.services import credit, debit

    assert AccountCategory.BUYER_REFUND_PAYABLE in selectors.LEDGER_CATEGORIES_READ
    redis_calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _entry_alone(verified, "test-public-facts:refund-payable", [
            debit(AccountCategory.ESCROW_HOLD, 1_000), credit(AccountCategory.BUYER_REFUND_PAYABLE, 1_000)])
    assert _bumps(redis_calls) == 2


def test_an_entry_on_accounts_the_facts_never_read_costs_no_redis(verified, redis_calls,
                                                                  django_capture_on_commit_callbacks):
    """An entry whose lines touch none of ``LEDGER_CATEGORIES_READ`` cannot change what Cek Transaksi
    shows, so posting it alone sends nothing to Redis (the ledger's own cost stays the database's)."""
    from ledger.models import AccountCategory
    from ledger.services import credit, debit

    assert not {AccountCategory.PROVIDER_CLEARING, AccountCategory.ESCROW_HOLD} & selectors.LEDGER_CATEGORIES_READ
    redis_calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _entry_alone(verified, "test-public-facts:clearing", [
            debit(AccountCategory.PROVIDER_CLEARING, 1_000), credit(AccountCategory.ESCROW_HOLD, 1_000)])
    assert redis_calls == []


def test_an_entry_of_unknown_lines_forgets_the_facts(verified, redis_calls, django_capture_on_commit_callbacks):
    """A JournalEntry saved without the ledger's service (no lines known to the listener) is assumed to
    matter: the safe default is to forget."""
    from django.db import transaction

    from ledger.models import EntryKind, JournalEntry

    redis_calls.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        JournalEntry.objects.create(idempotency_key="test-public-facts:unknown", kind=EntryKind.PAYMENT_VERIFIED,
                                    memo="test", escrow_transaction=verified)
    assert _bumps(redis_calls) == 2


def test_the_facts_read_the_ledger_only_through_the_declared_categories(monkeypatch, seller, buyer):
    """``public_facts`` must read no ledger balance outside ``LEDGER_CATEGORIES_READ``; otherwise an entry
    on another account could leave the cached facts stale."""
    from ledger.models import AccountCategory

    refunded = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    services.transaction_refund(escrow_transaction=refunded, actor=seller, reason="Stok habis")
    read = []

    class Recording(dict):
        def get(self, key, default=None):
            read.append(key)
            return super().get(key, default)

        def __getitem__(self, key):
            read.append(key)
            return super().__getitem__(key)

    original = selectors.transaction_balances
    monkeypatch.setattr(selectors, "transaction_balances", lambda **kw: Recording(original(**kw)))
    facts = selectors.public_facts(reference=refunded.reference)
    assert facts is not None and read, "a refunded transaction's facts read its balances"
    assert set(read) <= selectors.LEDGER_CATEGORIES_READ
    assert AccountCategory.BUYER_REFUND_PAYABLE in read


def test_a_look_up_reads_the_keys_the_writers_write(verified):
    """The look-up's keys (``lookup_keys``, built without the memcached check) are the very keys that
    writers change and ``keys``/``calendar_key`` name: a mismatch would serve facts nobody invalidates."""
    assert public_cache.lookup_keys(verified.reference) == (*public_cache.keys(verified.reference),
                                                            public_cache.calendar_key())


def test_the_look_up_keys_kept_per_process_follow_the_caches_settings(verified, settings):
    """``lookup_keys`` is kept per process (``_raw_lookup_keys``) under the cache's prefix and version: a
    changed setting gives the keys the writers then use, never the ones kept from before."""
    before = public_cache.lookup_keys(verified.reference)
    settings.CACHES = {alias: {**config, "KEY_PREFIX": "elsewhere", "VERSION": 7}
                       for alias, config in settings.CACHES.items()}
    after = public_cache.lookup_keys(verified.reference)
    assert after != before
    assert after == (*public_cache.keys(verified.reference), public_cache.calendar_key())
    assert all(key.startswith("elsewhere:7:") for key in after)


def test_only_text_a_reference_could_be_is_kept_parsed():
    """``public_reference`` keeps its answers per process, but not for long text (the JSON API takes any
    path segment): a client sending long segments must not fill the process's memory."""
    kept = selectors._kept_public_reference
    kept.cache_clear()
    assert selectors.public_reference("int-7k2m-9qxd-4rht") == selectors._public_reference("int-7k2m-9qxd-4rht")
    assert kept.cache_info().currsize == 1
    assert selectors.public_reference("INT-" + "7" * 4000)[0] == selectors.LookupOutcome.MALFORMED
    assert kept.cache_info().currsize == 1


def test_parsed_facts_are_shared_only_because_they_cannot_change(verified):
    import dataclasses

    text = selectors.public_facts(reference=verified.reference).to_json()
    facts = selectors.PublicFacts.from_json(text)
    assert selectors.PublicFacts.from_json(text) is facts  # parsed once per process
    assert facts.to_json() == text
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.status = "confirmed"  # type: ignore[misc]
    for field in dataclasses.fields(facts):  # nothing inside that a reader could change either
        assert isinstance(getattr(facts, field.name), (str, int, bool, tuple, type(None), __import__("datetime").datetime))
