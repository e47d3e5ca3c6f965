"""Staff resolution in the Django admin, per role (groups from accounts/migrations/0003_staff_roles)."""
import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from disputes import services
from disputes.models import Dispute, DisputeMessage
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from refunds.models import RefundRequest
from tests import scenarios
from transactions.models import Status

from .conftest import image_upload

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:disputes_dispute_changelist")
# These disputes are fresh: the seller may still reply, so a decision confirms it comes before that
# (tests/disputes/test_admin_case_page.py covers the warning itself).
BEFORE_DEADLINE = {"confirm_before_deadline": "on"}


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def run_action(client, action, dispute, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [dispute.pk], "apply": "1", **fields}
    return client.post(CHANGELIST, data, follow=True)


def actions_offered(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    form = response.context["action_form"]
    return {name for name, _label in form.fields["action"].choices if name} if form else set()


def test_staff_role_groups_exist_with_their_permissions():
    perms = {g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
             for g in Group.objects.prefetch_related("permissions__content_type")}
    assert {"Customer service", "Dispute officer", "Finance"} <= set(perms)
    assert "disputes.add_disputemessage" in perms["Customer service"]
    assert "transactions.resolve_dispute" not in perms["Customer service"]
    assert "transactions.resolve_dispute" in perms["Dispute officer"]
    assert {"refunds.approve_refund", "disbursements.change_disbursement",
            "payments.add_bankstatementline"} <= perms["Finance"]


def test_each_role_sees_only_its_actions(client, customer_service, officer, finance):
    client.force_login(customer_service)
    assert actions_offered(client) == {"write_message"}
    client.force_login(officer)
    assert actions_offered(client) == {"release_to_seller", "refund_buyer_in_full", "split", "write_message"}
    client.force_login(finance)
    assert not {"release_to_seller", "refund_buyer_in_full", "split"} & actions_offered(client)
    response = client.get(reverse("admin:refunds_refundrequest_changelist"))
    assert "approve" in {n for n, _l in response.context["action_form"].fields["action"].choices}
    client.force_login(officer)
    response = client.get(reverse("admin:refunds_refundrequest_changelist"))
    assert "approve" not in {n for n, _l in response.context["action_form"].fields["action"].choices}


def test_customer_service_cannot_run_a_resolve_action(client, disputed, customer_service):
    dispute = disputed()
    client.force_login(customer_service)
    run_action(client, "release_to_seller", dispute, reason="Coba", **BEFORE_DEADLINE)
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    assert dispute.escrow_transaction.status == Status.DISPUTED


def test_customer_service_writes_a_message_to_the_parties(client, disputed, customer_service, buyer):
    dispute = disputed()
    client.force_login(customer_service)
    run_action(client, "write_message", dispute, body="Kami sedang memeriksa bukti.")
    message = DisputeMessage.objects.get(role="staff")
    assert message.author == customer_service and message.body == "Kami sedang memeriksa bukti."


def test_release_asks_for_a_reason_and_records_the_staff_member(client, disputed, officer, seller):
    dispute = disputed()
    client.force_login(officer)
    page = client.post(CHANGELIST, {"action": "release_to_seller", ACTION_CHECKBOX_NAME: [dispute.pk]})
    assert page.status_code == 200 and b'name="reason"' in page.content  # the intermediate page
    run_action(client, "release_to_seller", dispute, reason="Bukti pengiriman lengkap", **BEFORE_DEADLINE)
    dispute.refresh_from_db()
    txn = dispute.escrow_transaction
    txn.refresh_from_db()
    assert dispute.outcome == "release" and dispute.resolved_by == officer and not dispute.by_agreement
    assert txn.status == Status.CONFIRMED
    event = txn.events.get(action="resolve_release")
    assert event.actor == officer and event.actor_role == "staff" and event.reason == "Bukti pengiriman lengkap"


def test_refund_in_full_from_the_admin_starts_a_refund_request(client, disputed, officer):
    dispute = disputed(reason="not_received", description="Paket hilang")
    client.force_login(officer)
    run_action(client, "refund_buyer_in_full", dispute, reason="Kurir konfirmasi hilang", **BEFORE_DEADLINE)
    txn = dispute.escrow_transaction
    txn.refresh_from_db()
    assert txn.status == Status.REFUNDED
    request = RefundRequest.objects.get()
    assert request.case == "not_received" and request.amount == scenarios.buyer_paid(txn)
    assert request.status == RefundRequest.Status.IN_REVIEW  # reference and verified payment are ours
    assert txn.events.get(action="refund").actor == officer


def test_split_from_the_admin_keeps_the_ledger_green(client, disputed, officer):
    dispute = disputed(reason="not_as_described", description="Ukuran beda")
    txn = dispute.escrow_transaction
    client.force_login(officer)
    run_action(client, "split", dispute, reason="Diskon kesepakatan", buyer_amount="300.000",
               refund_case="settlement", **BEFORE_DEADLINE)
    txn.refresh_from_db()
    assert txn.status == Status.CONFIRMED
    balances = transaction_balances(escrow_transaction=txn)
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == 300_000
    assert balances[AccountCategory.SELLER_PAYABLE] == txn.amount_received - 300_000 - txn.fee_amount
    assert balances.get(AccountCategory.ESCROW_HOLD, 0) == 0
    call_command("ledger_check")
    assert RefundRequest.objects.get().amount == 300_000


def test_invalid_split_is_refused_with_a_message(client, disputed, officer):
    dispute = disputed()
    client.force_login(officer)
    response = run_action(client, "split", dispute, reason="x", buyer_amount="999.999.999", refund_case="settlement",
                          **BEFORE_DEADLINE)
    assert "less than" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


def test_queue_filters_search_and_detail(client, disputed, customer_service, seller, shipped, buyer):
    old = disputed()
    Dispute.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10),
                                             staff_due_at=timezone.now() - dt.timedelta(hours=1),
                                             status=Dispute.Status.ESCALATED)
    txn = shipped(price=20_000_000)
    new = services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="wrong_item", description="Salah")
    services.dispute_post_message(dispute=new, author=seller, body="Ini fotonya", upload=image_upload())
    client.force_login(customer_service)

    def listed(query):
        return {d.pk for d in client.get(CHANGELIST + query).context["cl"].result_list}

    assert listed("?sla=breached") == {old.pk}
    assert listed("?age=gt7") == {old.pk}
    assert listed("?age=lt3") == {new.pk}
    assert listed("?reason__exact=wrong_item") == {new.pk}
    assert listed("?amount=gt10m") == {new.pk}
    assert listed(f"?q={txn.reference}") == {new.pk}
    page = client.get(reverse("admin:disputes_dispute_change", args=[new.pk])).content.decode()
    assert "Ini fotonya" in page and "foto.png" in page  # messages and evidence inline
    assert new.escrow_transaction.events.get(action="open_dispute").reason in page  # the timeline
