"""Logging staff in for tests the way a staff member with an authenticator app is logged in.

The admin (``accounts.admin_site.StaffAdminSite``) admits a staff session only once it passed the
second factor, which django-otp records in the session (``otp_device_id``). Tests that are about
something else than the login itself get that session from ``StaffClient.force_login``: a real,
confirmed TOTP device of the staff member, recorded in the session exactly as
``django_otp.login`` does after a correct code. Nothing is switched off: the admin still checks
``request.user.is_verified()`` on every request, and ``tests/security/test_logins.py`` proves that
a staff session without it is refused.
"""
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY


def verified_device(user):
    """The staff member's confirmed authenticator (created if they have none yet)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="INTRASA", confirmed=True)


def mark_session_verified(session, user) -> None:
    session[DEVICE_ID_SESSION_KEY] = verified_device(user).persistent_id
    session.save()


class StaffClient(Client):
    """``django.test.Client`` whose ``force_login`` also completes a staff member's second factor."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if user.is_staff:
            mark_session_verified(self.session, user)
