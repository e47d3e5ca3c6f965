""""Approve and transfer" sends a buyer's money: one click only shows what would be sent (amount,
account) and asks for a reason; the confirmed form calls ``refunds.services.refund_approve``, which
records the reason and the account in the audit row."""
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from disbursements.models import Payout
from intrasa.money import rupiah_on_one_line
from refunds import services
from refunds.models import RefundRequest
from tests.disbursements.conftest import verified_bank

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:refunds_refundrequest_changelist"


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


@pytest.fixture
def in_review(disputed, dispute_officer):
    from disputes import services as dispute_services

    dispute = disputed(reason="not_received", description="Paket tidak pernah sampai")
    dispute_services.dispute_resolve(dispute=dispute, staff=dispute_officer, outcome="refund", reason="Terbukti")
    request = RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)
    assert request.status == RefundRequest.Status.IN_REVIEW
    return request


def nothing_approved(request):
    request.refresh_from_db()
    return (request.status == RefundRequest.Status.IN_REVIEW and request.payout is None
            and not Payout.objects.filter(purpose=Payout.Purpose.BUYER_REFUND).exists()
            and not AuditEntry.objects.filter(action="refund.approve").exists())


def test_one_click_shows_the_amount_and_the_account_and_moves_nothing(client, finance, buyer, in_review):
    account = verified_bank(buyer, number="7009990001")
    client.force_login(finance)
    page = client.post(reverse(CHANGELIST), {"action": "approve", ACTION_CHECKBOX_NAME: [in_review.pk]})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="refund-transfers"' in text
    assert rupiah_on_one_line(in_review.amount) in text and account.label in text
    assert page.context["transfer_total"] == in_review.amount
    assert "reason" in page.context["form"].fields
    assert nothing_approved(in_review)


def test_the_page_says_when_the_buyer_has_no_account_yet(client, finance, in_review):
    client.force_login(finance)
    page = client.post(reverse(CHANGELIST), {"action": "approve", ACTION_CHECKBOX_NAME: [in_review.pk]})
    assert "No account yet: the buyer is asked for one" in page.content.decode()
    assert nothing_approved(in_review)


def test_confirming_without_a_reason_moves_nothing(client, finance, buyer, in_review):
    verified_bank(buyer, number="7009990001")
    client.force_login(finance)
    page = client.post(reverse(CHANGELIST), {"action": "approve", ACTION_CHECKBOX_NAME: [in_review.pk],
                                             "apply": "1", "reason": ""})
    assert page.status_code == 200 and "reason" in page.context["form"].errors
    assert nothing_approved(in_review)


def test_the_confirmed_approval_goes_through_the_service_with_the_reason(client, finance, buyer, in_review):
    account = verified_bank(buyer, number="7009990001")
    client.force_login(finance)
    response = client.post(reverse(CHANGELIST), {"action": "approve", ACTION_CHECKBOX_NAME: [in_review.pk],
                                                 "apply": "1", "reason": "Paket hilang, dokumen lengkap"})
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.status == RefundRequest.Status.PAYING and in_review.approved_by == finance
    audit = AuditEntry.objects.get(action="refund.approve")
    assert audit.actor == finance and audit.reason == "Paket hilang, dokumen lengkap"
    assert audit.data == {"amount": in_review.amount, "payout": in_review.payout_id, "destination": account.pk}


def test_the_service_refuses_an_approval_without_a_reason(finance, in_review):
    with pytest.raises(services.RefundError) as refused:
        services.refund_approve(refund_request=in_review, actor=finance, reason="   ")
    assert refused.value.code == "reason_required"
    assert nothing_approved(in_review)
