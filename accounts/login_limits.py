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
* **Exact under a burst.** Axes checks the lock before the password is checked and counts the
  failure after, so logins in flight at the same moment would all pass the check, and every one
  of their passwords be tried. So a login attempt also takes a *place* per account and per address
  (``intrasa.ratelimit.Places``, in the cache) before its failures are read, and gives it back once
  its failure is recorded (or it logged in): failures plus places never exceed a limit, and an
  attempt that finds the rest of its account's or address's budget taken by attempts in flight waits
  for them (``RESERVE_WAIT``; after that it goes ahead, as axes alone would let it). The places are
  an extra over axes, which keeps its counts in the database: when the cache is unreachable a login
  goes ahead as axes alone would (logged), never a 500. A request never holds a place past its
  response (``LoginLimitMiddleware``): a form may refuse a right password after ``authenticate()``
  (the admin login, for an account that is not staff), and then neither signal comes.

Staff unlock an account by deleting its rows under *Axes → Access attempts* in the admin, or with
``python manage.py axes_reset_username <email>``.
"""
import datetime as dt
import logging
import math
import random
import secrets
import time

import redis
from axes.conf import settings as axes_settings
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

from intrasa import ratelimit
from intrasa.wib import to_wib

from .validators import canonical_email

logger = logging.getLogger(__name__)


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
    """``AXES_CLIENT_IP_CALLABLE``: the address the other limits count by
    (``intrasa.ratelimit.counted_address``: ``REMOTE_ADDR``, never a forwarded header; an IPv6
    client's /64), but ``None`` rather than a placeholder when there is none (a login made by code),
    since axes stores it in an IP address column."""
    address = request.META.get("REMOTE_ADDR")
    return ratelimit.network_of(address) if address else None


def _limits() -> tuple[int, int]:
    return settings.AXES_FAILURE_LIMIT, settings.LOGIN_FAILURES_PER_IP


LOGIN_PLACES = ratelimit.Places("login")


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

    def is_allowed(self, request, credentials=None) -> bool:
        """Axes' checks, and for an attempt whose password is about to be checked (``credentials``:
        from ``AxesStandaloneBackend``) places taken first, so that no burst checks more passwords
        than the limits leave (module docstring)."""
        if credentials is None or not axes_settings.AXES_LOCK_OUT_AT_FAILURE:
            return super().is_allowed(request, credentials)
        if axes_settings.AXES_ONLY_ADMIN_SITE and not self.is_admin_request(request):
            return True
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        try:
            return self._take_places(request, credentials)
        except redis.RedisError:
            logger.warning("login places: the cache is unreachable; the login is limited by axes alone")
            request.intrasa_login_places = None  # places taken before the error lapse (PLACE_SECONDS)
            return super().is_allowed(request, credentials)

    def _place_keys(self, request, credentials) -> list[tuple[tuple[str, ...], int]]:
        account_limit, ip_limit = _limits()
        username = get_client_username(request, credentials)
        keys = [(("account", username), account_limit)] if username else []
        if request.axes_ip_address:
            keys.append((("ip", request.axes_ip_address), ip_limit))
        return keys

    def _take_places(self, request, credentials) -> bool:
        self._give_back_places(request)  # a second authenticate() in one request: one place at a time
        account_limit, ip_limit = _limits()
        keys = self._place_keys(request, credentials)
        parts = [key for key, _limit in keys]
        deadline = time.monotonic() + ratelimit.RESERVE_WAIT
        failures = None  # read from the database only to decide: first, and to confirm places that fit

        def fits(failures, in_flight) -> bool:
            return all(failures[key[0]] + taken <= limit for (key, limit), taken in zip(keys, in_flight, strict=True))

        while True:
            token = secrets.token_hex(8)
            in_flight = LOGIN_PLACES.take(token, *parts)  # before the failures are read (module docstring)
            # Failures only grow, so places that do not fit the last count read do not fit now either:
            # a waiting attempt polls the cache, not the database; it reads again to decide.
            out_of_time = time.monotonic() >= deadline
            if failures is None or fits(failures, in_flight) or out_of_time:
                by_account, by_ip = self._failures(request, credentials)
                failures = {"account": by_account, "ip": by_ip}
                if by_account >= account_limit or by_ip >= ip_limit:
                    LOGIN_PLACES.give_back(token, *parts)
                    return False  # locked: axes' own refusal
                if fits(failures, in_flight):
                    request.intrasa_login_places = (token, parts)
                    return True
            LOGIN_PLACES.give_back(token, *parts)  # the rest is taken by attempts in flight: wait
            if out_of_time:
                return True  # they take too long: go ahead, as axes alone would
            time.sleep(ratelimit.RESERVE_POLL * (1 + random.random()))  # noqa: S311 - jitter, not a secret

    def _give_back_places(self, request) -> None:
        give_back_login_places(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)  # the failure recorded…
        finally:
            if request is not None:
                self._give_back_places(request)  # …then the place freed: never neither

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        finally:
            self._give_back_places(request)

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _details = AccessAttempt.objects.filter(username=username).delete()
        return count


def give_back_login_places(request) -> None:
    """Free the login places ``request`` holds, if any. A cache error is logged: the places lapse."""
    held = getattr(request, "intrasa_login_places", None)
    if held is not None:
        request.intrasa_login_places = None
        try:
            LOGIN_PLACES.give_back(held[0], *held[1])
        except redis.RedisError:
            logger.warning("login places: the cache is unreachable; the places lapse after PLACE_SECONDS")


class LoginLimitMiddleware:
    """Gives back the login places of a request once it is answered, whatever the view did after
    ``authenticate()`` (module docstring). Just before axes' middleware, so it wraps it and the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            give_back_login_places(request)


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
