import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.models import PayoutDestination, User
from audit.models import AuditEntry
from tests.factories import BankDestinationFactory

pytestmark = pytest.mark.django_db

Verification = PayoutDestination.Verification
CHANGELIST = reverse("admin:accounts_payoutdestination_changelist")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def mismatch(seller):
    return BankDestinationFactory(owner=seller, is_default=True, verification=Verification.NAME_MISMATCH,
                                  account_holder_name="Sari Penjual", verified_name="SARI P")


def test_admin_pages_load_for_a_superuser(admin_client, seller, mismatch):
    urls = [
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_changelist") + "?q=sari",
        reverse("admin:accounts_user_add"),
        reverse("admin:accounts_user_change", args=[seller.pk]),
        reverse("admin:auth_user_password_change", args=[seller.pk]),
        CHANGELIST,
        reverse("admin:accounts_payoutdestination_change", args=[mismatch.pk]),
    ]
    for url in urls:
        assert admin_client.get(url).status_code == 200, url


def test_destination_list_shows_masked_numbers_and_searches_by_owner_email(admin_client, seller, stranger, mismatch):
    BankDestinationFactory(owner=stranger, account_number="5555511111")

    response = admin_client.get(CHANGELIST + "?q=sari@example")

    content = response.content.decode()
    assert response.context["cl"].result_count == 1
    assert mask_of(mismatch.account_number) in content
    assert mismatch.account_number not in content


def mask_of(number):
    return "*" * (len(number) - 4) + number[-4:]


def test_staff_cannot_add_edit_or_delete_destinations(admin_client, mismatch):
    assert admin_client.get(reverse("admin:accounts_payoutdestination_add")).status_code == 403
    response = admin_client.post(reverse("admin:accounts_payoutdestination_change", args=[mismatch.pk]),
                                 {"account_number": "999999999"})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:accounts_payoutdestination_delete", args=[mismatch.pk])).status_code == 403
    mismatch.refresh_from_db()
    assert mismatch.account_number != "999999999"


def test_approve_action_asks_for_a_reason_then_records_who_approved(admin_client, superuser, mismatch):
    selection = {"action": "approve_name_mismatch", ACTION_CHECKBOX_NAME: [mismatch.pk]}

    # First the confirmation page, with nothing changed yet.
    response = admin_client.post(CHANGELIST, {**selection, "index": 0})
    assert response.status_code == 200
    assert b"SARI P" in response.content
    mismatch.refresh_from_db()
    assert mismatch.verification == Verification.NAME_MISMATCH

    # A reason is required.
    response = admin_client.post(CHANGELIST, {**selection, "apply": "1", "reason": " "})
    assert response.status_code == 200
    assert response.context["form"].has_error("reason")
    mismatch.refresh_from_db()
    assert mismatch.verification == Verification.NAME_MISMATCH

    response = admin_client.post(CHANGELIST, {**selection, "apply": "1",
                                              "reason": "Bank menyingkat nama; KTP sudah dicek."})
    assert response.status_code == 302
    mismatch.refresh_from_db()
    assert mismatch.verification == Verification.APPROVED
    assert mismatch.approved_by == superuser
    assert mismatch.approved_at is not None
    assert mismatch.can_receive_payouts
    entry = AuditEntry.objects.get(action="payout_destination.approve", object_id=str(mismatch.pk))
    assert entry.actor == superuser
    assert entry.reason == "Bank menyingkat nama; KTP sudah dicek."


def test_approve_action_refuses_destinations_without_a_name_mismatch(admin_client, seller, mismatch):
    unchecked = BankDestinationFactory(owner=seller)
    response = admin_client.post(CHANGELIST, {
        "action": "approve_name_mismatch", ACTION_CHECKBOX_NAME: [mismatch.pk, unchecked.pk],
        "apply": "1", "reason": "Nama panggilan.",
    }, follow=True)

    assert response.status_code == 200
    unchecked.refresh_from_db()
    mismatch.refresh_from_db()
    assert unchecked.verification == Verification.UNVERIFIED and unchecked.approved_by is None
    assert mismatch.verification == Verification.APPROVED
    levels = sorted(m.level_tag for m in response.context["messages"])
    assert levels == ["success", "warning"]


def test_staff_without_permission_do_not_get_the_action(client, mismatch):
    from django.contrib.auth.models import Permission

    from tests.factories import StaffFactory

    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_payoutdestination"))
    client.force_login(staff)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert b"approve_name_mismatch" not in response.content


def test_admin_creates_a_user_with_a_lower_case_email_and_audits_it(admin_client, superuser):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "Baru@Example.CO.ID", "full_name": "Pengguna Baru", "phone": "0812 9999 0000",
        "usable_password": "true", "password1": "ayam-bakar-madu-7", "password2": "ayam-bakar-madu-7",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="baru@example.co.id")
    assert user.phone == "+6281299990000"
    assert user.check_password("ayam-bakar-madu-7")
    assert AuditEntry.objects.filter(action="user.add_by_staff", object_id=str(user.pk), actor=superuser).exists()


def test_admin_refuses_an_email_that_differs_only_in_case(admin_client, seller):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "SARI@example.co.id", "full_name": "Tiruan", "usable_password": "false",
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("email", code="duplicate_email")


def test_admin_password_change_is_audited(admin_client, superuser, seller):
    response = admin_client.post(reverse("admin:auth_user_password_change", args=[seller.pk]), {
        "password1": "soto-betawi-hangat-1", "password2": "soto-betawi-hangat-1",
        "usable_password": "true",
    })
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.check_password("soto-betawi-hangat-1")
    assert AuditEntry.objects.filter(action="user.change_by_staff", object_id=str(seller.pk),
                                     actor=superuser).exists()


def test_admin_edits_a_user(admin_client, seller):
    response = admin_client.post(reverse("admin:accounts_user_change", args=[seller.pk]), {
        "email": "Sari.Baru@Example.co.id", "full_name": "Sari Penjual", "phone": "+62 813 2222 3333",
        "preferred_language": "en", "is_active": "on",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    seller.refresh_from_db()
    assert seller.email == "sari.baru@example.co.id"
    assert seller.phone == "+6281322223333"
    assert seller.preferred_language == "en"
