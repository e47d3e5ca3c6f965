"""What a person is told an erasure keeps, and until when, is what the retention job does: both count a
transaction's periods from the moment its last obligation finished (``privacy.obligations.last_finished``),
not from the day it closed — a refund paid two years after the transaction closed moves the end of its
records two years later, on the erasure page, in the confirmation email, in the erasure record and in
the purge alike. While an obligation is still in motion the date is only a lower bound, and the person
is told so."""
import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from disbursements.models import Payout
from disputes.models import Dispute
from intrasa.wib import WIB, format_wib
from privacy import obligations, purge, retention, selectors, services
from privacy.models import ErasureRecord
from refunds.models import RefundRequest
from transactions.models import EscrowTransaction

from .conftest import cancelled, refund_document_file
from .test_purge import in_year
from .test_purge_in_motion import IN_MOTION, _refund_request, long_ago

ERASE = reverse("privacy:erase")
CLOSED = in_year(2020)
REFUNDED = in_year(2022)


@pytest.fixture
def refunded_late(seller, buyer):
    """A transaction closed in 2020 after a resolved dispute, whose refund was only paid in 2022."""
    txn = cancelled(seller, buyer)
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=CLOSED)
    Dispute.objects.create(escrow_transaction=txn, reason="wrong_item", description="Warna salah", opened_by=buyer,
                           status=Dispute.Status.RESOLVED, resolved_at=CLOSED)
    request = _refund_request(txn, buyer, status=RefundRequest.Status.COMPLETED, completed_at=REFUNDED)
    refund_document_file(request, uploader=buyer)
    return txn


def kept(user) -> dict:
    return {item.rule.key: item for item in selectors.erasure_kept(user=user)}


def shown_for(page: str, rule: str) -> str:
    """The text of one rule's card on the erasure page."""
    card = re.search(rf'data-rule="{rule}">(.*?)</article>', page, re.S)
    assert card, rule
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", card.group(1)))


@pytest.mark.django_db
def test_a_refund_paid_two_years_after_closing_moves_the_end_of_every_record_around_it(buyer, refunded_late):
    items = kept(buyer)
    assert items["transaction_records"].until == dt.datetime(2033, 1, 1, tzinfo=WIB)  # end of 2022 + 10 years
    assert items["refund_documents"].until == retention.REFUND_DOCUMENTS.until(REFUNDED)
    assert items["dispute_conversations"].until == retention.DISPUTE_CONVERSATIONS.until(REFUNDED)
    assert not any(item.at_least for item in items.values())


REMOVED = {
    "transaction_records": lambda txn: EscrowTransaction.objects.get(pk=txn.pk).title == purge.ANONYMISED,
    "refund_documents": lambda txn: RefundRequest.objects.get(escrow_transaction=txn).description == "",
    "dispute_conversations": lambda txn: Dispute.objects.get(escrow_transaction=txn).description == purge.ANONYMISED,
}


@pytest.mark.django_db
@pytest.mark.parametrize("rule", list(REMOVED))
def test_the_purge_removes_the_records_on_the_day_the_erasure_page_names(client, buyer, refunded_late, rule):
    client.force_login(buyer)
    until = kept(buyer)[rule].until
    with translation.override("en"):
        named = format_wib(until, with_time=False)
    assert named in shown_for(client.get(ERASE).content.decode(), rule)

    purge.retention_apply(now=until - dt.timedelta(days=1))
    assert not REMOVED[rule](refunded_late)
    purge.retention_apply(now=until - dt.timedelta(microseconds=1))
    assert not REMOVED[rule](refunded_late)
    purge.retention_apply(now=until)
    assert REMOVED[rule](refunded_late)


@pytest.mark.django_db
def test_the_retention_table_says_the_periods_count_from_the_end_of_the_last_obligation():
    with translation.override("en"):
        assert retention.TRANSACTION_RECORDS.describe_period() == (
            "10 years after the end of the year in which the transaction is closed and every refund, return of "
            "goods, payout and payment check on it is finished")
        assert retention.REFUND_DOCUMENTS.describe_period().startswith(
            "5 years after the refund request is closed, its transaction is closed and every refund")
        assert retention.DISPUTE_CONVERSATIONS.describe_period().startswith(
            "5 years after the dispute is resolved, its transaction is closed and every refund")
    with translation.override("id"):
        assert retention.TRANSACTION_RECORDS.describe_period().startswith(
            "10 tahun setelah akhir tahun saat transaksi ditutup dan setiap pengembalian dana")


# --- still in motion: a lower bound, said as one --------------------------------------------------

@pytest.fixture
def buyers_refund_being_paid(seller, buyer):
    """A closed transaction whose refund to the buyer is still being paid out: the seller has nothing
    open (``erasure_blockers``) and may erase, but the transaction's records are still needed."""
    txn = cancelled(seller, buyer)
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=CLOSED)
    Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                          amount=50_000, status=Payout.Status.IN_PROGRESS)
    return txn


@pytest.mark.django_db
def test_records_of_a_transaction_still_in_motion_are_kept_at_least_until_a_period_from_now(
        client, seller, buyers_refund_being_paid, committed):
    now = timezone.now()
    item = {item.rule.key: item for item in selectors.erasure_kept(user=seller, now=now)}["transaction_records"]
    assert item.at_least and item.until == retention.TRANSACTION_RECORDS.until(now)
    with translation.override("en"):
        named = format_wib(item.until, with_time=False)
    client.force_login(seller)
    card = shown_for(client.get(ERASE).content.decode(), "transaction_records")
    assert f"{named} at the earliest" in card
    assert "something on it is still in progress, and the period starts only once that is finished" in card

    seller.preferred_language = "en"
    seller.save(update_fields=["preferred_language"])
    with committed():
        erasure = services.account_erase(user=seller)
    stored = next(entry for entry in ErasureRecord.objects.get(pk=erasure.pk).kept
                  if entry["rule"] == "transaction_records")
    assert stored["at_least"] is True
    assert selectors.KeptItem.from_stored(stored).at_least
    [confirmation] = [m for m in mail.outbox if "erased" in m.subject]
    assert f"at least until {named}" in confirmation.body
    assert f"at least until {named}" in confirmation.alternatives[0][0]
    # And the purge indeed keeps them, whatever the clock says, until the refund is paid.
    purge.retention_apply(now=now + dt.timedelta(days=366 * 30))
    assert EscrowTransaction.objects.get(pk=buyers_refund_being_paid.pk).title != purge.ANONYMISED


@pytest.mark.django_db
def test_an_erasure_record_written_before_lower_bounds_still_reads():
    entry = {"rule": "transaction_records", "count": 1, "until": "2033-01-01T00:00:00+07:00"}
    assert selectors.KeptItem.from_stored(entry).at_least is False


# --- the one read of "when did it finish", for every obligation ----------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("make_in_motion", IN_MOTION, ids=lambda make: make.__name__)
def test_the_end_of_the_last_obligation_is_where_the_purge_starts_counting(seller, buyer, make_in_motion):
    txn = cancelled(seller, buyer)
    finish = make_in_motion(txn, buyer)
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=long_ago())
    this = EscrowTransaction.objects.filter(pk=txn.pk)
    assert obligations.last_finished(this) == {txn.pk: None}

    at = timezone.now() - dt.timedelta(days=3)
    finish(at)
    assert obligations.last_finished(this) == {txn.pk: at}
    assert this.filter(obligations.in_motion(since=at - dt.timedelta(microseconds=1))).exists()
    assert not this.filter(obligations.in_motion(since=at)).exists()


@pytest.mark.django_db
def test_a_transaction_with_nothing_after_its_closing_finished_when_it_closed(seller, buyer):
    txn = cancelled(seller, buyer)
    assert obligations.last_finished(EscrowTransaction.objects.filter(pk=txn.pk)) == {
        txn.pk: EscrowTransaction.objects.get(pk=txn.pk).closed_at}


# --- the erasure page costs the same queries however much the person did -------------------------

def _history(seller, buyer):
    txn = cancelled(seller, buyer)
    Dispute.objects.create(escrow_transaction=txn, reason="wrong_item", description="Warna salah", opened_by=buyer,
                           status=Dispute.Status.RESOLVED, resolved_at=CLOSED)
    _refund_request(txn, buyer, status=RefundRequest.Status.COMPLETED, completed_at=REFUNDED)
    Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                          amount=50_000, status=Payout.Status.COMPLETED, completed_at=REFUNDED)


@pytest.mark.django_db
def test_the_erasure_page_costs_the_same_queries_with_more_history(client, seller, buyer):
    client.force_login(buyer)
    _history(seller, buyer)
    client.get(ERASE)  # session and language settled

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ERASE).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for _ in range(6):
        _history(seller, buyer)
    assert queries() == few
