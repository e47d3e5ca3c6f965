"""Review of 8f161b2 (the refund-by date and the payout queue's promise must say the same date): a refund
whose first transfer failed, was sent again to another account (a new reference, a second person approves:
the money set off again, ``Payout.sending_since``, and the promise moved with it), and whose new transfer
is then *held* (an unlisted SendMe answer: no failure, Finance ask Faspay). The refund clock of a payout
needing action counts from (then) ``refunds.selectors.refund_transfer_failed_at``: the latest failed or reversed
part, here the first transfer, already retried days before — so the buyer's refund-by date jumps back
before the date they were given when the money set off again (and before the queue's promise), and the
staff task is overdue the moment it is created."""
import datetime as dt

import pytest

from disbursements import services as disbursement_services
from disbursements.models import Disbursement, Payout
from intrasa.wib import WIB
from refunds import services
from refunds.models import RefundRequest
from tests.disbursements.conftest import verified_bank
from tests.disbursements.fakes import accepted, answer, fake_sendme  # noqa: F401 - fixture
from tests.disputes.conftest import _staff_in, finance  # noqa: F401 - finance: a Finance member approves refunds
from tests.refunds.test_refund_by import _books_balance, now_is  # noqa: F401 - autouse fixture
from tests.refunds.test_transfer_window_start import FRIDAY, MINUTE, MONDAY, approved_on_monday, public_due

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def test_a_transfer_held_after_a_retry_does_not_bring_the_refund_by_date_back_to_the_first_failure(
        client, seller, buyer, finance, fake_sendme):  # noqa: F811
    verified_bank(buyer, number="7000000001")  # the default account: the bank says it does not exist
    request = approved_on_monday(seller, buyer, finance)
    txn = request.escrow_transaction
    first = request.payout.parts.get()
    fake_sendme.answers = [answer("4041811", "Invalid Account")]
    with now_is(MONDAY + HOUR):
        disbursement_services.disbursement_dispatch(disbursement_id=first.pk)
    first.refresh_from_db()
    assert first.status == Disbursement.Status.FAILED
    # Friday: Finance send it again to the buyer's other verified account (a second person approves).
    right = verified_bank(buyer, number="7000000002", default=False)
    second = _staff_in("Finance", "finance2@intrasa.co.id", "Feri Keuangan")
    with now_is(FRIDAY):
        approval = disbursement_services.disbursement_retry_request(disbursement=first, actor=finance,
                                                                    destination=right, reason="Rekening lain")
        [again] = disbursement_services.disbursement_retry_approve(approval=approval, actor=second)
    payout = Payout.objects.get(pk=request.payout_id)
    promised = dt.datetime(2026, 11, 17, 10, 0, tzinfo=WIB)  # Friday 6 + 7 working days
    assert payout.status == Payout.Status.IN_PROGRESS and payout.due_at == promised
    assert public_due(client, txn, FRIDAY + MINUTE) == promised
    # SendMe answers the new transfer with a code not on Faspay's list: held, nothing failed.
    fake_sendme.answers = [answer("4031899", "Something new")]
    with now_is(FRIDAY + HOUR):
        disbursement_services.disbursement_dispatch(disbursement_id=again.pk)
    again.refresh_from_db()
    assert again.status == Disbursement.Status.HELD
    assert Payout.objects.get(pk=request.payout_id).status == Payout.Status.NEEDS_ACTION
    # A hold can only delay the refund: the buyer's date is not brought back before the one given on Friday
    # (it was counted from Monday's failure, already retried: Wednesday 11 November).
    assert public_due(client, txn, FRIDAY + 2 * HOUR) >= promised
    request = RefundRequest.objects.select_related("payout").get(pk=request.pk)
    # Finance's task to resolve the held transfer is not due before it was held.
    assert services.refund_next_step(request, now=FRIDAY + 2 * HOUR).due_at > FRIDAY + HOUR


def test_a_transfer_reversed_after_days_pending_gets_a_refund_by_date_still_ahead(client, seller, buyer, finance,
                                                                                  fake_sendme):  # noqa: F811
    """The same clock, another way in: a transfer SendMe kept pending for days and then reports reversed (04)
    has no failure time (``Disbursement.reverse`` sets no ``completed_at``), so the clock of the payout needing
    action counts from when the money set off, Monday: Finance's window and the transfer's end before the
    reversal was even known — the date shown is already past."""
    verified_bank(buyer)
    request = approved_on_monday(seller, buyer, finance)
    txn = request.escrow_transaction
    part = request.payout.parts.get()
    fake_sendme.answers = [accepted(part.partner_reference_no, status="03")]  # accepted, in process
    with now_is(MONDAY + HOUR):
        disbursement_services.disbursement_dispatch(disbursement_id=part.pk)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.PENDING
    reversed_at = dt.datetime(2026, 11, 12, 10, 0, tzinfo=WIB)  # Thursday of the next week
    fake_sendme.status_answers = [accepted(part.partner_reference_no, status="04", code="2003600")]
    with now_is(reversed_at):
        disbursement_services.disbursement_inquire(disbursement_id=part.pk)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.REVERSED
    assert Payout.objects.get(pk=request.payout_id).status == Payout.Status.NEEDS_ACTION
    looked_up = reversed_at + MINUTE
    assert public_due(client, txn, looked_up) > looked_up  # Wednesday 11 November 18.00, a day ago
    request = RefundRequest.objects.select_related("payout").get(pk=request.pk)
    assert services.refund_next_step(request, now=looked_up).due_at > reversed_at
