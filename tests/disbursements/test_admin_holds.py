"""Releasing money that is held, the way staff do it: in the admin, logged in with their second
factor, with a reason — an unlisted SendMe answer (terms A) and an account whose holder name
differs from the bank's record. Nothing here calls a service directly to decide."""
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import PayoutDestination
from audit.models import AuditEntry
from disbursements import tasks
from disbursements.models import Disbursement, Payout
from tests.factories import BankDestinationFactory
from transactions.models import Status

from .fakes import answer
from .test_terms_edges import MONDAY, _books_balance_after_each_scenario, at, confirm, daytime  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def payout_staff(finance_officer):
    finance_officer.user_permissions.add(*Permission.objects.filter(
        codename__in=["change_disbursement", "view_disbursement", "view_payoutdestination",
                      "change_payoutdestination"]))
    return type(finance_officer).objects.get(pk=finance_officer.pk)


def test_a_part_held_for_an_unlisted_answer_is_released_in_the_admin_with_a_reason(
        daytime, clock, fake_sendme, seller, buyer, client, payout_staff, customer_service_officer, in_english):
    clock.set(at(MONDAY, 10))
    fake_sendme.answers = [answer("4031899", "Something new")]
    txn = confirm(seller, buyer, 2_000_000)
    [part] = Disbursement.objects.all()
    assert part.status == Disbursement.Status.HELD
    url = reverse("admin:disbursements_disbursement_next_step", args=[part.pk])

    client.force_login(customer_service_officer)  # may read payouts, not decide them
    assert client.get(url).status_code == 403

    client.force_login(payout_staff)
    listed = client.get(reverse("admin:disbursements_disbursement_changelist") + "?status__exact=held")
    assert listed.content.decode().count(url) == 1
    page = client.get(url).content.decode()
    assert "4031899" in page and 'value="release_hold"' in page
    # A held part is not a failure: no retry, under any reference.
    refused = client.post(url, {"step": "retry_same"})
    assert refused.status_code == 200 and "Only a failed or reversed transfer can be retried." in refused.content.decode()
    # Releasing needs the reason (what Faspay's technical team said).
    no_reason = client.post(url, {"step": "release_hold", "reason": "  "})
    assert no_reason.status_code == 200 and no_reason.context["form"].has_error("reason")
    part.refresh_from_db()
    assert part.status == Disbursement.Status.HELD and fake_sendme.inquiries == []

    response = client.post(url, {"step": "release_hold", "reason": "Faspay CS tiket 8812: transfer berhasil"})
    assert response.status_code == 302
    part.refresh_from_db()
    assert part.status == Disbursement.Status.SUCCEEDED
    assert fake_sendme.inquiries == [part.partner_reference_no] and len(fake_sendme.sent) == 1  # asked, never resent
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED and part.payout.status == Payout.Status.COMPLETED
    entry = AuditEntry.objects.get(action="disbursement.release_hold")
    assert entry.actor == payout_staff and entry.reason == "Faspay CS tiket 8812: transfer berhasil"


@pytest.mark.parametrize("kind", ["bank", "ewallet"])
def test_a_payout_waiting_on_a_name_mismatch_goes_out_once_staff_approve_the_name(
        daytime, clock, fake_sendme, seller, buyer, client, payout_staff, kind):
    clock.set(at(MONDAY, 10))
    where = ({"account_number": "1212121212"} if kind == "bank" else
             {"kind": PayoutDestination.Kind.EWALLET, "bank_code": "", "account_number": "",
              "ewallet_provider": "gpy", "ewallet_phone": "+6281234567890"})
    mismatch = BankDestinationFactory(owner=seller, is_default=True, account_holder_name=seller.full_name,
                                      verified_name="PT NAMA LAIN SEKALI",
                                      verification=PayoutDestination.Verification.NAME_MISMATCH, **where)
    txn = confirm(seller, buyer, 2_000_000)
    payout = Payout.objects.get(escrow_transaction=txn)
    assert payout.status == Payout.Status.AWAITING_DESTINATION and not payout.parts.exists()

    client.force_login(payout_staff)
    changelist = reverse("admin:accounts_payoutdestination_changelist")
    selection = {"action": "approve_name_mismatch", ACTION_CHECKBOX_NAME: [mismatch.pk]}
    assert client.post(changelist, {**selection, "apply": "1", "reason": " "}).status_code == 200
    payout.refresh_from_db()
    assert payout.status == Payout.Status.AWAITING_DESTINATION
    response = client.post(changelist, {**selection, "apply": "1",
                                        "reason": "Rekening usaha penjual; akta dicek oleh tim"})
    assert response.status_code == 302
    mismatch.refresh_from_db()
    assert mismatch.verification == PayoutDestination.Verification.APPROVED and mismatch.approved_by == payout_staff
    tasks.dispatch_due_disbursements()  # the beat job (every 30 s) gives the waiting payout its account
    payout.refresh_from_db()
    [part] = payout.parts.all()
    assert part.destination == mismatch and part.status == Disbursement.Status.SUCCEEDED and part.kind == kind
    assert payout.status == Payout.Status.COMPLETED
    txn.refresh_from_db()
    assert txn.status == Status.DISBURSED
