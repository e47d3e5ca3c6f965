import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import PayoutDestination
from accounts.services import (
    payout_destination_add_bank,
    payout_destination_add_ewallet,
    payout_destination_archive,
    payout_destination_set_default,
)
from audit.models import AuditEntry
from tests.factories import BankDestinationFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")
ADD_BANK = reverse("accounts:destination_add_bank")
ADD_EWALLET = reverse("accounts:destination_add_ewallet")
Verification = PayoutDestination.Verification


def _bank(**overrides):
    data = {"bank-bank_code": "014", "bank-account_number": "1234567890",
            "bank-account_holder_name": "Sari Penjual"}
    data.update(overrides)
    return data


def _ewallet(**overrides):
    data = {"ewallet-provider": "gpy", "ewallet-phone": "0812 1111 2222",
            "ewallet-registered_name": "Sari Penjual"}
    data.update(overrides)
    return data


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


# --- adding ---------------------------------------------------------------------------------

def test_first_bank_account_becomes_the_unverified_default(seller_client, seller):
    response = seller_client.post(ADD_BANK, _bank(**{"bank-account_number": "123-456 7890"}))

    assert response.status_code == 302
    assert response.url == PROFILE + "#tujuan-pencairan"
    destination = PayoutDestination.objects.get(owner=seller)
    assert destination.kind == PayoutDestination.Kind.BANK
    assert destination.bank_code == "014"
    assert destination.account_number == "1234567890"
    assert destination.account_holder_name == "Sari Penjual"
    assert destination.is_default
    assert destination.verification == Verification.UNVERIFIED
    assert AuditEntry.objects.filter(action="payout_destination.add", object_id=str(destination.pk),
                                     actor=seller).exists()
    page = seller_client.get(PROFILE)
    assert "******7890" in page.content.decode()
    assert "1234567890" not in page.content.decode()


def test_second_destination_is_not_the_default(seller_client, seller):
    seller_client.post(ADD_BANK, _bank())
    seller_client.post(ADD_EWALLET, _ewallet())

    first, second = PayoutDestination.objects.filter(owner=seller).order_by("created_at", "pk")
    assert first.is_default and not second.is_default


def test_ewallet_is_added_with_an_e164_phone(seller_client, seller):
    response = seller_client.post(ADD_EWALLET, _ewallet())

    assert response.status_code == 302
    destination = PayoutDestination.objects.get(owner=seller)
    assert destination.kind == PayoutDestination.Kind.EWALLET
    assert destination.ewallet_provider == "gpy"
    assert destination.ewallet_phone == "+6281211112222"
    assert destination.account_holder_name == "Sari Penjual"
    assert destination.verification == Verification.UNVERIFIED
    assert destination.is_default


@pytest.mark.parametrize("overrides, field, code", [
    ({"bank-account_number": "GB82WEST12345698765432"}, "account_number", "invalid_account_number"),
    ({"bank-account_number": "DE89 3704 0044 0532 0130 00"}, "account_number", "invalid_account_number"),
    ({"bank-account_number": "12345"}, "account_number", "invalid_account_number"),
    ({"bank-bank_code": "999"}, "bank_code", "foreign_bank"),
    ({"bank-bank_code": "CHASUS33"}, "bank_code", "foreign_bank"),
    ({"bank-account_holder_name": "  "}, "account_holder_name", "required"),
])
def test_foreign_or_malformed_bank_input_is_refused(seller_client, overrides, field, code):
    response = seller_client.post(ADD_BANK, _bank(**overrides))

    assert response.status_code == 200
    assert response.context["bank_form"].has_error(field, code=code)
    assert not PayoutDestination.objects.exists()


@pytest.mark.parametrize("overrides, field, code", [
    ({"ewallet-phone": "+1 415 555 2671"}, "phone", "foreign_phone"),
    ({"ewallet-phone": "021 555 1234"}, "phone", "invalid_phone"),
    ({"ewallet-provider": "paypal"}, "provider", "invalid_choice"),
    ({"ewallet-registered_name": ""}, "registered_name", "required"),
])
def test_foreign_or_malformed_ewallet_input_is_refused(seller_client, overrides, field, code):
    response = seller_client.post(ADD_EWALLET, _ewallet(**overrides))

    assert response.status_code == 200
    assert response.context["ewallet_form"].has_error(field, code=code)
    assert not PayoutDestination.objects.exists()


def test_duplicate_bank_account_is_refused_with_a_clear_error(seller_client, seller):
    seller_client.post(ADD_BANK, _bank())
    response = seller_client.post(ADD_BANK, _bank(**{"bank-account_number": "12 3456 7890"}))

    assert response.status_code == 200
    assert response.context["bank_form"].has_error("account_number", code="duplicate")
    assert PayoutDestination.objects.filter(owner=seller).count() == 1


def test_duplicate_ewallet_is_refused_with_a_clear_error(seller_client, seller):
    seller_client.post(ADD_EWALLET, _ewallet())
    response = seller_client.post(ADD_EWALLET, _ewallet(**{"ewallet-phone": "+62 812-1111-2222"}))

    assert response.context["ewallet_form"].has_error("phone", code="duplicate")
    assert PayoutDestination.objects.filter(owner=seller).count() == 1


def test_the_same_account_may_belong_to_two_people(seller, buyer):
    # A shared family account is not a duplicate; the name check before payout decides.
    payout_destination_add_bank(owner=seller, bank_code="014", account_number="1234567890",
                                account_holder_name="Sari Penjual")
    other = payout_destination_add_bank(owner=buyer, bank_code="014", account_number="1234567890",
                                        account_holder_name="Sari Penjual")
    assert other.is_default


def test_an_archived_account_can_be_added_again(seller):
    first = payout_destination_add_bank(owner=seller, bank_code="008", account_number="9876543210",
                                        account_holder_name="Sari Penjual")
    payout_destination_archive(owner=seller, destination=first)
    again = payout_destination_add_bank(owner=seller, bank_code="008", account_number="9876543210",
                                        account_holder_name="Sari Penjual")
    assert again.pk != first.pk and again.is_default


def test_services_validate_without_a_form(seller):
    with pytest.raises(ValidationError) as excinfo:
        payout_destination_add_bank(owner=seller, bank_code="999", account_number="NL91ABNA0417164300",
                                    account_holder_name="")
    assert set(excinfo.value.error_dict) == {"bank_code", "account_number", "account_holder_name"}
    with pytest.raises(ValidationError) as excinfo:
        payout_destination_add_ewallet(owner=seller, provider="xxx", phone="+14155552671",
                                       registered_name="Sari")
    assert set(excinfo.value.error_dict) == {"provider", "phone"}
    assert not PayoutDestination.objects.exists()


def test_destination_get_is_not_allowed(seller_client):
    assert seller_client.get(ADD_BANK).status_code == 405


# --- default and archive ---------------------------------------------------------------------

def test_switching_the_default(seller_client, seller):
    first = BankDestinationFactory(owner=seller, is_default=True)
    second = BankDestinationFactory(owner=seller)

    response = seller_client.post(reverse("accounts:destination_set_default", args=[second.pk]))

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    entry = AuditEntry.objects.get(action="payout_destination.set_default")
    assert entry.object_id == str(second.pk)
    assert entry.data["previous_default"] == first.pk


def test_setting_the_current_default_again_changes_nothing(seller):
    first = payout_destination_add_bank(owner=seller, bank_code="014", account_number="1234567890",
                                        account_holder_name="Sari Penjual")
    payout_destination_set_default(owner=seller, destination=first)
    assert not AuditEntry.objects.filter(action="payout_destination.set_default").exists()


def test_archiving_the_default_hands_the_default_to_the_newest_remaining(seller_client, seller):
    oldest = BankDestinationFactory(owner=seller)
    newer = BankDestinationFactory(owner=seller)
    default = BankDestinationFactory(owner=seller, is_default=True)

    response = seller_client.post(reverse("accounts:destination_archive", args=[default.pk]))

    assert response.status_code == 302
    default.refresh_from_db()
    newer.refresh_from_db()
    oldest.refresh_from_db()
    assert default.is_archived and not default.is_default
    assert newer.is_default and not oldest.is_default
    listed = [d.pk for d in seller_client.get(PROFILE).context["destinations"]]
    assert listed == [newer.pk, oldest.pk]
    entry = AuditEntry.objects.get(action="payout_destination.archive")
    assert entry.data == {"was_default": True, "new_default": newer.pk}


def test_archiving_is_idempotent_and_an_archived_destination_is_gone_from_the_pages(seller_client, seller):
    destination = BankDestinationFactory(owner=seller, is_default=True)
    url = reverse("accounts:destination_archive", args=[destination.pk])

    seller_client.post(url)
    assert payout_destination_archive(owner=seller, destination=destination).is_archived
    assert AuditEntry.objects.filter(action="payout_destination.archive").count() == 1
    assert seller_client.post(url).status_code == 404
    with pytest.raises(ValidationError):
        payout_destination_set_default(owner=seller, destination=destination)


@pytest.mark.parametrize("name", ["accounts:destination_set_default", "accounts:destination_archive"])
def test_someone_elses_destination_is_404(seller_client, stranger, name):
    theirs = BankDestinationFactory(owner=stranger, is_default=False)

    response = seller_client.post(reverse(name, args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_default and not theirs.is_archived


def test_services_refuse_someone_elses_destination(seller, stranger):
    theirs = BankDestinationFactory(owner=stranger, is_default=True)
    with pytest.raises(ValidationError):
        payout_destination_set_default(owner=seller, destination=theirs)
    with pytest.raises(ValidationError):
        payout_destination_archive(owner=seller, destination=theirs)
    theirs.refresh_from_db()
    assert theirs.is_default and not theirs.is_archived


def test_profile_lists_only_the_owners_destinations(seller_client, seller, stranger):
    mine = BankDestinationFactory(owner=seller, is_default=True)
    BankDestinationFactory(owner=stranger, is_default=True)
    assert [d.pk for d in seller_client.get(PROFILE).context["destinations"]] == [mine.pk]
