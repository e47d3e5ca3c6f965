"""Staff roles for the admin tests. The groups come from accounts/migrations/0003_staff_roles.py
(built separately); get_or_create here so these tests do not depend on it, and give each group the
permissions these tests rely on."""
import pytest
from django.contrib.auth.models import Group, Permission

from tests.factories import StaffFactory

VIEW_COMMON = [
    "transactions.view_escrowtransaction", "transactions.view_transactionevent", "payments.view_bill",
    "payments.view_providernotification", "disbursements.view_payout", "disbursements.view_disbursement",
    "audit.view_auditentry",
]
ROLE_PERMISSIONS = {
    "Customer service": VIEW_COMMON,
    "Dispute officer": VIEW_COMMON + ["transactions.resolve_dispute", "transactions.act_as_staff"],
    "Finance": VIEW_COMMON + [
        "ledger.view_journalentry", "ledger.view_posting", "ledger.view_account", "disbursements.view_dailyquota",
        "disbursements.view_dailylimitchange", "disbursements.add_dailylimitchange",
        "disbursements.change_disbursement", "treasury.view_treasury", "treasury.export_data",
        "treasury.view_withdrawalinstruction", "treasury.add_withdrawalinstruction",
        "treasury.change_withdrawalinstruction", "treasury.view_reconciliationitem",
        "treasury.change_reconciliationitem",
    ],
}


def _perm(name):
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def role_group(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(*(_perm(p) for p in ROLE_PERMISSIONS[name]))
    return group


def staff_in(name: str, email: str):
    user = StaffFactory(email=email, full_name=f"Staf {name}")
    user.groups.add(role_group(name))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture(autouse=True)
def fee_schedule(db):
    """The fee schedule of transactions migration 0002, when a run skipped data migrations."""
    from transactions.models import FeeTier

    if not FeeTier.objects.exists():
        FeeTier.objects.create(min_amount=0, max_amount=None, flat_fee=5_000)


@pytest.fixture
def customer_service(db):
    return staff_in("Customer service", "cs@intrasa.co.id")


@pytest.fixture
def officer(db):
    return staff_in("Dispute officer", "officer@intrasa.co.id")


@pytest.fixture
def finance(db):
    return staff_in("Finance", "finance@intrasa.co.id")


@pytest.fixture(params=["Customer service", "Dispute officer", "Finance"])
def role_user(request, db):
    return staff_in(request.param, f"{request.param.split()[0].lower()}-role@intrasa.co.id")
