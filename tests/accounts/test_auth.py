import re

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def test_login_page_renders(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'type="email"' in response.content


@pytest.mark.parametrize("typed", ["sari@example.co.id", "Sari@Example.CO.ID"])
def test_login_with_email_in_any_case(client, seller, password, typed):
    response = client.post(LOGIN, {"username": typed, "password": password})

    assert response.status_code == 302
    assert response.url == reverse("transactions:dashboard")
    assert int(client.session["_auth_user_id"]) == seller.pk


def test_login_follows_next(client, seller, password):
    response = client.post(LOGIN, {"username": seller.email, "password": password,
                                   "next": reverse("accounts:profile")})
    assert response.url == reverse("accounts:profile")


def test_wrong_password_is_refused(client, seller):
    response = client.post(LOGIN, {"username": seller.email, "password": "salah-sandi-123"})

    assert response.status_code == 200
    assert response.context["form"].has_error("__all__", code="invalid_login")
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_log_in(client, seller, password):
    seller.is_active = False
    seller.save()
    response = client.post(LOGIN, {"username": seller.email, "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, seller):
    client.force_login(seller)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "_auth_user_id" in client.session

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert "_auth_user_id" not in client.session


def _reset_path(body: str) -> str:
    match = re.search(re.escape(settings.SITE_URL) + r"(/akun/reset/[^/\s]+/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_password_reset_email_is_sent_and_its_link_sets_a_new_password(client, seller, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "SARI@example.co.id"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert client.get(response.url).status_code == 200

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [seller.email]
    assert "INTRASA" in mail.subject and "\n" not in mail.subject
    link = _reset_path(mail.body)

    # Django swaps the token for a session marker and redirects, so the token never sits in the
    # address bar (or a Referer header) while the person types the new password.
    response = client.get(link)
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.status_code == 200
    assert response.context["validlink"] is True

    response = client.post(response.request["PATH_INFO"], {
        "new_password1": "nasi-goreng-kambing-99", "new_password2": "nasi-goreng-kambing-99",
    })
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    assert client.get(response.url).status_code == 200

    seller.refresh_from_db()
    assert seller.check_password("nasi-goreng-kambing-99")
    assert AuditEntry.objects.filter(action="user.set_password", object_id=str(seller.pk),
                                     data__via="reset").exists()
    assert client.post(LOGIN, {"username": seller.email, "password": "nasi-goreng-kambing-99"}).status_code == 302

    # The link works once.
    client.logout()
    response = client.get(link, follow=True)
    assert response.context["validlink"] is False


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, db, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.co.id"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_password_reset_refuses_a_weak_new_password(client, seller, password, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": seller.email})
    response = client.get(_reset_path(mailoutbox[0].body), follow=True)
    response = client.post(response.request["PATH_INFO"], {"new_password1": "12345678",
                                                           "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].has_error("new_password2")
    seller.refresh_from_db()
    assert seller.check_password(password)


def test_password_change_keeps_the_person_logged_in(client, seller, password):
    client.force_login(seller)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200

    response = client.post(url, {"old_password": password, "new_password1": "es-teh-manis-dingin",
                                 "new_password2": "es-teh-manis-dingin"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    seller.refresh_from_db()
    assert seller.check_password("es-teh-manis-dingin")
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert AuditEntry.objects.filter(action="user.set_password", data__via="change").exists()


def test_password_change_needs_the_old_password(client, seller, password):
    client.force_login(seller)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": "bukan-ini", "new_password1": "es-teh-manis-dingin",
        "new_password2": "es-teh-manis-dingin",
    })
    assert response.context["form"].has_error("old_password", code="password_incorrect")
    seller.refresh_from_db()
    assert seller.check_password(password)


@pytest.mark.parametrize("name", ["accounts:profile", "accounts:password_change"])
def test_anonymous_is_sent_to_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={url}"


@pytest.mark.parametrize("name", ["accounts:destination_add_bank", "accounts:destination_add_ewallet"])
def test_anonymous_cannot_post_destination_forms(client, name):
    response = client.post(reverse(name), {})
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
