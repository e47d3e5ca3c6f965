"""Bank transfer to INTRASA's escrow account: verified only from the bank statement finance imports."""
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from ledger.models import AccountCategory
from ledger.selectors import category_balance, transaction_balances
from payments import services
from payments.models import BankStatementLine, Bill
from tests import scenarios
from tests.factories import StaffFactory
from transactions.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(db):
    from django.contrib.auth.models import Permission

    user = StaffFactory(email="keuangan@intrasa.co.id")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_bankstatementline",
                                                                      "view_bankstatementline"]))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def transfer_bill(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    return services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer")


def csv_file(*lines):
    body = "date,description,amount,reference\n" + "\n".join(lines) + "\n"
    upload = io.BytesIO(body.encode())
    upload.name = "mutasi.csv"
    return upload


def test_bill_has_a_unique_amount_below_the_amount_due(transfer_bill):
    txn = transfer_bill.escrow_transaction
    assert 1 <= transfer_bill.unique_code <= 999
    assert transfer_bill.amount == txn.amount_due - transfer_bill.unique_code
    assert transfer_bill.status == Bill.Status.PENDING and transfer_bill.provider_trx_id == ""


def test_two_open_transfers_never_share_an_amount(seller, buyer):
    amounts = set()
    for _ in range(20):
        txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
        amounts.add(services.payment_start(escrow_transaction=txn, buyer=buyer, channel_code="transfer").amount)
    assert len(amounts) == 20


def test_statement_import_verifies_the_matching_transfer(client, finance, transfer_bill):
    client.force_login(finance)
    url = reverse("admin:payments_statement_import")
    line = f"2026-11-23,TRSF E-BANKING CR BUDI,{transfer_bill.amount},BCA-001"
    response = client.post(url, {"file": csv_file(line, "2026-11-23,SETORAN LAIN,77777,BCA-002")})
    assert response.status_code == 302
    transfer_bill.refresh_from_db()
    txn = transfer_bill.escrow_transaction
    txn.refresh_from_db()
    assert transfer_bill.status == Bill.Status.VERIFIED and txn.status == Status.VERIFIED
    assert transaction_balances(escrow_transaction=txn)[AccountCategory.ESCROW_HOLD] == txn.amount_due
    # The unmatched 77.777 is on the escrow account too, booked to suspense until finance match it.
    assert category_balance(category=AccountCategory.ESCROW_BANK) == transfer_bill.amount + 77777
    assert category_balance(category=AccountCategory.UNMATCHED_SUSPENSE) == 77777
    assert category_balance(category=AccountCategory.PAYMENT_DISCOUNT) == transfer_bill.unique_code
    assert BankStatementLine.objects.filter(matched_bill__isnull=True).count() == 1
    # importing the same file again changes nothing
    client.post(url, {"file": csv_file(line)})
    assert BankStatementLine.objects.count() == 2
    call_command("ledger_check")


def test_a_second_transfer_of_the_same_amount_is_not_taken_as_payment(client, finance, transfer_bill):
    client.force_login(finance)
    url = reverse("admin:payments_statement_import")
    client.post(url, {"file": csv_file(f"2026-11-23,CR BUDI,{transfer_bill.amount},BCA-010")})
    client.post(url, {"file": csv_file(f"2026-11-24,CR BUDI LAGI,{transfer_bill.amount},BCA-011")})
    assert BankStatementLine.objects.get(bank_reference="BCA-011").matched_bill is None
    call_command("ledger_check")


def test_bad_csv_imports_nothing_and_says_which_lines(client, finance, transfer_bill):
    client.force_login(finance)
    response = client.post(reverse("admin:payments_statement_import"),
                           {"file": csv_file("kemarin,CR,abc,X", f"2026-11-23,CR,{transfer_bill.amount},Y")})
    assert response.status_code == 200
    assert "2" in str(response.context["form"].errors["file"])
    assert not BankStatementLine.objects.exists()


def test_only_finance_can_import(client, transfer_bill):
    staff = StaffFactory(email="cs@intrasa.co.id")
    client.force_login(staff)
    response = client.post(reverse("admin:payments_statement_import"), {"file": csv_file("2026-11-23,CR,1,Z")})
    assert response.status_code == 403
    assert not BankStatementLine.objects.exists()
