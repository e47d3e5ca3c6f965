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


# --- CSRF: a member's switch writes to their account; a visitor's only sets a cookie -------------

def test_a_members_switch_without_the_csrf_token_is_refused_and_saves_nothing(seller):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seller)
    assert browser.post(URL, {"language": "en", "next": "/"}).status_code == 403
    seller.refresh_from_db()
    assert seller.preferred_language == "id"


def test_a_members_switch_with_the_token_from_the_page_is_saved(seller):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seller)
    page = browser.get(reverse("accounts:profile")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert browser.post(URL, {"language": "en", "next": "/", "csrfmiddlewaretoken": token}).status_code == 302
    seller.refresh_from_db()
    assert seller.preferred_language == "en"


@pytest.mark.parametrize("path", ["/cek-transaksi/", "/cek-transaksi/?ref={reference}", "/", "/faq/",
                                  "/kebijakan-pengembalian-dana/"])
def test_a_visitors_public_page_needs_no_csrf_token_and_sets_no_csrf_cookie(path, seller, buyer, settings):
    """The language switch is the only form with a token on the public pages, and a visitor's switch
    only sets the language cookie: making a token (and its cookie) for every visitor on every public
    page cost the Cek Transaksi page about a tenth of its time. A cross-site form can at worst change
    a visitor's language; it cannot reach an account, because a member's switch still needs the token."""
    from django.test import Client

    from tests import scenarios

    settings.DEBUG = False  # as in production: the Cek Transaksi page is then kept (pages.page_memo)
    path = path.format(reference=scenarios.create(seller, buyer).reference)
    visitor = Client(enforce_csrf_checks=True)
    for _ in range(2):  # rendered, then the kept page
        page = visitor.get(path)
        assert page.status_code == 200
        assert settings.CSRF_COOKIE_NAME not in page.cookies
        assert "language-switch" in page.content.decode() and "csrfmiddlewaretoken" not in page.content.decode()
    switched = visitor.post(URL, {"language": "en", "next": path})
    assert switched.status_code == 302 and switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
