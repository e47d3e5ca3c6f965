"""Limits on password guessing, for the site login and the admin login alike (django-axes).

django-axes counts every failed ``authenticate()`` (whatever form called it) and refuses
authentication, even with the right password, while a lock holds. INTRASA configures it so:

* **What is counted is what authentication uses.** The typed address is reduced to its canonical
  form (``accounts.validators.canonical_email``, the form accounts are stored and looked up in), so
  ``ＳＡＲＩ@example.co.id``, ``ſari@example.co.id`` and `` sari@example.co.id `` share one counter,
  the account's.
* **Two locks** (``AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]``): per account, whatever
  network the guesses come from (``AXES_FAILURE_LIMIT``, default 10 failures), and per client IP
  address across all accounts (``LOGIN_FAILURES_PER_IP``, default 30), which stops one machine from
  trying a common password on many accounts. Axes compares a single number with a single limit,
  so ``LoginAttemptHandler.get_failures`` expresses the IP count in the account limit's units:
  ``ip_failures * account_limit // ip_limit`` reaches ``account_limit`` exactly when
  ``ip_failures`` reaches ``ip_limit``.
* **A lock lasts ``AXES_COOLOFF_TIME``** from the failure that completed it. Attempts during a lock
  are refused without being counted (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``), so
  the time the person is told stays true.
* **A successful login clears the account's failures** (``AXES_RESET_ON_SUCCESS``), and only the
  account's: someone spraying passwords across accounts cannot wipe their network's count by
  logging in to an account of their own now and then.
* **The refusal** (``lockout_response``) is the login form again, status 429, with a message in
  the person's language that says until when (WIB) logins are paused.
* **Not exact under a burst.** Axes checks the lock before the password is checked and counts the
  failure after, so logins in flight at the same moment all pass the check: at the limit, up to
  (concurrent login requests − 1) more passwords are checked than the limit allows, per account and
  per address (bounded by the web workers serving at once). Unlike ``intrasa.ratelimit``'s guess
  budgets (``RateLimit.reserve``), this is left to axes
  (tests/security/test_exact_limits.py, the expected failure).

Staff unlock an account by deleting its rows under *Axes → Access attempts* in the admin, or with
``python manage.py axes_reset_username <email>``.
"""
import datetime as dt
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from intrasa.wib import to_wib

from .validators import canonical_email


def axes_username(request, credentials=None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the canonical address, from the credentials given to
    ``authenticate()`` or, before that, from the submitted form."""
    if credentials:
        typed = credentials.get("username") or credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        typed = getattr(request, "POST", {}).get("username")
    if not typed:
        return None
    return canonical_email(typed) or None


def axes_client_ip(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the same policy as ``intrasa.ratelimit.client_ip``
    (``REMOTE_ADDR``, never a forwarded header), but ``None`` rather than a placeholder when there is
    none (a login made by code), since axes stores it in an IP address column."""
    return request.META.get("REMOTE_ADDR") or None


def _limits() -> tuple[int, int]:
    return settings.AXES_FAILURE_LIMIT, settings.LOGIN_FAILURES_PER_IP


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a per-IP limit of its own and a reset that spares the IP count
    (see the module docstring). Attempts are rows in the database: visible to staff in the admin,
    kept across restarts, and the same with SQLite (``make run``) and PostgreSQL."""

    def _failures(self, request, credentials=None) -> tuple[int, int]:
        username = get_client_username(request, credentials)
        by_account_qs, by_ip_qs = self.get_user_attempts(request, credentials)
        by_account = (by_account_qs.aggregate(n=Sum("failures_since_start"))["n"] or 0) if username else 0
        by_ip = (by_ip_qs.aggregate(n=Sum("failures_since_start"))["n"] or 0) if request.axes_ip_address else 0
        return by_account, by_ip

    def get_failures(self, request, credentials=None) -> int:
        account_limit, ip_limit = _limits()
        by_account, by_ip = self._failures(request, credentials)
        return max(by_account, by_ip * account_limit // ip_limit)

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _details = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_ends_at(request, credentials=None) -> dt.datetime:
    """When the lock on this request's account or address ends: for each lock that holds, the time
    of the failure that completed it plus the cool-off; the later of them."""
    cool_off = get_cool_off(request)
    now = timezone.now()
    account_limit, ip_limit = _limits()
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None)
    checks = [({"ip_address": ip_address}, ip_limit)] if ip_address else []
    if username:
        checks.insert(0, ({"username": username}, account_limit))
    ends = []
    for filters, limit in checks:
        rows = (AccessAttempt.objects.filter(**filters, attempt_time__gte=now - cool_off)
                .order_by("-attempt_time").values_list("attempt_time", "failures_since_start"))
        total = 0
        for attempt_time, failures in rows:
            total += failures
            if total >= limit:
                ends.append(attempt_time + cool_off)
                break
    return max(ends) if ends else now + cool_off


def lockout_message(ends_at: dt.datetime) -> str:
    minutes = max(1, math.ceil((ends_at - timezone.now()).total_seconds() / 60))
    return ngettext(
        "Too many failed log-in attempts for this account or from your network. For your security, "
        "logging in is paused until %(time)s WIB (in about %(minutes)d minute); the right password "
        "does not work before then either. If you forgot your password, reset it.",
        "Too many failed log-in attempts for this account or from your network. For your security, "
        "logging in is paused until %(time)s WIB (in about %(minutes)d minutes); the right password "
        "does not work before then either. If you forgot your password, reset it.",
        minutes,
    ) % {"time": to_wib(ends_at).strftime("%H.%M"), "minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the login form the person used, again, with the message; 429."""
    ends_at = lockout_ends_at(request, credentials)
    messages.error(request, lockout_message(ends_at))
    typed = request.POST.get("username", "")
    if request.path == reverse("admin:login"):
        from django.contrib import admin

        site = admin.site
        form = (site.login_form or admin.forms.AdminAuthenticationForm)(request, initial={"username": typed})
        context = {**site.each_context(request), "title": _("Log in"), "app_path": request.get_full_path(),
                   "form": form, "next": request.POST.get("next", ""),
                   "username": request.user.get_username()}
        template = site.login_template or "admin/login.html"
    else:
        from .forms import EmailAuthenticationForm

        form = EmailAuthenticationForm(request, initial={"username": typed})
        context = {"form": form, "next": request.POST.get("next", "")}
        template = "registration/login.html"
    response = TemplateResponse(request, template, context, status=429)
    # Like every 429 of the site (intrasa.ratelimit): when trying again can work, rounded up.
    response["Retry-After"] = str(max(1, math.ceil((ends_at - timezone.now()).total_seconds())))
    response.render()
    return response
