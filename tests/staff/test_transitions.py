"""Staff transition buttons: django-fsm-2's admin, but every button asks for a reason and goes
through transactions.services (timeline, audit) — never the model method directly. They move no
money: releasing or refunding a disputed transaction is decided on the dispute's page, through
disputes.services, the one path that also opens the refund request and plans the payout."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from ledger.models import AccountCategory
from ledger.selectors import transaction_balances
from tests import scenarios
from transactions import services
from transactions.models import Status, TransactionEvent

pytestmark = pytest.mark.django_db


def transition_url(txn, name):
    return reverse("admin:transactions_escrowtransaction_transition", kwargs={"object_id": txn.pk,
                                                                               "transition_name": name})


def change_url(txn):
    return reverse("admin:transactions_escrowtransaction_change", args=[txn.pk])


@pytest.fixture
def disputed(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    scenarios.open_dispute(txn, buyer, "Barang rusak")
    txn.refresh_from_db()
    return txn


@pytest.fixture
def unpaid(seller, buyer):
    return scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)


def test_a_disputed_transaction_is_decided_on_its_dispute_page_not_here(client, officer, disputed):
    client.force_login(officer)
    page = client.get(change_url(disputed)).content.decode()
    assert transition_url(disputed, "refund") not in page and transition_url(disputed, "resolve_release") not in page
    link = reverse("admin:disputes_dispute_change", args=[disputed.dispute.pk])
    assert 'data-testid="decide-on-dispute"' in page and link in page
    assert 'name="_save"' not in page  # nothing editable by hand


@pytest.mark.parametrize("name", ["refund", "resolve_release"])
def test_money_moving_transitions_are_refused_here(client, officer, disputed, name):
    client.force_login(officer)
    assert client.post(transition_url(disputed, name), {"reason": "Penjual tidak menanggapi"}).status_code == 403
    disputed.refresh_from_db()
    assert disputed.status == Status.DISPUTED
    assert transaction_balances(escrow_transaction=disputed)[AccountCategory.ESCROW_HOLD] == disputed.amount_received
    call_command("ledger_check")


def test_officer_sees_the_cancel_button_on_an_unpaid_transaction(client, officer, unpaid):
    client.force_login(officer)
    page = client.get(change_url(unpaid)).content.decode()
    block = page.split('data-testid="staff-transitions"')[1].split("</div>")[0]
    assert transition_url(unpaid, "cancel") in block
    assert "confirm" not in block  # no buyer/system transitions


def test_customer_service_sees_no_transition_they_may_not_run(client, customer_service, unpaid):
    client.force_login(customer_service)
    page = client.get(change_url(unpaid)).content.decode()
    assert "staff-transitions" not in page
    response = client.post(transition_url(unpaid, "cancel"), {"reason": "Saya mau"})
    assert response.status_code == 302
    unpaid.refresh_from_db()
    assert unpaid.status == Status.CREATED


def test_a_reason_is_required(client, officer, unpaid):
    client.force_login(officer)
    response = client.post(transition_url(unpaid, "cancel"), {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["transition_form"].errors
    unpaid.refresh_from_db()
    assert unpaid.status == Status.CREATED
    assert not AuditEntry.objects.filter(action="transaction.cancel").exists()


def test_cancel_button_goes_through_the_service(client, officer, unpaid, monkeypatch):
    called = []
    original = services.transaction_cancel

    def spy(**kwargs):
        called.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(services, "transaction_cancel", spy)
    client.force_login(officer)
    assert client.get(transition_url(unpaid, "cancel")).status_code == 200
    response = client.post(transition_url(unpaid, "cancel"), {"reason": "Pembeli minta dibatalkan lewat telepon"})
    assert response.status_code == 302 and response.url == change_url(unpaid)
    assert called and called[0]["actor"] == officer and called[0]["reason"].startswith("Pembeli minta")
    unpaid.refresh_from_db()
    assert unpaid.status == Status.CANCELLED
    event = TransactionEvent.objects.filter(escrow_transaction=unpaid, action="cancel").get()
    assert event.actor == officer and event.actor_role == "staff" and event.reason.startswith("Pembeli")
    audit = AuditEntry.objects.get(action="transaction.cancel")
    assert audit.actor == officer and audit.data == {"from": "created", "to": "cancelled"}
    call_command("ledger_check")


def test_transitions_outside_the_staff_list_are_refused(client, officer, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    client.force_login(officer)
    for name in ("verify", "confirm", "mark_disbursed", "ship", "save", "refund", "resolve_release"):
        assert client.post(transition_url(txn, name), {"reason": "coba"}).status_code == 403
    txn.refresh_from_db()
    assert txn.status == Status.PAID


def test_a_refused_service_shows_its_message_and_changes_nothing(client, officer, seller, unpaid):
    client.force_login(officer)
    services.transaction_cancel(escrow_transaction=unpaid, actor=seller, reason="sudah")  # someone was faster
    response = client.post(transition_url(unpaid, "cancel"), {"reason": "Dua kali"}, follow=True)
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="transaction.cancel").count() == 0  # a party's cancel is no staff action
    assert TransactionEvent.objects.filter(escrow_transaction=unpaid, action="cancel").count() == 1


def test_a_staff_cancel_is_audited_by_the_service_whoever_calls_it(officer, seller, unpaid):
    """The audit row of a staff action is written by the service, in its transaction: a caller
    other than the admin (a script, a shell) cannot forget it."""
    services.transaction_cancel(escrow_transaction=unpaid, actor=officer, reason="Permintaan penjual via telepon")
    audit = AuditEntry.objects.get(action="transaction.cancel")
    assert audit.actor == officer and audit.reason == "Permintaan penjual via telepon"
    assert audit.object_id == str(unpaid.pk) and audit.data == {"from": "created", "to": "cancelled"}


def test_a_refused_staff_cancel_leaves_no_audit_row(officer, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    with pytest.raises(services.TransactionActionError):
        services.transaction_cancel(escrow_transaction=txn, actor=officer, reason="Sudah dibayar")
    assert not AuditEntry.objects.filter(action="transaction.cancel").exists()
