"""Proving a person reads the mailbox they signed up with, and what that unlocks."""
import datetime as dt
import re
import time
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tokens import MAX_AGE, email_verification_token_make
from audit.models import AuditEntry
from notifications.models import Notification
from tests import scenarios
from tests.factories import UserFactory
from transactions.selectors import pending_invitations_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PROFILE = reverse("accounts:profile")
RESEND = reverse("accounts:email_verification_resend")
SIGNUP_DATA = {
    "full_name": "Dewi Lestari", "email": "Dewi@Example.co.id", "phone": "0812-3456-7890",
    "password1": "kopi-tubruk-pagi-hari", "password2": "kopi-tubruk-pagi-hari",
}


@pytest.fixture
def seller(db):
    """This module is about proving an address: its people start unverified."""
    return UserFactory(full_name="Sari Penjual", email="sari@example.co.id", email_verified_at=None)


@pytest.fixture
def buyer(db):
    return UserFactory(full_name="Budi Pembeli", email="budi@example.co.id", email_verified_at=None)


@pytest.fixture
def stranger(db):
    return UserFactory(full_name="Orang Lain", email="lain@example.co.id", email_verified_at=None)


def _verify_url(token: str) -> str:
    return reverse("accounts:verify_email", kwargs={"token": token})


def _link_path(body: str) -> str:
    match = re.search(re.escape(settings.SITE_URL) + r"(/akun/verifikasi/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def _token_made_ago(user, age: dt.timedelta) -> str:
    with mock.patch("django.core.signing.time.time", return_value=time.time() - age.total_seconds()):
        return email_verification_token_make(user=user)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_sign_up_emails_a_link_that_verifies_the_address(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), SIGNUP_DATA)

    user = User.objects.get()
    assert user.email_verified_at is None
    notification = Notification.objects.get(kind="verify_email")
    assert notification.recipient == user
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["dewi@example.co.id"]
    link = _link_path(mailoutbox[0].body)
    # The address itself is not readable from the link (it ends up in histories and logs).
    assert "dewi" not in link.lower()

    response = client.get(link, follow=True)

    assert response.redirect_chain[-1][0] == PROFILE  # the message stays in view on a phone
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert "Thank you: dewi@example.co.id is verified." in _messages(response)
    assert b"Not verified yet" not in response.content
    entry = AuditEntry.objects.get(action="user.verify_email", object_id=str(user.pk))
    assert entry.actor == user and entry.data == {"via": "link"}


def test_the_link_asks_a_logged_out_person_to_log_in_first(client, seller, password):
    url = _verify_url(email_verification_token_make(user=seller))

    response = client.get(url)
    assert response.status_code == 302
    login_url = urlsplit(response.url)
    assert login_url.path == reverse("accounts:login")
    assert parse_qs(login_url.query)["next"] == [url]
    seller.refresh_from_db()
    assert seller.email_verified_at is None  # a mail scanner opening the link changes nothing

    response = client.post(reverse("accounts:login"), {"username": seller.email, "password": password,
                                                       "next": url}, follow=True)
    seller.refresh_from_db()
    assert seller.email_verified_at is not None


def test_a_link_still_works_just_before_it_expires(client, seller):
    client.force_login(seller)
    client.get(_verify_url(_token_made_ago(seller, MAX_AGE - dt.timedelta(minutes=1))))
    seller.refresh_from_db()
    assert seller.email_verified_at is not None


def test_an_expired_link_says_so_and_verifies_nothing(client, seller):
    client.force_login(seller)
    response = client.get(_verify_url(_token_made_ago(seller, MAX_AGE + dt.timedelta(minutes=1))),
                          follow=True)

    seller.refresh_from_db()
    assert seller.email_verified_at is None
    [message] = _messages(response)
    assert "expired" in message and "3 days" in message
    assert not AuditEntry.objects.filter(action="user.verify_email").exists()


@pytest.mark.parametrize("make_token", [
    pytest.param(lambda user, other: "12:abc:1tXyZ:forged", id="forged"),
    pytest.param(lambda user, other: email_verification_token_make(user=user)[:-2] + "xx", id="tampered"),
    pytest.param(lambda user, other: email_verification_token_make(user=other), id="another-account"),
])
def test_an_invalid_link_says_so_and_verifies_nothing(client, seller, stranger, make_token):
    client.force_login(seller)
    response = client.get(_verify_url(make_token(seller, stranger)), follow=True)

    seller.refresh_from_db()
    stranger.refresh_from_db()
    assert seller.email_verified_at is None and stranger.email_verified_at is None
    [message] = _messages(response)
    assert "not valid" in message


def test_a_link_for_an_address_the_account_no_longer_has_is_invalid(client, seller):
    token = email_verification_token_make(user=seller)
    User.objects.filter(pk=seller.pk).update(email="sari.baru@example.co.id")
    client.force_login(seller)

    response = client.get(_verify_url(token), follow=True)

    seller.refresh_from_db()
    assert seller.email_verified_at is None
    assert "not valid" in _messages(response)[0]


def test_opening_the_link_again_changes_nothing(client, seller):
    client.force_login(seller)
    url = _verify_url(email_verification_token_make(user=seller))
    client.get(url, follow=True)
    seller.refresh_from_db()
    first = seller.email_verified_at

    response = client.get(url, follow=True)

    seller.refresh_from_db()
    assert seller.email_verified_at == first
    assert _messages(response) == ["Your email address is already verified."]
    assert AuditEntry.objects.filter(action="user.verify_email").count() == 1


def test_profile_shows_the_status_and_a_resend_button_only_while_unverified(client, seller):
    client.force_login(seller)
    content = client.get(PROFILE).content.decode()
    assert "Not verified yet" in content
    assert f'action="{RESEND}"' in content

    seller.email_verified_at = timezone.now()
    seller.save()
    content = client.get(PROFILE).content.decode()
    assert "Not verified yet" not in content
    assert f'action="{RESEND}"' not in content


def test_resend_sends_a_new_working_link_at_most_once_per_two_minutes(
    client, seller, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(seller)
    assert client.get(RESEND).status_code == 405

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND, follow=True)
    assert response.redirect_chain[-1][0] == PROFILE + "#email"
    assert f"We sent a new verification link to {seller.email}." in _messages(response)
    assert len(mailoutbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND, follow=True)
    assert len(mailoutbox) == 1
    assert Notification.objects.filter(kind="verify_email").count() == 1
    assert "less than 2 minutes ago" in _messages(response)[0]

    client.get(_link_path(mailoutbox[0].body))
    seller.refresh_from_db()
    assert seller.email_verified_at is not None


def test_resend_right_after_sign_up_waits_for_the_cooldown(client):
    client.post(reverse("accounts:signup"), SIGNUP_DATA, follow=True)
    response = client.post(RESEND, follow=True)
    assert "less than 2 minutes ago" in _messages(response)[0]
    assert Notification.objects.filter(kind="verify_email").count() == 1


def test_resend_for_a_verified_address_sends_nothing(client, seller):
    seller.email_verified_at = timezone.now()
    seller.save()
    client.force_login(seller)
    response = client.post(RESEND, follow=True)
    assert _messages(response) == ["Your email address is already verified."]
    assert not Notification.objects.filter(kind="verify_email").exists()


def test_completing_a_password_reset_verifies_the_address(client, seller, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": seller.email})
    path = re.search(re.escape(settings.SITE_URL) + r"(/akun/reset/\S+/)", mailoutbox[0].body).group(1)
    form_page = client.get(path, follow=True)
    assert User.objects.get(pk=seller.pk).email_verified_at is None  # opening the link is not enough

    client.post(form_page.request["PATH_INFO"], {"new_password1": "nasi-goreng-kambing-99",
                                                  "new_password2": "nasi-goreng-kambing-99"})

    seller.refresh_from_db()
    assert seller.email_verified_at is not None
    assert AuditEntry.objects.get(action="user.verify_email").data == {"via": "password_reset"}


def test_a_password_change_does_not_verify_the_address(client, seller, password):
    client.force_login(seller)
    client.post(reverse("accounts:password_change"), {
        "old_password": password, "new_password1": "es-teh-manis-dingin",
        "new_password2": "es-teh-manis-dingin",
    })
    seller.refresh_from_db()
    assert seller.email_verified_at is None


def _verified(user):
    """Inviting by email needs a verified sender (transactions.services.transaction_create)."""
    user.email_verified_at = timezone.now()
    user.save()
    return user


def test_invitations_are_listed_only_once_the_address_is_verified(client, seller, buyer):
    txn = scenarios.create(_verified(seller), buyer)

    assert list(pending_invitations_for(user=buyer)) == []
    client.force_login(buyer)
    assert txn.reference not in client.get(reverse("transactions:dashboard")).content.decode()

    buyer.email_verified_at = timezone.now()
    buyer.save()
    assert list(pending_invitations_for(user=buyer)) == [txn]
    assert txn.reference in client.get(reverse("transactions:dashboard")).content.decode()


def test_someone_who_signs_up_with_a_buyers_address_does_not_see_their_invitations(client, seller):
    txn = scenarios.create(_verified(seller), buyer_email="pembeli.asli@example.co.id")
    impostor = UserFactory(email="pembeli.asli@example.co.id", email_verified_at=None)

    assert list(pending_invitations_for(user=impostor)) == []
    client.force_login(impostor)
    assert txn.title not in client.get(reverse("transactions:dashboard")).content.decode()


def test_staff_changing_an_email_clears_its_verification(client, superuser, seller):
    seller.email_verified_at = timezone.now()
    seller.save()
    client.force_login(superuser)
    change = reverse("admin:accounts_user_change", args=[seller.pk])
    data = {"email": seller.email, "full_name": seller.full_name, "phone": seller.phone,
            "preferred_language": "id", "is_active": "on"}

    client.post(change, data)  # saved without touching the email
    seller.refresh_from_db()
    assert seller.email_verified_at is not None

    response = client.post(change, {**data, "email": "sari.baru@example.co.id"})
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.email_verified_at is None


def test_the_database_refuses_an_email_that_differs_only_in_case(seller):
    # User.save() does not lower-case; only the manager and the services do.
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="SARI@Example.co.id", full_name="Tiruan").save()
