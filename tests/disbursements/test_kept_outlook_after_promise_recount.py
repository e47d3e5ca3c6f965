"""Review of 8f161b2 (``disbursements.services.payout_promise_recount``): the refund beat job now moves an
open refund payout's ``due_at`` when staff declare a day off, without changing its status or its parts. The
transaction page's payout card reads a kept replay of the queue (``disbursements.selectors.payout_outlooks``),
which is shown "only while the payout is as it was when the queue was played" — checked by
``outlook_stamp``: the payout's status and its unfinished parts' states, not its promise. After a recount the
kept outlook still carries the old promise (``Outlook.due_at``, and ``late`` from it: "This is later than
promised") for up to twice ``PAYOUT_OUTLOOK_SECONDS``."""
import datetime as dt

import pytest

from disbursements import selectors
from intrasa.wib import WIB
from refunds import services
from tests.disbursements.conftest import verified_bank
from tests.disputes.conftest import finance  # noqa: F401 - a Finance member approves refunds
from tests.refunds.test_refund_by import _books_balance, now_is  # noqa: F401 - autouse fixture
from tests.refunds.test_transfer_window_start import FRIDAY, MINUTE, THURSDAY, approved_without_an_account
from tests.workdays.test_overrides import planner  # noqa: F401 - a staff member who may change the calendar
from workdays.services import calendar_override_save

pytestmark = pytest.mark.django_db


def test_a_kept_outlook_does_not_outlive_a_recounted_promise(seller, buyer, finance, planner,  # noqa: F811
                                                             django_capture_on_commit_callbacks):
    request = approved_without_an_account(seller, buyer, finance)
    txn = request.escrow_transaction
    with now_is(THURSDAY):
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=verified_bank(buyer))
    with now_is(THURSDAY + MINUTE):  # the buyer views the transaction page: the queue is played and kept
        payout = selectors.payouts_for(escrow_transaction=txn, user=buyer).get()
        assert selectors.payout_outlooks(payouts=[payout])[payout.pk].due_at == \
            dt.datetime(2026, 11, 16, 10, 0, tzinfo=WIB)
    with now_is(FRIDAY), django_capture_on_commit_callbacks(execute=True):
        calendar_override_save(actor=planner, reason="SKB cuti bersama", date=dt.date(2026, 11, 10),
                               kind="cuti_bersama", name="Cuti bersama")
    with now_is(FRIDAY + MINUTE):
        services.refund_tasks_refresh_all()
    with now_is(FRIDAY + 2 * MINUTE):  # a view within the kept time, the payout's status and parts unchanged
        payout = selectors.payouts_for(escrow_transaction=txn, user=buyer).get()
        assert payout.due_at == dt.datetime(2026, 11, 17, 10, 0, tzinfo=WIB)  # the recount moved the promise
        outlook = selectors.payout_outlooks(payouts=[payout]).get(payout.pk)
    # Either no expected time until the next replay, or one that carries the promise as it is now.
    assert outlook is None or outlook.due_at == payout.due_at
