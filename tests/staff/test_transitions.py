"""Staff transition buttons: django-fsm-2's admin, but every button asks for a reason and goes
through transactions.services (timeline, ledger, audit) — never the model method directly."""
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
    return services.transaction_open_dispute(escrow_transaction=txn, buyer=buyer, reason="Barang rusak")


def test_officer_sees_only_staff_transitions_as_buttons(client, officer, disputed):
    client.force_login(officer)
    page = client.get(change_url(disputed)).content.decode()
    block = page.split('data-testid="staff-transitions"')[1].split("</div>")[0]
    assert transition_url(disputed, "resolve_release") in block and transition_url(disputed, "refund") in block
    assert "confirm" not in block.replace("resolve_release", "")  # no buyer/system transitions
    assert 'name="_save"' not in page  # nothing editable by hand


def test_customer_service_sees_no_transition_they_may_not_run(client, customer_service, disputed):
    client.force_login(customer_service)
    page = client.get(change_url(disputed)).content.decode()
    assert "staff-transitions" not in page
    response = client.post(transition_url(disputed, "refund"), {"reason": "Saya mau"})
    assert response.status_code == 302
    disputed.refresh_from_db()
    assert disputed.status == Status.DISPUTED


def test_a_reason_is_required(client, officer, disputed):
    client.force_login(officer)
    response = client.post(transition_url(disputed, "refund"), {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["transition_form"].errors
    disputed.refresh_from_db()
    assert disputed.status == Status.DISPUTED
    assert not AuditEntry.objects.filter(action="transaction.refund").exists()


def test_refund_button_goes_through_the_service(client, officer, disputed, monkeypatch):
    called = []
    original = services.transaction_refund

    def spy(**kwargs):
        called.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(services, "transaction_refund", spy)
    client.force_login(officer)
    assert client.get(transition_url(disputed, "refund")).status_code == 200
    response = client.post(transition_url(disputed, "refund"), {"reason": "Penjual tidak menanggapi sengketa"})
    assert response.status_code == 302 and response.url == change_url(disputed)
    assert called and called[0]["actor"] == officer and called[0]["reason"] == "Penjual tidak menanggapi sengketa"
    disputed.refresh_from_db()
    assert disputed.status == Status.REFUNDED
    event = TransactionEvent.objects.filter(escrow_transaction=disputed, action="refund").get()
    assert event.actor == officer and event.actor_role == "staff" and event.reason.startswith("Penjual")
    audit = AuditEntry.objects.get(action="transaction.refund")
    assert audit.actor == officer and audit.data == {"from": "disputed", "to": "refunded"}
    balances = transaction_balances(escrow_transaction=disputed)
    assert balances[AccountCategory.ESCROW_HOLD] == 0
    assert balances[AccountCategory.BUYER_REFUND_PAYABLE] == disputed.amount_received
    call_command("ledger_check")


def test_resolve_release_releases_to_the_seller(client, officer, disputed):
    client.force_login(officer)
    client.post(transition_url(disputed, "resolve_release"), {"reason": "Bukti pengiriman lengkap"})
    disputed.refresh_from_db()
    assert disputed.status == Status.CONFIRMED
    assert AuditEntry.objects.filter(action="transaction.resolve_release", actor=officer).exists()
    assert transaction_balances(escrow_transaction=disputed)[AccountCategory.SELLER_PAYABLE] == disputed.seller_receives
    call_command("ledger_check")


def test_transitions_outside_the_staff_list_are_refused(client, officer, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.PAID)
    client.force_login(officer)
    for name in ("verify", "confirm", "mark_disbursed", "ship", "save"):
        assert client.post(transition_url(txn, name), {"reason": "coba"}).status_code == 403
    txn.refresh_from_db()
    assert txn.status == Status.PAID


def test_a_refused_service_shows_its_message_and_changes_nothing(client, officer, disputed):
    client.force_login(officer)
    services.transaction_refund(escrow_transaction=disputed, actor=officer, reason="sudah")  # someone was faster
    response = client.post(transition_url(disputed, "refund"), {"reason": "Dua kali"}, follow=True)
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="transaction.refund").count() == 0  # only the admin writes these
    assert TransactionEvent.objects.filter(escrow_transaction=disputed, action="refund").count() == 1
