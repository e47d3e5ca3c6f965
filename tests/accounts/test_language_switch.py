"""The header's language switch (accounts:set_language): cookie for everyone, profile for members."""
import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = reverse("accounts:set_language")


def test_a_logged_in_person_keeps_the_choice_on_their_account(client, seller):
    client.force_login(seller)

    response = client.post(URL, {"language": "en", "next": reverse("accounts:profile")})

    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    seller.refresh_from_db()
    assert seller.preferred_language == "en"
    entry = AuditEntry.objects.get(action="user.set_language", object_id=str(seller.pk))
    assert entry.actor == seller and entry.data == {"from": "id", "to": "en"}

    # The choice follows the person to a browser without the cookie.
    other_browser = client.__class__()
    other_browser.force_login(seller)
    assert other_browser.get(reverse("accounts:profile")).wsgi_request.LANGUAGE_CODE == "en"


def test_choosing_the_current_language_writes_nothing(client, seller):
    client.force_login(seller)
    client.post(URL, {"language": "id", "next": "/"})
    assert not AuditEntry.objects.filter(action="user.set_language").exists()


def test_an_anonymous_visitor_gets_the_cookie_only(client):
    response = client.post(URL, {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("language", ["fr", "", "xx-evil"])
def test_a_language_the_site_does_not_offer_is_not_saved(client, seller, language):
    client.force_login(seller)
    response = client.post(URL, {"language": language, "next": "/"})
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.preferred_language == "id"


def test_a_get_changes_nothing(client, seller):
    client.force_login(seller)
    client.get(URL, {"language": "en", "next": "/"})
    seller.refresh_from_db()
    assert seller.preferred_language == "id"


def test_a_foreign_next_is_not_followed(client, seller):
    client.force_login(seller)
    response = client.post(URL, {"language": "en", "next": "https://evil.example/"})
    assert response.url == "/"
