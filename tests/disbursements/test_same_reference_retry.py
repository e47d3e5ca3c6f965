"""A part that SendMe reports Failed (06) is retried under the SAME Transaction ID (terms A,
REFERENCE §2.1) — by staff in the admin — against the sandbox over real HTTP: the retry succeeds,
the sandbox holds exactly one transfer that paid once, and the books balance."""
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from disbursements.models import DailyQuota, Disbursement, Payout
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from sandbox.sendme import DEFAULT_DEPOSIT_BALANCE
from transactions.models import Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _books_balance_after_each_scenario():
    yield
    call_command("ledger_check")


def test_staff_retry_after_failed_uses_the_same_id_and_pays_once(sendme, confirmed, client, finance_officer):
    finance_officer.user_permissions.add(*Permission.objects.filter(
        codename__in=["change_disbursement", "view_disbursement"]))
    # The bank rejects the first attempt (06 after acceptance), whatever the account.
    sendme("fault", kind="transfer_fail", scope="sendme.transfer-interbank", count=1)
    txn = confirmed()
    part = Disbursement.objects.get()
    reference = part.partner_reference_no
    assert part.status == Disbursement.Status.FAILED and part.latest_transaction_status == "06"
    assert part.payout.status == Payout.Status.NEEDS_ACTION
    assert DailyQuota.objects.get().used == 0
    state = sendme.state()
    assert [(t["partner_reference_no"], t["status"]) for t in state["transfers"]] == [(reference, "06")]
    assert state["deposit"]["balance"] == DEFAULT_DEPOSIT_BALANCE  # SendMe gave the failed amount back

    client.force_login(finance_officer)
    url = reverse("admin:disbursements_disbursement_next_step", args=[part.pk])
    page = client.get(url)
    assert page.status_code == 200 and reference in page.content.decode()
    response = client.post(url, {"step": "retry_same"})
    assert response.status_code == 302

    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED and part.partner_reference_no == reference
    assert Disbursement.objects.count() == 1 and part.latest_transaction_status == "00"
    state = sendme.state()
    [transfer] = state["transfers"]  # exactly one payout at SendMe: the same transfer, attempted twice
    assert (transfer["partner_reference_no"], transfer["status"], transfer["attempts"]) == (reference, "00", 2)
    assert transfer["amount"] == part.amount
    assert state["deposit"]["balance"] == DEFAULT_DEPOSIT_BALANCE - part.amount
    assert DailyQuota.objects.get().used == part.amount
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.SELLER_PAYABLE] == 0
    entry = AuditEntry.objects.get(action="disbursement.retry")
    assert entry.actor == finance_officer and entry.data["same_reference"] is True
    # Asked again (a double click, a stale page), nothing is sent twice.
    client.post(url, {"step": "retry_same"})
    assert len(sendme.state()["transfers"]) == 1 and sendme.state()["deposit"]["balance"] == (
        DEFAULT_DEPOSIT_BALANCE - part.amount)
