"""Password guessing is limited on what authentication actually uses, for the site and the admin,
and the admin needs a second factor (issue 13, "Logins and accounts").

django-axes counts failures per canonical address (accounts.validators.canonical_email) and per
client IP (accounts.login_limits); the staff admin admits only sessions verified by django-otp
(accounts.admin_site).
"""
import datetime as dt
import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")
SECOND_FACTOR = reverse("accounts:staff_second_factor")
AUTHENTICATOR = reverse("accounts:staff_authenticator")
WRONG = "salah-sandi-123"
ACCOUNT_LIMIT = settings.AXES_FAILURE_LIMIT
IP_LIMIT = settings.LOGIN_FAILURES_PER_IP
# Look-alike spellings of sari@example.co.id that authentication reduces to the same account.
LOOK_ALIKES = [
    "sari@example.co.id",
    "SARI@EXAMPLE.CO.ID",
    "Sari@Example.Co.Id",
    "  sari@example.co.id  ",
    "ſari@example.co.id",                 # long s
    "ｓａｒｉ@ｅｘａｍｐｌｅ.ｃｏ.ｉｄ",       # full-width letters
    "sari＠example.co.id",                # full-width at sign
]


def _post_login(client, username, password, ip="10.0.0.1", url=LOGIN, **extra):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def _fail(client, username, times, ip="10.0.0.1", url=LOGIN):
    for _ in range(times):
        response = _post_login(client, username, WRONG, ip=ip, url=url)
        assert response.status_code in (200, 429), response.status_code


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- the site login -------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_look_alike_spellings_of_a_locked_address_are_refused_even_with_the_right_password(
        client, seller, password, spelling):
    # Failures spread over several spellings all land on the account's one counter.
    spellings = ["sari@example.co.id", "ſari@example.co.id", "ＳＡＲＩ@example.co.id", "SARI@example.co.id "]
    for n in range(ACCOUNT_LIMIT):
        _post_login(client, spellings[n % len(spellings)], WRONG)

    response = _post_login(client, spelling, password)

    assert response.status_code == 429
    assert not _logged_in(client)
    assert AccessAttempt.objects.filter(username="sari@example.co.id").exists()
    assert not AccessAttempt.objects.exclude(username="sari@example.co.id").exists()


def test_the_account_lock_holds_from_any_network(client, seller, password):
    _fail(client, seller.email, ACCOUNT_LIMIT, ip="10.0.0.1")

    assert _post_login(client, seller.email, password, ip="10.9.9.9").status_code == 429
    assert not _logged_in(client)


def test_one_network_is_limited_across_accounts_too(client, seller, buyer, password):
    victims = [UserFactory(email=f"korban{n}@example.co.id") for n in range(IP_LIMIT // 5 + 1)]
    for n in range(IP_LIMIT):
        _post_login(client, victims[n % len(victims)].email, WRONG, ip="10.0.0.1")  # 5 or fewer each

    # No single account is locked, but this network is: even a right password is refused here…
    response = _post_login(client, buyer.email, password, ip="10.0.0.1")
    assert response.status_code == 429 and not _logged_in(client)
    # …and works from elsewhere.
    assert _post_login(client, buyer.email, password, ip="10.0.0.2").status_code == 302


def test_below_the_network_limit_other_accounts_on_the_network_still_log_in(client, seller, buyer, password):
    _fail(client, seller.email, ACCOUNT_LIMIT, ip="10.0.0.1")

    assert _post_login(client, buyer.email, password, ip="10.0.0.1").status_code == 302


def test_a_successful_login_resets_the_accounts_failures(client, seller, password):
    _fail(client, seller.email, ACCOUNT_LIMIT - 1)
    assert _post_login(client, "SARI@example.co.id", password).status_code == 302
    client.logout()

    _fail(client, seller.email, ACCOUNT_LIMIT - 1)  # a fresh allowance, not 1 left
    assert _post_login(client, seller.email, password).status_code == 302


def test_logging_in_to_an_own_account_does_not_reset_the_networks_count(client, seller, buyer, password):
    """A password sprayer cannot wipe their network's count by logging in to an account of theirs."""
    victims = [UserFactory(email=f"semprot{n}@example.co.id") for n in range(IP_LIMIT)]
    for victim in victims[:IP_LIMIT - 1]:
        _post_login(client, victim.email, WRONG)
    assert _post_login(client, seller.email, password).status_code == 302  # the sprayer's own account
    client.logout()

    _post_login(client, victims[-1].email, WRONG)  # the network's last allowed failure
    assert _post_login(client, buyer.email, password).status_code == 429


def test_the_lock_ends_after_the_cool_off(client, seller, password):
    _fail(client, seller.email, ACCOUNT_LIMIT)
    assert _post_login(client, seller.email, password).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=5))

    assert _post_login(client, seller.email, password).status_code == 302


def test_attempts_during_a_lock_do_not_move_the_time_the_person_was_told(client, seller, password, in_english):
    _fail(in_english, seller.email, ACCOUNT_LIMIT)
    first = _post_login(in_english, seller.email, password)
    told = re.search(r"until (\d\d\.\d\d) WIB", " ".join(_messages(first))).group(1)
    _fail(in_english, seller.email, 5)
    again = _post_login(in_english, seller.email, password)
    assert re.search(r"until (\d\d\.\d\d) WIB", " ".join(_messages(again))).group(1) == told


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_locked_out_person_is_told_in_their_language_until_when(client, seller, password, language):
    _fail(client, seller.email, ACCOUNT_LIMIT)

    response = _post_login(client, seller.email, password, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 429
    assert response.wsgi_request.LANGUAGE_CODE == language
    text = response.content.decode()
    ends = timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME).strftime("%H.%M")
    later = timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)).strftime("%H.%M")
    assert f"{ends} WIB" in text or f"{later} WIB" in text
    with translation.override(language):
        from django.utils.translation import gettext

        opening = gettext("Too many failed log-in attempts for this account or from your network. For "
                          "your security, logging in is paused until %(time)s WIB (in about %(minutes)d "
                          "minutes); the right password does not work before then either. If you forgot "
                          "your password, reset it.").split("%(time)s")[0]
    assert opening.strip() and opening.strip() in text
    # The form comes back, with the address typed, ready for later.
    assert response.context["form"]["username"].value() == seller.email


def test_indonesian_is_translated(client, seller, password):
    _fail(client, seller.email, ACCOUNT_LIMIT)
    response = _post_login(client, seller.email, password, HTTP_ACCEPT_LANGUAGE="id")
    assert "Too many failed" not in response.content.decode()


# --- the admin login ------------------------------------------------------------------------

def test_the_admin_login_refuses_the_right_password_after_25_wrong_ones(client, password):
    superuser = StaffFactory(email="admin@intrasa.co.id", is_superuser=True)
    for _ in range(25):
        response = _post_login(client, superuser.email, WRONG, url=ADMIN_LOGIN)
        assert response.status_code in (200, 429)

    response = _post_login(client, superuser.email, password, url=ADMIN_LOGIN)

    assert response.status_code == 429
    assert not _logged_in(client)
    assert b"WIB" in response.content


def test_the_admin_login_and_the_site_login_share_the_accounts_counter(client, password):
    staff = StaffFactory(email="petugas@intrasa.co.id")
    for n in range(ACCOUNT_LIMIT):
        _post_login(client, "ＰＥＴＵＧＡＳ@intrasa.co.id", WRONG, url=ADMIN_LOGIN if n % 2 else LOGIN)

    assert _post_login(client, staff.email, password, url=ADMIN_LOGIN).status_code == 429
    assert _post_login(client, staff.email, password, url=LOGIN).status_code == 429


# --- the second factor ----------------------------------------------------------------------

def _code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.mark.parametrize("path", [reverse("admin:index"), reverse("admin:accounts_user_changelist"),
                                  reverse("admin:transactions_escrowtransaction_changelist"),
                                  "/admin/treasury/"])
def test_the_admin_refuses_a_staff_session_without_a_second_factor(unverified_client, path):
    superuser = StaffFactory(email="admin@intrasa.co.id", is_superuser=True)
    TOTPDevice.objects.create(user=superuser, name="INTRASA", confirmed=True)
    unverified_client.force_login(superuser)

    response = unverified_client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(ADMIN_LOGIN)
    follow = unverified_client.get(response["Location"])
    assert follow.status_code == 302 and follow["Location"].startswith(SECOND_FACTOR)


def test_the_test_client_helper_does_pass_the_second_factor(client):
    """The counterpart of the test above: tests/staff_login.py's client reaches the admin."""
    superuser = StaffFactory(email="admin@intrasa.co.id", is_superuser=True)
    client.force_login(superuser)
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_enrol_an_authenticator_then_use_it_and_a_backup_code(client, password, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    staff = StaffFactory(email="baru@intrasa.co.id", is_superuser=True)

    # Step 1: password at the admin login; step 2 sends someone without an authenticator to set one up.
    response = _post_login(client, staff.email, password, url=ADMIN_LOGIN)
    assert response.status_code == 302
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(AUTHENTICATOR)
    page = response.content.decode()
    assert "<svg" in page  # the QR code is drawn here
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert response.context["secret"] in page
    assert client.get(reverse("admin:index")).status_code == 302  # not yet

    assert client.post(AUTHENTICATOR, {"code": "000000"}).status_code == 200
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the wrong code counted (it was not rolled back)
    # A moment later (a wrong code makes the next try wait 1 s, then 2 s, 4 s…):
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=10))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(AUTHENTICATOR, {"code": _code(device)})
    codes = response.context["backup_codes"]
    assert len(codes) == 10 and all(code in response.content.decode() for code in codes)
    assert client.get(reverse("admin:index")).status_code == 200
    assert AuditEntry.objects.filter(action="staff.second_factor_enrol", object_id=str(staff.pk)).exists()
    assert [mail.to for mail in mailoutbox] == [[staff.email]]  # told, in case it was not them
    # The codes are shown once: the page does not show them again.
    assert not any(code in client.get(AUTHENTICATOR).content.decode() for code in codes)

    # A new login: password, then a backup code (once).
    client.logout()
    _post_login(client, staff.email, password, url=ADMIN_LOGIN)
    assert client.get(ADMIN_LOGIN)["Location"].startswith(SECOND_FACTOR)
    assert client.post(SECOND_FACTOR, {"code": codes[0], "next": "/admin/"}).url == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200

    client.logout()
    _post_login(client, staff.email, password, url=ADMIN_LOGIN)
    response = client.post(SECOND_FACTOR, {"code": codes[0]})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_wrong_code_does_not_verify(client, password):
    staff = StaffFactory(email="petugas@intrasa.co.id")
    device = TOTPDevice.objects.create(user=staff, name="INTRASA", confirmed=True)
    _post_login(client, staff.email, password, url=ADMIN_LOGIN)

    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(SECOND_FACTOR, {"code": wrong})

    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_password_alone_cannot_replace_an_existing_authenticator(client, password):
    staff = StaffFactory(email="petugas@intrasa.co.id")
    TOTPDevice.objects.create(user=staff, name="INTRASA", confirmed=True)
    _post_login(client, staff.email, password, url=ADMIN_LOGIN)

    response = client.get(AUTHENTICATOR)

    assert response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_people_who_are_not_staff_have_no_second_factor_pages(client, seller):
    client.force_login(seller)
    assert client.get(SECOND_FACTOR).status_code == 404
    assert client.get(AUTHENTICATOR).status_code == 404
    assert not TOTPDevice.objects.exists()


def test_a_superuser_resets_a_lost_authenticator_with_a_reason(client):
    superuser = StaffFactory(email="admin@intrasa.co.id", is_superuser=True)
    staff = StaffFactory(email="petugas@intrasa.co.id")
    TOTPDevice.objects.create(user=staff, name="INTRASA", confirmed=True)
    client.force_login(superuser)
    changelist = reverse("admin:accounts_user_changelist")
    action = {"action": "reset_second_factor", "_selected_action": [staff.pk]}

    assert client.post(changelist, action).status_code == 200  # asks why first
    assert TOTPDevice.objects.filter(user=staff).exists()
    client.post(changelist, {**action, "apply": "1", "reason": "HP hilang, dikonfirmasi lewat telepon"})

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    entry = AuditEntry.objects.get(action="staff.second_factor_reset")
    assert entry.actor == superuser and "HP hilang" in entry.reason


def test_only_superusers_may_reset_a_second_factor(client):
    from django.contrib.auth.models import Permission

    staff = StaffFactory(email="cs@intrasa.co.id")
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    other = StaffFactory(email="petugas@intrasa.co.id")
    TOTPDevice.objects.create(user=other, name="INTRASA", confirmed=True)
    client.force_login(staff)

    client.post(reverse("admin:accounts_user_changelist"),
                {"action": "reset_second_factor", "_selected_action": [other.pk], "apply": "1", "reason": "x"})

    assert TOTPDevice.objects.filter(user=other).exists()


def test_the_reset_command_for_when_no_superuser_can_log_in():
    staff = StaffFactory(email="admin@intrasa.co.id", is_superuser=True)
    TOTPDevice.objects.create(user=staff, name="INTRASA", confirmed=True)

    call_command("reset_staff_second_factor", "ADMIN@intrasa.co.id", reason="HP hilang")

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert AuditEntry.objects.filter(action="staff.second_factor_reset", actor=None).exists()


def test_the_demo_staff_code_opens_the_admin(client, settings, capsys):
    from escrow.management.commands.seed_demo import DEMO_PASSWORD, STAFF

    staff = StaffFactory(email=STAFF[0], is_superuser=True)
    staff.set_password(DEMO_PASSWORD)
    staff.save()
    TOTPDevice.objects.create(user=staff, name="INTRASA demo", confirmed=True)
    settings.DEBUG = True

    call_command("demo_totp")
    code = re.search(r": (\d{6}) ", capsys.readouterr().out).group(1)

    _post_login(client, STAFF[0], DEMO_PASSWORD, url=ADMIN_LOGIN)
    assert client.post(SECOND_FACTOR, {"code": code}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_demo_code_command_refuses_outside_development(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_totp")
