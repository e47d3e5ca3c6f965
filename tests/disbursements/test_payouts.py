"""Paying sellers through the SendMe sandbox over real HTTP: every response class, no double payout."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import PayoutDestination
from disbursements import services, tasks
from disbursements.models import DailyQuota, Disbursement, Payout
from faspay.results import TransferResult, TransferStatus
from faspay.sendme import default_client
from ledger.models import AccountCategory, JournalEntry
from ledger.selectors import transaction_balances
from notifications.models import Notification
from tests.factories import BankDestinationFactory
from transactions.models import Status

from .conftest import verified_bank

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


def sandbox_transfers(control):
    return [t for t in control.state()["transfers"]]


def test_confirmation_pays_the_seller_and_closes_the_transaction(sendme, confirmed, seller):
    txn = confirmed()
    txn.refresh_from_db()
    payout = Payout.objects.get(escrow_transaction=txn)
    part = payout.parts.get()
    assert part.status == Disbursement.Status.SUCCEEDED
    assert part.amount == txn.seller_receives and part.description == f"INTRASA {txn.reference}"
    assert txn.status == Status.DISBURSED
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.SELLER_PAYABLE] == 0
    assert payout.status == Payout.Status.COMPLETED and payout.due_at > payout.created_at
    transfers = sandbox_transfers(sendme)
    assert [t["partner_reference_no"] for t in transfers] == [part.partner_reference_no]
    assert Notification.objects.filter(kind="payout_sent", recipient=seller).count() == 1


def test_large_payout_is_split_and_the_rest_waits_for_the_next_day(sendme, confirmed, client, seller):
    txn = confirmed(price=120_000_000)  # seller receives 120.000.000 (fee paid by the buyer)
    seller.preferred_language = "en"
    seller.save()
    client.force_login(seller)
    page = client.get(txn.get_absolute_url()).content.decode()
    assert page.count('data-testid="payout-part"') == 3
    assert page.count("Daily limit reached: waits for the next day") == 2
    parts = list(Disbursement.objects.order_by("sequence"))
    assert [p.amount for p in parts] == [50_000_000, 50_000_000, 20_000_000]
    assert len({p.partner_reference_no for p in parts}) == 3
    assert [p.status for p in parts].count(Disbursement.Status.SUCCEEDED) == 1
    waiting = [p for p in parts if p.status == Disbursement.Status.QUEUED]
    assert all(p.waiting_for == Disbursement.Wait.DAILY_LIMIT for p in waiting)
    assert DailyQuota.objects.get().used == 50_000_000
    tomorrow = timezone.now() + dt.timedelta(days=1)
    for part in waiting:
        services.disbursement_dispatch(disbursement_id=part.pk, now=tomorrow)
    statuses = list(Disbursement.objects.order_by("sequence").values_list("status", flat=True))
    assert statuses.count(Disbursement.Status.SUCCEEDED) == 2  # tomorrow's quota takes one more 50.000.000
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED  # not disbursed until every part has gone out


def test_timeout_after_sendme_accepted_ends_as_one_transfer(sendme, confirmed):
    sendme("fault", kind="timeout", scope="sendme.transfer-interbank", count=1, seconds=4, after_processing=True)
    sendme("fault", kind="callback_drop", scope="callback.sendme", count=5)  # no hint either
    txn = confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.UNKNOWN
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    txn.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and txn.status == Status.DISBURSED
    assert len(sandbox_transfers(sendme)) == 1
    assert JournalEntry.objects.filter(kind="payout").count() == 1


def test_500_before_processing_is_resent_under_the_same_reference(sendme, confirmed):
    sendme("fault", kind="http_500", scope="sendme.transfer-interbank", count=1)
    confirmed()
    part = Disbursement.objects.get()
    reference = part.partner_reference_no
    assert part.status == Disbursement.Status.UNKNOWN
    # The inquiry finds nothing: once the grace period is over that means "never arrived".
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now(),
                                                   sent_at=timezone.now() - dt.timedelta(minutes=5))
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.RETRYING
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and part.partner_reference_no == reference
    assert [t["partner_reference_no"] for t in sandbox_transfers(sendme)] == [reference]


def test_not_processed_answers_are_resent_with_the_same_reference(sendme, confirmed, monkeypatch):
    real = default_client()
    calls = []

    class Throttled:
        def __getattr__(self, name):
            return getattr(real, name)

        def transfer_interbank(self, **kwargs):
            calls.append(kwargs["partner_reference_no"])
            if len(calls) == 1:
                return TransferResult.parse(429, {"responseCode": "4291800", "responseMessage": "Too Many Requests"})
            return real.transfer_interbank(**kwargs)

    monkeypatch.setattr("disbursements.services.default_client", lambda: Throttled())
    monkeypatch.setattr("disbursements.tasks.default_client", lambda: Throttled())
    confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.RETRYING
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED
    assert calls == [part.partner_reference_no] * 2


@pytest.mark.parametrize("account,expected_reason", [("4040404040", "404"), ("6060606060", "06")])
def test_final_failures_keep_the_money_and_a_person_retries(sendme, confirmed, seller, account, expected_reason,
                                                           dispute_officer, finance_officer):
    BankDestinationFactory(owner=seller, account_number=account, is_default=True,
                           account_holder_name=seller.full_name,
                           verification=PayoutDestination.Verification.APPROVED)
    txn = confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.FAILED and expected_reason in part.failure_reason + part.last_response_code
    assert DailyQuota.objects.get().used == 0  # the quota came back
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == txn.seller_receives
    assert part.payout.status == Payout.Status.NEEDS_ACTION
    assert Notification.objects.filter(kind="payout_failed", recipient=seller).count() == 1
    good = verified_bank(seller, number="7009998887", default=False)
    # Another account means a new reference: never by one person's retry.
    with pytest.raises(services.DisbursementError) as refused:
        services.disbursement_retry(disbursement=part, actor=dispute_officer, destination=good)
    assert refused.value.code == "approval_required"
    approval = services.disbursement_retry_request(disbursement=part, actor=dispute_officer, destination=good,
                                                   reason="Rekening lama ditolak bank; penjual memberi rekening baru")
    with pytest.raises(services.DisbursementError) as same_person:
        services.disbursement_retry_approve(approval=approval, actor=dispute_officer)
    assert same_person.value.code == "same_person"
    assert Disbursement.objects.count() == 1
    [retry] = services.disbursement_retry_approve(approval=approval, actor=finance_officer)
    retry.refresh_from_db()
    assert retry.partner_reference_no != part.partner_reference_no and retry.retry_of == part
    assert retry.status == Disbursement.Status.SUCCEEDED
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    with pytest.raises(services.DisbursementError):
        services.disbursement_retry(disbursement=part, actor=dispute_officer)


def test_insufficient_deposit_is_a_final_failure(sendme, confirmed):
    sendme("balance", balance=0)
    confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.FAILED and part.last_response_code == "4031814"


def test_pending_transfer_settles_through_the_callback_hint(sendme, confirmed, live_server):
    sendme("config", settle_delay_seconds=1)
    txn = confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.PENDING
    import time

    time.sleep(1.2)
    sendme("tick")  # the sandbox settles and calls back; the callback makes us ask
    part.refresh_from_db()
    txn.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and txn.status == Status.DISBURSED
    assert JournalEntry.objects.filter(kind="payout").count() == 1


def test_reversal_after_success_puts_the_money_back_in_seller_payable(sendme, confirmed, seller):
    import time

    # The bank reverses the transfer some seconds after it succeeded. Long enough that a busy
    # machine (the suite runs in parallel) still sees the success first; then asked until it shows.
    sendme("config", reverse_delay_seconds=4)
    BankDestinationFactory(owner=seller, account_number="4444444444", is_default=True,
                           account_holder_name=seller.full_name, verification=PayoutDestination.Verification.VERIFIED)
    txn = confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.SUCCEEDED
    deadline = time.monotonic() + 20
    while part.status != Disbursement.Status.REVERSED and time.monotonic() < deadline:
        time.sleep(0.5)
        services.disbursement_inquire(disbursement_id=part.pk)
        part.refresh_from_db()
    assert part.status == Disbursement.Status.REVERSED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == part.amount
    assert JournalEntry.objects.filter(kind="payout_reversed").count() == 1


def test_callback_with_a_bad_signature_is_refused(sendme, live_server, confirmed):
    import requests

    confirmed()
    part = Disbursement.objects.get()
    response = requests.post(f"{live_server.url}/pencairan/sendme/callback/",
                             json={"originalPartnerReferenceNo": part.partner_reference_no},
                             headers={"X-TIMESTAMP": "2026-01-01T00:00:00+07:00", "X-SIGNATURE": "Zm9v"}, timeout=10)
    assert response.status_code == 401


def test_destination_verification_by_account_inquiry(sendme, seller):
    sendme("account_register", number="7001112223", holder_name="SARI PENJUAL")
    good = BankDestinationFactory(owner=seller, account_number="7001112223", account_holder_name="Sari Penjual")
    other = BankDestinationFactory(owner=seller, account_number="1212121212", account_holder_name="Sari Penjual")
    bad = BankDestinationFactory(owner=seller, account_number="4040404040", account_holder_name="Sari Penjual")
    assert services.destination_verify(destination_id=good.pk) == PayoutDestination.Verification.VERIFIED
    assert services.destination_verify(destination_id=other.pk) == PayoutDestination.Verification.NAME_MISMATCH
    assert services.destination_verify(destination_id=bad.pk) == PayoutDestination.Verification.INVALID
    other.refresh_from_db()
    assert other.verified_name == "PT NAMA LAIN SEKALI" and not other.can_receive_payouts


def test_payout_waits_for_an_unverified_account_then_goes(sendme, seller, buyer):
    from tests import scenarios

    sendme("account_register", number="7005556667", holder_name="SARI PENJUAL")
    BankDestinationFactory(owner=seller, account_number="7005556667", account_holder_name="Sari Penjual",
                           is_default=True)
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED  # verified on first use, then paid
    assert Payout.objects.get().status == Payout.Status.COMPLETED


def test_ewallet_payout_and_an_unregistered_number(sendme, seller, buyer):
    from tests import scenarios

    wallet = PayoutDestination.objects.create(owner=seller, kind="ewallet", ewallet_provider="gpy",
                                              ewallet_phone="+6281200000404", account_holder_name=seller.full_name,
                                              is_default=True)
    scenarios.advance(scenarios.create(seller, buyer, price=7_000_000, shipping_cost=0), buyer, Status.CONFIRMED)
    parts = list(Disbursement.objects.order_by("sequence"))
    assert [p.amount for p in parts] == [5_000_000, 2_000_000]
    assert all(p.status == Disbursement.Status.FAILED for p in parts)
    wallet.refresh_from_db()
    assert wallet.verification == PayoutDestination.Verification.INVALID


def test_an_inquiry_never_sends_a_part_that_was_never_sent(sendme, confirmed, monkeypatch):
    """A (signed) callback or an inquiry about a queued part must not bypass quota or night hold."""
    from sandbox.models import Transfer

    monkeypatch.setattr("disbursements.tasks.dispatch_disbursement.delay_on_commit", lambda *a, **k: None)
    confirmed()
    part = Disbursement.objects.get()
    assert services.disbursement_inquire(disbursement_id=part.pk) == Disbursement.Status.QUEUED
    assert services.callback_receive(partner_reference_no=part.partner_reference_no)
    Disbursement.objects.filter(pk=part.pk).update(next_attempt_at=timezone.now())
    tasks.resolve_due_disbursements()
    part.refresh_from_db()
    assert part.status == Disbursement.Status.QUEUED and part.quota_day is None
    assert not Transfer.objects.exists() and not DailyQuota.objects.filter(used__gt=0).exists()


def test_a_reversed_part_retried_completes_the_payout(sendme, confirmed, seller, dispute_officer, finance_officer):
    import time

    sendme("config", reverse_delay_seconds=1)
    BankDestinationFactory(owner=seller, account_number="4444444444", is_default=True,
                           account_holder_name=seller.full_name, verification=PayoutDestination.Verification.VERIFIED)
    txn = confirmed()
    part = Disbursement.objects.get()
    time.sleep(1.2)
    services.disbursement_inquire(disbursement_id=part.pk)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.REVERSED and part.payout.status == Payout.Status.NEEDS_ACTION
    good = verified_bank(seller, number="7001231231", default=False)
    approval = services.disbursement_retry_request(disbursement=part, actor=dispute_officer, destination=good,
                                                   reason="Bank mengembalikan dana; rekening lain")
    [retry] = services.disbursement_retry_approve(approval=approval, actor=finance_officer)
    retry.refresh_from_db()
    payout = Payout.objects.get()
    assert retry.status == Disbursement.Status.SUCCEEDED and payout.status == Payout.Status.COMPLETED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == 0


def test_late_answers_never_release_the_quota_twice(sendme, confirmed, seller):
    from disbursements import quota

    BankDestinationFactory(owner=seller, account_number="6060606060", is_default=True,
                           account_holder_name=seller.full_name, verification=PayoutDestination.Verification.APPROVED)
    confirmed()
    part = Disbursement.objects.get()
    assert part.status == Disbursement.Status.FAILED
    day = DailyQuota.objects.get().day
    assert quota.reserve(day, 5_000_000)  # another part's reservation the same day
    for status in ("04", "06", "05"):
        services._record(part.pk, TransferStatus.parse(200, {"responseCode": "2003600", "latestTransactionStatus": status}),
                         inquiry=True)
    part.refresh_from_db()
    assert part.status == Disbursement.Status.FAILED
    assert DailyQuota.objects.get(day=day).used == 5_000_000


def test_a_failed_account_check_never_leaves_the_account_as_the_default(sendme, seller):
    """Issue 17: the default moves to an account that can receive payouts, or to none; staff
    approving the name gives it back when the owner has no other default."""
    from accounts.services import payout_destination_approve
    from tests.factories import UserFactory

    sendme("account_register", number="7001112223", holder_name="SARI PENJUAL")
    good = BankDestinationFactory(owner=seller, account_number="7001112223", account_holder_name="Sari Penjual",
                                  is_default=False)
    services.destination_verify(destination_id=good.pk)
    other = BankDestinationFactory(owner=seller, account_number="1212121212", account_holder_name="Sari Penjual",
                                   is_default=True)
    assert services.destination_verify(destination_id=other.pk) == PayoutDestination.Verification.NAME_MISMATCH
    other.refresh_from_db()
    good.refresh_from_db()
    assert not other.is_default and good.is_default

    lone = UserFactory(full_name="Rina Lestari")
    mismatch = BankDestinationFactory(owner=lone, account_number="1212121212", account_holder_name="Rina Lestari",
                                      is_default=True)
    services.destination_verify(destination_id=mismatch.pk)
    mismatch.refresh_from_db()
    assert not mismatch.is_default and not PayoutDestination.objects.filter(owner=lone, is_default=True).exists()
    payout_destination_approve(destination=mismatch, actor=UserFactory(is_staff=True), reason="Nama singkatan")
    mismatch.refresh_from_db()
    assert mismatch.is_default and mismatch.can_receive_payouts
