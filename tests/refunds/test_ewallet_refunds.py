"""E-wallet refunds: the registered name must be the buyer's, and since no provider can check it, a
named staff member confirms it before any Rupiah is sent."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import PayoutDestination
from accounts.services import payout_destination_add_ewallet
from audit.models import AuditEntry
from disbursements.models import Disbursement
from disputes import services as dispute_services
from notifications.models import Notification
from refunds import policy, services
from refunds.models import RefundRequest
from refunds.policy import StaffTask
from tests.factories import BankDestinationFactory


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def _approved_refund(disputed, officer, finance) -> RefundRequest:
    dispute = disputed(reason="not_received", description="Hilang")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Terbukti")
    request = RefundRequest.objects.get(escrow_transaction=dispute.escrow_transaction)
    return services.refund_approve(refund_request=request, actor=finance, reason="Dokumen lengkap, sesuai kebijakan")


def _wallet(buyer, name, phone="081234567890"):
    return payout_destination_add_ewallet(owner=buyer, provider="gpy", phone=phone, registered_name=name)


def test_policy_needs_a_person_to_confirm_an_ewallet_name():
    assert policy.ewallet_name_confirmed(kind="bank", verification="verified")
    assert not policy.ewallet_name_confirmed(kind="ewallet", verification="unverified")
    assert policy.ewallet_name_confirmed(kind="ewallet", verification="approved")
    assert not policy.substitute_account_acceptable(owner_id=1, buyer_id=1, can_receive_payouts=True,
                                                    name_confirmed=False)


@pytest.mark.django_db
def test_an_ewallet_registered_to_someone_else_is_refused_with_the_reason(client, disputed, dispute_officer,
                                                                          finance, buyer):
    request = _approved_refund(disputed, dispute_officer, finance)
    other = _wallet(buyer, "Orang Lain Sekali")
    with pytest.raises(services.RefundError) as refused:
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=other)
    assert refused.value.code == "name_mismatch" and "Orang Lain Sekali" in refused.value.message
    request.refresh_from_db()
    assert request.destination is None and not Disbursement.objects.exists()
    # The same from the refund page: a message, no transfer.
    client.force_login(buyer)
    response = client.post(reverse("refunds:add_account", kwargs={"pk": request.pk}),
                           {"kind": "ewallet", "ewallet-provider": "ovo", "ewallet-phone": "081298765432",
                            "ewallet-registered_name": "Orang Lain Sekali"}, follow=True)
    assert "registered to “Orang Lain Sekali”, not to you" in response.content.decode()
    assert not Disbursement.objects.exists()


@pytest.mark.django_db
def test_an_ewallet_in_the_buyers_name_is_held_for_a_named_staff_check_then_paid(client, disputed,
                                                                                dispute_officer, finance, buyer):
    request = _approved_refund(disputed, dispute_officer, finance)
    wallet = _wallet(buyer, buyer.full_name)
    services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    request.refresh_from_db()
    assert request.destination == wallet and request.payout.status == "awaiting_destination"
    assert not Disbursement.objects.exists()  # nothing is sent before the check
    assert request.handler == finance and request.handler_task == StaffTask.REVIEW_EWALLET_NAME
    assert request.handler_due_at is not None
    client.force_login(buyer)
    page = client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference}))
    assert 'data-testid="ewallet-hold-reason"' in page.content.decode()

    with pytest.raises(services.RefundError):  # a reason is required
        services.refund_ewallet_review(refund_request=request, actor=finance, confirmed=True, reason="")
    with pytest.raises(services.RefundError) as refused:
        services.refund_ewallet_review(refund_request=request, actor=dispute_officer, confirmed=True, reason="x")
    assert refused.value.code == "forbidden"
    services.refund_ewallet_review(refund_request=request, actor=finance, confirmed=True,
                                   reason="Tangkapan layar GoPay menunjukkan nama Budi Pembeli")
    wallet.refresh_from_db()
    request.refresh_from_db()
    assert wallet.verification == PayoutDestination.Verification.APPROVED and wallet.approved_by == finance
    [part] = Disbursement.objects.filter(payout=request.payout)
    assert part.kind == Disbursement.Kind.EWALLET and part.amount == request.amount and part.ewallet_phone
    assert request.handler_task == ""
    assert AuditEntry.objects.filter(action="payout_destination.ewallet_review").exists()


@pytest.mark.django_db
def test_staff_refuse_an_ewallet_and_the_buyer_is_asked_for_another_account(client, disputed, dispute_officer,
                                                                           finance, buyer):
    request = _approved_refund(disputed, dispute_officer, finance)
    wallet = _wallet(buyer, buyer.full_name)
    services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    services.refund_ewallet_review(refund_request=request, actor=finance, confirmed=False, seen_name="SITI AMINAH",
                                   reason="Aplikasi DANA menampilkan nama lain")
    request.refresh_from_db()
    wallet.refresh_from_db()
    assert wallet.verification == PayoutDestination.Verification.NAME_MISMATCH and not wallet.can_receive_payouts
    assert request.destination is None and not Disbursement.objects.exists()
    notice = Notification.objects.get(kind="refund_account_refused", recipient=buyer)
    assert "SITI AMINAH" in notice.body
    assert services.refund_next_step(request).holder == "buyer"
    with pytest.raises(services.RefundError) as refused:
        services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    assert refused.value.code == "name_mismatch" and "SITI AMINAH" in refused.value.message
    # The refund page says so too, no longer offers the refused accounts (a bank account found in another
    # name likewise), and opens the form to add one in the buyer's own name.
    BankDestinationFactory(owner=buyer, account_number="7001239999", account_holder_name=buyer.full_name,
                           verified_name="ANDI LAIN", verification=PayoutDestination.Verification.NAME_MISMATCH)
    client.force_login(buyer)
    response = client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference}))
    refused_list = response.content.decode().split('data-testid="refused-accounts"')[1].split("</div>")[0]
    assert "registered to “SITI AMINAH”, not to you" in refused_list and "registered to “ANDI LAIN”" in refused_list
    assert not response.context["destination_form"].fields["destination"].queryset.exists()
    assert 'data-testid="add-refund-account" open' in response.content.decode()


@pytest.mark.django_db
def test_approval_never_pays_a_default_ewallet_nobody_checked(disputed, dispute_officer, finance, buyer):
    wallet = _wallet(buyer, buyer.full_name)
    PayoutDestination.objects.filter(pk=wallet.pk).update(is_default=True)
    request = _approved_refund(disputed, dispute_officer, finance)
    assert request.destination == wallet and request.payout.status == "awaiting_destination"
    assert not Disbursement.objects.exists()
    assert request.handler_task == StaffTask.REVIEW_EWALLET_NAME


@pytest.mark.django_db
def test_the_refund_page_shows_finances_reason_next_to_the_refused_ewallet(client, disputed, dispute_officer,
                                                                          finance, buyer):
    """The buyer hears Finance's words in the notification; the refund page, where the buyer acts, shows
    them too, next to the wallet and the name found. They are staff text: escaped like any other."""
    request = _approved_refund(disputed, dispute_officer, finance)
    wallet = _wallet(buyer, buyer.full_name)
    services.refund_choose_destination(refund_request=request, buyer=buyer, destination=wallet)
    reason = 'Aplikasi DANA menampilkan <b>nama lain</b> & "bukan" pembeli'
    services.refund_ewallet_review(refund_request=request, actor=finance, confirmed=False, seen_name="SITI AMINAH",
                                   reason=reason)
    # A bank account found in another name has no Finance reason: it keeps its sentence alone.
    BankDestinationFactory(owner=buyer, account_number="7001239999", account_holder_name=buyer.full_name,
                           verified_name="ANDI LAIN", verification=PayoutDestination.Verification.NAME_MISMATCH)
    client.force_login(buyer)
    html = client.get(reverse("refunds:detail", kwargs={"reference": request.escrow_transaction.reference})
                      ).content.decode()
    refused_list = html.split('data-testid="refused-accounts"')[1].split("</div>")[0]
    [wallet_item] = [item for item in refused_list.split("<li>") if "SITI AMINAH" in item]
    assert wallet.label in wallet_item
    assert ('data-testid="refusal-reason">Aplikasi DANA menampilkan &lt;b&gt;nama lain&lt;/b&gt; &amp; '
            '&quot;bukan&quot; pembeli<') in wallet_item
    assert "<b>nama lain</b>" not in html
    [bank_item] = [item for item in refused_list.split("<li>") if "ANDI LAIN" in item]
    assert "refusal-reason" not in bank_item
    # The notification said the same words.
    assert reason in Notification.objects.get(kind="refund_account_refused", recipient=buyer).body
