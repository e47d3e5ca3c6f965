"""The staff admin at ``/admin/``: a password (limited by django-axes) and a second factor.

Staff can refund and release other people's money, so a stolen password alone must not open the
admin. ``StaffAdminSite`` is django-otp's ``OTPAdminSite``: only a session that passed a second
factor (``request.user.is_verified()``: a code from the staff member's authenticator app, or one of
their one-time backup codes) counts as staff; an unverified staff session is treated like a
non-staff one and never sees an admin page.

The login is split in two steps that each do one thing:

1. ``/admin/login/`` is Django's admin login (email and password). It goes through
   ``authenticate()``, so django-axes limits it exactly like the site login
   (``accounts.login_limits``).
2. A logged-in staff member whose session is not verified yet is sent to
   ``accounts:staff_second_factor`` (enter a code), or, without an authenticator yet, to
   ``accounts:staff_authenticator`` (scan a QR code, confirm one code, receive backup codes).

The site is installed as Django's default admin site (``accounts.apps.StaffAdminConfig``), so every
``admin.register`` and ``admin.site.admin_view`` of the project is behind it.
"""
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.admin import OTPAdminSite


class StaffAdminSite(OTPAdminSite):
    # Step 1 is a plain password form; the second factor has its own page (see the module doc).
    login_form = AdminAuthenticationForm
    login_template = None

    def __init__(self, name: str = "admin"):
        # OTPAdminSite names itself "otpadmin"; the project reverses "admin:…" everywhere.
        AdminSite.__init__(self, name)

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not user.is_verified():
            next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
            return redirect(f"{reverse('accounts:staff_second_factor')}?{urlencode({'next': next_url})}")
        return super().login(request, extra_context)
