"""The expected payout time on the transaction page comes from the whole SendMe queue played forward
(``selectors.payout_schedule``): its cost grows with the queue (about 1.6 s with 10 000 parts
waiting, benchmarks/RESULTS.md "growth"). The page keeps the replay (``selectors.payout_outlooks``)
and plays the queue again only when the kept one is older than ``PAYOUT_OUTLOOK_SECONDS``, one
process at a time: what it shows is at most twice that old, only while the payout is as it was when
the queue was played, and never about a finished payout."""
import pytest
from django.core.cache import cache
from django.test import Client

from disbursements import selectors
from disbursements.models import Payout
from intrasa.wib import format_wib
from tests.disbursements.fakes import fake_sendme  # noqa: F401  (fixture: SendMe answers in-process)
from tests.disbursements.test_terms_edges import MONDAY, TUESDAY, at, confirm

pytestmark = pytest.mark.django_db

EXPECTED = 'data-testid="payout-expected"'


@pytest.fixture
def night(settings, clock):
    """Monday 22.00 WIB: bank transfers wait for 05.00, so a confirmed payout stays open."""
    settings.SENDME_NIGHT_HOLD_BANK = True
    clock.set(at(MONDAY, 22))


@pytest.fixture
def replays(monkeypatch):
    """Counts the queue replays (``payout_schedule`` calls) the pages make."""
    calls = []
    real = selectors.payout_schedule

    def counting(**kwargs):
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(selectors, "payout_schedule", counting)
    return calls


def page(user, txn) -> str:
    """The transaction page rendered (not the page kept from the view before: transactions.page_cache),
    which is when its payout card asks for the queue's replay."""
    from transactions import page_cache

    page_cache.forget_everything()
    client = Client()
    client.force_login(user)
    response = client.get(txn.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_views_within_the_kept_time_do_not_play_the_queue_again(night, fake_sendme, seller, buyer, replays):  # noqa: F811
    txn = confirm(seller, buyer, 2_000_000)
    expected = format_wib(at(TUESDAY, 5))
    for _ in range(3):
        html = page(seller, txn)
        assert EXPECTED in html and expected in html
    assert len(replays) == 1


def test_once_the_kept_replay_is_old_the_next_view_plays_the_queue_again(night, fake_sendme, seller, buyer,  # noqa: F811
                                                                          replays):
    txn = confirm(seller, buyer, 2_000_000)
    page(seller, txn)
    cache.delete(selectors.OUTLOOKS_FRESH_KEY)  # what PAYOUT_OUTLOOK_SECONDS does…
    page(seller, txn)
    assert len(replays) == 1  # …but not within the pause between two replays
    cache.delete(selectors.OUTLOOKS_REPLAY_LOCK)  # what OUTLOOKS_REPLAY_PAUSE does
    page(seller, txn)
    assert len(replays) == 2


def test_a_payout_newer_than_the_kept_replay_gets_its_time_from_a_new_one(night, fake_sendme, seller, buyer,  # noqa: F811
                                                                           replays):
    from tests.factories import UserFactory

    page(seller, confirm(seller, buyer, 2_000_000))
    other = UserFactory(full_name="Penjual Baru")
    newer = confirm(other, buyer, 3_000_000)
    cache.delete(selectors.OUTLOOKS_REPLAY_LOCK)  # the first replay's pause between replays is over
    html = page(other, newer)
    assert EXPECTED in html and format_wib(at(TUESDAY, 5)) in html
    assert len(replays) == 2


def test_while_another_process_plays_the_queue_the_page_shows_what_is_kept(night, fake_sendme, seller, buyer,  # noqa: F811
                                                                            replays):
    from tests.factories import UserFactory

    txn = confirm(seller, buyer, 2_000_000)
    page(seller, txn)
    cache.delete(selectors.OUTLOOKS_FRESH_KEY)
    cache.set(selectors.OUTLOOKS_REPLAY_LOCK, 1, timeout=30)  # another process is replaying
    html = page(seller, txn)
    assert EXPECTED in html and format_wib(at(TUESDAY, 5)) in html  # the kept time, still under 2× the kept time
    other = UserFactory(full_name="Penjual Baru")
    newer = confirm(other, buyer, 3_000_000)
    html = page(other, newer)
    assert EXPECTED not in html  # no time yet (a later view gives it), and the page answers
    assert len(replays) == 1


def test_a_finished_payout_shows_no_expected_time_though_one_is_kept(night, fake_sendme, seller, buyer,  # noqa: F811
                                                                      replays, clock):
    from disbursements import tasks

    txn = confirm(seller, buyer, 2_000_000)
    assert EXPECTED in page(seller, txn)
    clock.set(at(TUESDAY, 6))
    tasks.dispatch_due_disbursements()
    payout = Payout.objects.get(escrow_transaction=txn)
    assert payout.status == Payout.Status.COMPLETED
    assert cache.get(selectors.OUTLOOKS_KEY.format(payout.pk)) is not None  # still kept
    assert EXPECTED not in page(seller, txn)


def test_the_selector_answers_for_the_payouts_given_with_their_parts(night, fake_sendme, seller, buyer, replays):  # noqa: F811
    from disbursements.selectors import payouts_for

    txn = confirm(seller, buyer, 2_000_000)
    assert selectors.payout_outlooks(payouts=[]) == {}
    [payout] = payouts_for(escrow_transaction=txn, user=seller)
    [outlook] = selectors.payout_outlooks(payouts=[payout]).values()
    assert outlook.payout_id == payout.pk and outlook.expected_at == at(TUESDAY, 5)
    assert outlook.stamp == selectors.outlook_stamp(payout)
    assert len(replays) == 1


def test_an_expected_time_already_past_is_said_as_now(night, fake_sendme, seller, buyer, clock):  # noqa: F811
    """Parts on their way when the queue was played are expected "now"; a view a minute later must
    not promise a time that has passed."""
    from disbursements.selectors import payouts_for

    txn = confirm(seller, buyer, 2_000_000)
    [payout] = payouts_for(escrow_transaction=txn, user=seller)
    kept = selectors.payout_outlooks(payouts=[payout])[payout.pk]
    clock.set(at(TUESDAY, 5, 30))  # past the expected 05.00, the kept replay unchanged
    [later] = selectors.payout_outlooks(payouts=[payout]).values()
    assert kept.expected_at == at(TUESDAY, 5) and later.expected_at == at(TUESDAY, 5, 30)
