import pytest
from django.conf import settings
from django.urls import reverse

from accounts.forms import phone_for_display
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = reverse("accounts:profile")


def _data(**overrides):
    data = {"profile-full_name": "Sari Penjual Baru", "profile-phone": "0813 1111 2222",
            "profile-preferred_language": "id"}
    data.update(overrides)
    return data


def test_profile_page_shows_the_account_and_the_forms(client, seller):
    client.force_login(seller)
    response = client.get(URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert seller.email in content
    assert phone_for_display(seller.phone) in content  # 0812-…, not +62812…
    assert 'name="profile-full_name"' in content
    assert 'name="bank-account_number"' in content
    assert 'name="ewallet-phone"' in content


def test_profile_edit_saves_normalised_values_and_is_audited(client, seller):
    client.force_login(seller)
    response = client.post(URL, _data())

    assert response.status_code == 302
    assert response.url == URL
    seller.refresh_from_db()
    assert seller.full_name == "Sari Penjual Baru"
    assert seller.phone == "+6281311112222"
    entry = AuditEntry.objects.get(action="user.update_profile", object_id=str(seller.pk))
    assert entry.actor == seller
    assert sorted(entry.data["changed"]) == ["full_name", "phone"]


def test_saving_an_unchanged_profile_writes_no_audit_row(client, seller):
    client.force_login(seller)
    client.post(URL, _data(**{"profile-full_name": seller.full_name, "profile-phone": seller.phone}))
    assert not AuditEntry.objects.filter(action="user.update_profile").exists()


def test_changing_the_language_sets_the_language_cookie_so_it_takes_effect(client, seller):
    client.force_login(seller)
    response = client.post(URL, _data(**{"profile-preferred_language": "en"}))

    seller.refresh_from_db()
    assert seller.preferred_language == "en"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(URL)
    assert page.wsgi_request.LANGUAGE_CODE == "en"
    assert b'<html lang="en">' in page.content

    # And back, even though the cookie from before says "en".
    response = client.post(URL, _data(**{"profile-preferred_language": "id"}))
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    assert client.get(URL).wsgi_request.LANGUAGE_CODE == "id"


def test_profile_refuses_a_foreign_phone_and_changes_nothing(client, seller):
    client.force_login(seller)
    old_phone = seller.phone
    response = client.post(URL, _data(**{"profile-phone": "+1 415 555 2671"}))

    assert response.status_code == 200
    assert response.context["profile_form"].has_error("phone", code="foreign_phone")
    seller.refresh_from_db()
    assert seller.phone == old_phone
    assert seller.full_name == "Sari Penjual"


def test_profile_refuses_an_unknown_language_and_blank_name(client, seller):
    client.force_login(seller)
    response = client.post(URL, _data(**{"profile-preferred_language": "fr", "profile-full_name": "   "}))
    form = response.context["profile_form"]
    assert form.has_error("preferred_language", code="invalid_choice")
    assert form.has_error("full_name", code="required")
