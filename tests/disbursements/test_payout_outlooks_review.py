"""Review of e3a22e3 (the transaction page keeps the payout queue's replay).

A kept outlook is only as good as the payout state it was computed from: when the payout has moved on
(a transfer failed, an account was verified) the card must not keep telling the seller the old story
about their money. And what is kept in the cache outlives the code that wrote it: a kept value the
running code cannot read (a release renamed or moved ``Outlook``) must not answer 500.

Each stale-state test compares the card the page shows with the card a fresh replay shows (the
cache emptied): it may show that, or no expected time yet (a replay paused by
``OUTLOOKS_REPLAY_LOCK``), but not what was true of the payout before it moved on.
"""
import re

import pytest
from django.core.cache import cache

from disbursements import selectors, services, tasks
from disbursements.models import Payout
from tests import scenarios
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import answer, fake_sendme  # noqa: F401  (fixture)
from tests.disbursements.test_payout_outlooks import night, page  # noqa: F401  (fixture)
from tests.disbursements.test_terms_edges import TUESDAY, at, confirm
from transactions.models import Status

pytestmark = pytest.mark.django_db

EXPECTED_SPAN = re.compile(r'<span data-testid="payout-expected"[^>]*>(.*?)</span>', re.S)


def expected_card(html: str) -> list[str]:
    return EXPECTED_SPAN.findall(html)


def card_from_a_fresh_replay(user, txn) -> list[str]:
    cache.clear()
    return expected_card(page(user, txn))


def test_a_payout_whose_transfer_failed_since_the_replay_is_not_shown_its_old_expected_time(
        night, fake_sendme, seller, buyer, clock):  # noqa: F811
    txn = confirm(seller, buyer, 2_000_000)
    assert expected_card(page(seller, txn))  # kept: "expected by Tuesday 05.00"
    clock.set(at(TUESDAY, 6))
    fake_sendme.answers = [answer("4031823", "Account Limit Exceed")]  # a listed failure
    tasks.dispatch_due_disbursements()
    payout = Payout.objects.get(escrow_transaction=txn)
    assert payout.status == Payout.Status.NEEDS_ACTION  # still open: the card asks for its outlook
    shown = expected_card(page(seller, txn))  # within PAYOUT_OUTLOOK_SECONDS of the first view
    assert shown in ([], card_from_a_fresh_replay(seller, txn)), shown


def test_a_payout_that_got_its_account_since_the_replay_does_not_still_wait_for_one(
        night, fake_sendme, seller, buyer):  # noqa: F811
    txn = scenarios.advance(scenarios.create(seller, buyer, price=2_000_000, shipping_cost=0, fee_payer="buyer"),
                            buyer, Status.CONFIRMED)
    payout = Payout.objects.get(escrow_transaction=txn)
    assert payout.status == Payout.Status.AWAITING_DESTINATION
    assert expected_card(page(seller, txn))  # kept: "waiting for a verified payout account"
    services.payout_use_destination(payout=payout, destination=verified_bank(seller), actor=None)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.IN_PROGRESS
    shown = expected_card(page(seller, txn))
    assert shown in ([], card_from_a_fresh_replay(seller, txn)), shown


def test_a_kept_outlook_the_running_code_cannot_read_does_not_answer_500(night, fake_sendme, seller, buyer,  # noqa: F811
                                                                         monkeypatch):
    """What a deploy that renames or moves ``Outlook`` leaves in Redis for up to 2 × the kept time
    (the key's ``v1`` is not tied to the code, and a rolling deploy runs both versions at once)."""
    txn = confirm(seller, buyer, 2_000_000)
    payout = Payout.objects.get(escrow_transaction=txn)

    class OutlookOfAnOlderRelease:
        pass

    OutlookOfAnOlderRelease.__module__ = selectors.__name__
    OutlookOfAnOlderRelease.__qualname__ = OutlookOfAnOlderRelease.__name__
    monkeypatch.setattr(selectors, "OutlookOfAnOlderRelease", OutlookOfAnOlderRelease, raising=False)
    cache.set(selectors.OUTLOOKS_KEY.format(payout.pk), OutlookOfAnOlderRelease(), timeout=120)
    cache.set(selectors.OUTLOOKS_FRESH_KEY, 1, timeout=60)
    monkeypatch.delattr(selectors, "OutlookOfAnOlderRelease")  # the new release has no such class
    html = page(seller, txn)  # asserts 200
    assert 'data-testid="payouts"' in html


@pytest.fixture
def redis_down(monkeypatch):
    """Every call of the default cache fails as it does when Redis is unreachable (the session store
    logs and reads the database: ``intrasa.sessions``, ``tests/security/test_session_cache.py``)."""
    import redis
    from django.core.cache import caches

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def down():
        for name in ("get", "get_many", "set", "set_many", "add", "delete", "delete_many", "has_key", "incr"):
            monkeypatch.setattr(caches["default"], name, unreachable)

    return down


def test_the_transaction_page_of_an_open_payout_answers_while_redis_is_down(night, fake_sendme, seller, buyer,  # noqa: F811
                                                                            redis_down):
    """Logged-in pages are built to keep working without Redis (sessions fall back to the database);
    before e3a22e3 the payout card needed no cache."""
    from django.test import Client

    txn = confirm(seller, buyer, 2_000_000)
    client = Client()
    client.force_login(seller)
    redis_down()
    response = client.get(txn.get_absolute_url())
    assert response.status_code == 200
