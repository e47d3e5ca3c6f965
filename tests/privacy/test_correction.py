"""Correcting name, phone and email (UU PDP Pasal 6 and 30): the history is kept, old → new, when
and by whom, and visible to the person; a new email address counts only once its owner proves it."""
import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from privacy import services
from privacy.models import EmailChangeRequest, ProfileChange

pytestmark = pytest.mark.django_db
MY_DATA = reverse("privacy:my_data")


@pytest.fixture
def change_email(client, committed):
    def post(new_email, password):
        with committed():
            return client.post(reverse("privacy:email_change"), {"new_email": new_email, "password": password})
    return post


def emailed_link(to: str) -> str:
    message = next(m for m in reversed(mail.outbox) if to in m.to)
    return re.search(r"https?://[^\s]+/privasi/email/[^\s/]+/", message.body).group(0)


def test_name_and_phone_corrections_on_the_profile_page_are_kept_with_who_and_when(client, buyer):
    client.force_login(buyer)
    client.post(reverse("accounts:profile"), {"profile-full_name": "Budi Santoso", "profile-phone": "0813 1111 2222",
                                               "profile-preferred_language": "en"})
    changes = {change.field: change for change in ProfileChange.objects.filter(user=buyer)}
    assert set(changes) == {"full_name", "phone"}
    assert (changes["full_name"].old_value, changes["full_name"].new_value) == ("Budi Pembeli", "Budi Santoso")
    assert changes["phone"].new_value == "+6281311112222"
    assert changes["full_name"].changed_by == buyer and changes["full_name"].changed_by_role == "self"
    assert changes["full_name"].via == "website" and changes["full_name"].changed_at is not None
    page = client.get(MY_DATA).content.decode()
    assert "Budi Pembeli" in page and "Budi Santoso" in page and "(by You)" in page


def test_a_change_by_staff_in_the_admin_is_attributed_to_staff(client, buyer, superuser):
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[buyer.pk])
    data = {"email": buyer.email, "full_name": "Budi P.", "phone": "", "preferred_language": "id",
            "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = ProfileChange.objects.get(user=buyer, field="full_name")
    assert change.changed_by == superuser and change.changed_by_role == "staff" and change.via == "admin"
    assert ProfileChange.objects.get(user=buyer, field="phone").new_value == ""


def test_an_email_change_takes_effect_only_after_the_new_address_is_confirmed(client, buyer, password, change_email,
                                                                              committed):
    buyer.preferred_language = "en"  # the emails are written in the person's language
    buyer.save()
    client.force_login(buyer)
    response = change_email("Budi.Baru@Example.co.id", password)
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.email == "budi@example.co.id"  # not yet
    request = EmailChangeRequest.objects.get(user=buyer)
    assert request.new_email == "budi.baru@example.co.id"
    # The link goes to the new address only; the old one is warned without it.
    link = emailed_link("budi.baru@example.co.id")
    warning = next(m for m in mail.outbox if m.to == ["budi@example.co.id"])
    assert "/privasi/email/" not in warning.body and "bu*******@example.co.id" in warning.body
    # No in-app copy of the link: it must prove the mailbox, not the session.
    assert not Notification.objects.filter(recipient=buyer, kind="email_change_verify").exists()
    assert "/privasi/email/" not in client.get(reverse("notifications:list")).content.decode()

    with committed():
        response = client.get(link)
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.email == "budi.baru@example.co.id" and buyer.email_verified_at is not None
    change = ProfileChange.objects.get(user=buyer, field="email")
    assert (change.old_value, change.new_value, change.changed_by_role) == (
        "budi@example.co.id", "budi.baru@example.co.id", "self")
    assert any(m.to == ["budi@example.co.id"] and "was changed" in m.subject for m in mail.outbox)
    client.logout()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # logout forgets every cookie
    # The real login form (django-axes authenticates only with the request in hand).
    logged_in = client.post(reverse("accounts:login"), {"username": "budi.baru@example.co.id", "password": password})
    assert logged_in.status_code == 302
    assert client.get(link).status_code == 302  # used: changes nothing more
    assert ProfileChange.objects.filter(user=buyer, field="email").count() == 1


def test_the_link_works_only_for_its_owner_logged_in_and_before_it_expires(client, buyer, stranger, password,
                                                                           change_email):
    client.force_login(buyer)
    change_email("budi.baru@example.co.id", password)
    link = emailed_link("budi.baru@example.co.id")
    client.logout()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # logout forgets every cookie
    response = client.get(link)
    assert response.status_code == 302 and "/akun/masuk/" in response.url
    client.force_login(stranger)
    client.get(link)
    stranger.refresh_from_db()
    buyer.refresh_from_db()
    assert stranger.email == "lain@example.co.id" and buyer.email == "budi@example.co.id"
    EmailChangeRequest.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client.force_login(buyer)
    response = client.get(link, follow=True)
    assert "expired" in response.content.decode()
    buyer.refresh_from_db()
    assert buyer.email == "budi@example.co.id"


@pytest.mark.parametrize("new_email, password_ok, message", [
    ("lain@example.co.id", True, "Another account already uses this email address."),
    ("budi@example.co.id", True, "This is already your email address."),
    ("bukan-email", True, "Enter a valid email address."),
    ("budi.baru@example.co.id", False, "The password is not correct."),
])
def test_bad_requests_are_refused_and_change_nothing(client, buyer, stranger, password, new_email, password_ok,
                                                     message, change_email):
    client.force_login(buyer)
    response = change_email(new_email, password if password_ok else "salah-sandi-123")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not EmailChangeRequest.objects.exists() and mail.outbox == []


def test_a_newer_request_replaces_the_older_link(client, buyer, password, change_email):
    client.force_login(buyer)
    change_email("salah.ketik@example.co.id", password)
    first = emailed_link("salah.ketik@example.co.id")
    change_email("budi.baru@example.co.id", password)
    client.get(first)
    buyer.refresh_from_db()
    assert buyer.email == "budi@example.co.id"


def test_the_address_is_checked_again_when_the_link_is_opened(client, buyer, password, change_email):
    client.force_login(buyer)
    change_email("rebutan@example.co.id", password)
    link = emailed_link("rebutan@example.co.id")
    User.objects.create_user(email="rebutan@example.co.id", password="x", full_name="Orang Lain")
    response = client.get(link, follow=True)
    assert "Another account started using this email address" in response.content.decode()
    buyer.refresh_from_db()
    assert buyer.email == "budi@example.co.id"


def test_requests_per_day_are_limited(buyer):
    """Each request emails an address the person typed: not a free mail relay."""
    for n in range(services.EMAIL_CHANGES_PER_DAY):
        services.email_change_request(user=buyer, new_email=f"baru{n}@example.co.id")
    with pytest.raises(services.PrivacyError) as refused:
        services.email_change_request(user=buyer, new_email="lagi@example.co.id")
    assert refused.value.code == "too_many"
