"""Races against real PostgreSQL: two actors transition the same transaction at the same moment."""
import pytest
from django.core.management import call_command
from django.db import connection

from escrow import services as escrow_services
from ledger.models import JournalEntry
from tests import scenarios
from tests.concurrency import race
from transactions import services
from transactions.models import EscrowTransaction, Status

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_confirmations_release_the_money_once(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, "shipped")
    outcomes = race(*[lambda: escrow_services.escrow_confirm(escrow_transaction=txn.pk, buyer=buyer)] * 2)
    assert sorted(outcomes) == ["illegal_transition", "ok"]
    assert JournalEntry.objects.filter(kind="escrow_release").count() == 1
    call_command("ledger_check")


def test_confirm_versus_dispute_has_exactly_one_outcome(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, "shipped")
    outcomes = race(
        lambda: escrow_services.escrow_confirm(escrow_transaction=txn.pk, buyer=buyer),
        lambda: scenarios.open_dispute(txn.pk, buyer, "rusak"),
    )
    assert outcomes.count("ok") == 1
    status = EscrowTransaction.objects.get(pk=txn.pk).status
    assert status in (Status.CONFIRMED, Status.DISPUTED)
    assert JournalEntry.objects.filter(kind="escrow_release").count() == (status == Status.CONFIRMED)
    call_command("ledger_check")


def test_two_buyers_accepting_one_invitation(seller, buyer, stranger):
    # A phone-only invitation: the first verified user who accepts becomes the buyer (an
    # email invitation may only be answered by its address, tests/security/test_invitations.py).
    txn = scenarios.create(seller, buyer_phone="+6281298765432")
    outcomes = race(
        lambda: services.transaction_accept(escrow_transaction=txn.pk, buyer=buyer),
        lambda: services.transaction_accept(escrow_transaction=txn.pk, buyer=stranger),
    )
    assert sorted(outcomes) == ["ok", "taken"]
    assert EscrowTransaction.objects.get(pk=txn.pk).buyer_id in (buyer.pk, stranger.pk)


def test_buyer_confirms_while_auto_confirm_and_a_dispute_fire(seller, buyer):
    """The buyer's click, the beat job and a dispute at the same moment: exactly one outcome."""
    import datetime as dt

    from django.utils import timezone

    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, "shipped")
    EscrowTransaction.objects.filter(pk=txn.pk).update(inspection_ends_at=timezone.now() - dt.timedelta(seconds=1))

    def auto_confirm():
        if escrow_services.escrow_auto_confirm(escrow_transaction=txn.pk) is None:
            raise services.TransactionActionError("nothing to do", code="skipped")

    outcomes = race(
        lambda: escrow_services.escrow_confirm(escrow_transaction=txn.pk, buyer=buyer),
        auto_confirm,
        lambda: scenarios.open_dispute(txn.pk, buyer, "rusak"),
    )
    assert outcomes.count("ok") == 1, outcomes
    txn.refresh_from_db()
    winner = outcomes.index("ok")
    assert txn.status == (Status.DISPUTED if winner == 2 else Status.CONFIRMED)
    assert txn.auto_confirmed == (winner == 1)
    assert JournalEntry.objects.filter(kind="escrow_release").count() == (winner != 2)
    call_command("ledger_check")


def test_concurrent_creations_never_pass_the_daily_limit(seller, settings):
    """The day's count is read by the creation's own write, a statement that begins once the
    seller's lock is granted: every creation that held the lock before is counted."""
    settings.INTRASA_INVITATIONS_PER_DAY = 3
    scenarios.create(seller, buyer_email="pertama@example.co.id")
    outcomes = race(*[lambda n=n: scenarios.create(seller, buyer_email=f"pembeli{n}@example.co.id")
                      for n in range(6)])
    assert sorted(outcomes, key=str) == ["daily_limit"] * 4 + ["ok"] * 2
    assert EscrowTransaction.objects.filter(seller=seller).count() == 3
    from notifications.models import Notification

    assert Notification.objects.filter(kind="invitation").count() == 3  # the refused ones rolled back
