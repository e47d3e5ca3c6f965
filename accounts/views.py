"""Sign-up, login, password reset, email verification, the language switch and the profile page
with its payout destinations.

Views are thin: a form checks the input, a service in ``accounts.services`` makes the change, the
view picks the message and the redirect. Every change is a POST that redirects (post/redirect/get),
so reloading a page never repeats an action and everything works without JavaScript. The one GET
that changes something is the emailed verification link, which only works for the logged-in
owner of the account and does the same thing however often it is opened.

Rate limits (``intrasa.ratelimit``) live here, not in the services: they are about who is asking
from where (an IP address, an account), which only a request knows. Logins are limited by
django-axes (``accounts.login_limits``).
"""
import base64
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n as i18n_views
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event
from django_otp import login as otp_login

from intrasa import ratelimit
from intrasa.http import never_cache
from intrasa.qr import qr_svg

from . import tokens
from .backends import BACKEND_PATH
from .forms import (
    AuthenticatorConfirmForm,
    BankDestinationForm,
    ChangePasswordForm,
    EmailAuthenticationForm,
    EWalletDestinationForm,
    NewPasswordForm,
    ProfileForm,
    ResetPasswordForm,
    SecondFactorForm,
    SignUpForm,
    add_service_errors,
    phone_for_display,
)
from .selectors import payout_destination_get_for_owner, payout_destination_list
from .services import (
    payout_destination_add_bank,
    payout_destination_add_ewallet,
    payout_destination_archive,
    payout_destination_set_default,
    staff_authenticator_confirm,
    staff_authenticator_start,
    staff_backup_codes_renew,
    staff_has_authenticator,
    staff_second_factor_verify,
    user_send_verification_email,
    user_set_language,
    user_sign_up,
    user_update_profile,
    user_verify_email,
)

logger = logging.getLogger(__name__)

DESTINATIONS_ANCHOR = "#tujuan-pencairan"
EMAIL_ANCHOR = "#email"


class LoginView(auth_views.LoginView):
    """Login with an email address. Password guessing is limited by django-axes, for this form and
    the admin's alike (``accounts.login_limits``): past a limit the form comes back with status
    429 and says until when logins are paused, and even the right password is refused until then."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default since 5.0): a link or an image tag cannot log anyone out."""


class PasswordResetView(auth_views.PasswordResetView):
    """Asking for a reset link, limited per IP address and per account.

    The per-account count is keyed on the account the address leads to (the same lookup Django's
    reset form makes: canonical address, case-insensitive), not on the typed text, so look-alike
    spellings of one address share one allowance. An address without an account has nothing to
    count: no email goes out for it anyway.

    Past either limit no email goes out, but the person sees the same "check your email" page as
    always: a different answer would tell a prober that the limit (or the address) exists.
    """

    form_class = ResetPasswordForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        ip = ratelimit.counted_address(self.request)
        # An IP address over its limit does not use up the account's allowance: someone flooding
        # from one place must not lock the real owner out of their own reset.
        allowed = ratelimit.PASSWORD_RESET_PER_IP.hit(ip)
        if allowed:
            accounts = list(form.get_users(form.cleaned_data["email"]))
            allowed = all(ratelimit.PASSWORD_RESET_PER_ACCOUNT.hit(str(user.pk)) for user in accounts)
        if not allowed:
            logger.warning("password reset request over the rate limit from %s; no email sent", ip)
            return HttpResponseRedirect(self.get_success_url())
        # The link uses the configured public address, not the request's Host header, so a forged
        # Host cannot make the email point somewhere else.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = ChangePasswordForm
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    pass


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    # Every submission counts, not only successful ones: the form tells whether an address
    # already has an account, so attempts are what a prober spends.
    if request.method == "POST" and not ratelimit.SIGNUP.hit(ip := ratelimit.counted_address(request)):
        retry_after = ratelimit.SIGNUP.seconds_left(ip)
        minutes = ratelimit.minutes_to_wait(retry_after)
        messages.error(request, ngettext(
            "Too many sign-up attempts from your network in the last hour. Please try again in %(minutes)d minute.",
            "Too many sign-up attempts from your network in the last hour. Please try again in %(minutes)d minutes.",
            minutes) % {"minutes": minutes})
        # What was typed comes back (never the passwords), but is not validated: that would
        # answer the "does this address have an account?" question the limit is there to ration.
        typed = {name: request.POST.get(name, "") for name in ("full_name", "email", "phone")}
        form = SignUpForm(initial=typed)
        response = render(request, "accounts/signup.html",
                          {"form": form, "next": _safe_next(request) or ""}, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_sign_up(
                email=data["email"], full_name=data["full_name"], phone=data["phone"],
                password=data["password1"],
                # The language the person read the sign-up page in is the best first guess.
                language=translation.get_language(),
            )
        except ValidationError as error:
            add_service_errors(form, error, field_map={"password": "password2"})
        else:
            login(request, user, backend=BACKEND_PATH)
            # The sign-up email counts as the first send, so "send it again" waits its turn.
            ratelimit.VERIFICATION_EMAIL.hit(str(user.pk))
            messages.success(request, _("Welcome to INTRASA, %(name)s.") % {"name": user.get_short_name()})
            messages.info(request, _("We sent a link to %(email)s. Open it to verify your email "
                                     "address.") % {"email": user.email})
            return redirect(_safe_next(request) or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request) or ""})


def _render_profile(request, *, profile_form=None, bank_form=None, ewallet_form=None):
    """The profile page, with whichever of its three forms was just submitted (and failed)."""
    user = request.user
    destinations = list(payout_destination_list(owner=user))
    if profile_form is None:
        profile_form = ProfileForm(prefix="profile", initial={
            "full_name": user.full_name, "phone": phone_for_display(user.phone),
            "preferred_language": user.preferred_language,
        })
    context = {
        "profile_form": profile_form,
        "bank_form": bank_form if bank_form is not None else BankDestinationForm(prefix="bank"),
        "ewallet_form": ewallet_form if ewallet_form is not None else EWalletDestinationForm(prefix="ewallet"),
        "destinations": destinations,
        # While a bank account is being checked with the bank, the section follows the answer live.
        "destinations_checking": any(d.verification == d.Verification.UNVERIFIED and d.kind == d.Kind.BANK
                                     for d in destinations),
        "destinations_token": _destinations_token(destinations),
        "verification_link_days": tokens.MAX_AGE.days,
    }
    return render(request, "accounts/profile.html", context)


def _destinations_token(destinations) -> str:
    return "|".join(f"{d.pk}:{d.verification}:{int(d.is_default)}" for d in destinations)


@login_required
@require_GET
def destinations_status(request):
    """The live answer of the bank account check (htmx polls it from the profile): 204 while nothing
    changed, else the sentence for the page's live region and the event that refreshes the section."""
    destinations = list(payout_destination_list(owner=request.user))
    if request.GET.get("seen") == _destinations_token(destinations):
        response = HttpResponse(status=204)
    else:
        response = trigger_client_event(HttpResponse(_("Your payout destinations were updated.")),
                                        "intrasa:changed")
    response["Cache-Control"] = "no-store"
    return response


def _set_language_cookie(response, language: str) -> None:
    """What Django's set_language view does: the cookie outranks the browser's Accept-Language,
    and UserLanguageMiddleware steps aside once it exists, so it must follow the profile."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    if request.method != "POST":
        return _render_profile(request)
    form = ProfileForm(request.POST, prefix="profile")
    if form.is_valid():
        try:
            user = user_update_profile(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Switch now, so the confirmation is already in the chosen language.
            translation.activate(user.preferred_language)
            messages.success(request, _("Your profile has been saved."))
            response = redirect("accounts:profile")
            _set_language_cookie(response, user.preferred_language)
            return response
    return _render_profile(request, profile_form=form)


@login_required
@require_GET
def verify_email(request, token: str):
    """The link from the verification email. Login is required: the token alone (which a mail
    scanner, a forwarded email or a staff member reading the outbox could hold) proves nothing
    unless the person who opens it is also the account's owner."""
    if request.user.is_email_verified:
        messages.info(request, _("Your email address is already verified."))
    else:
        try:
            user_verify_email(user=request.user, token=token)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you: %(email)s is verified.") % {"email": request.user.email})
    # The top of the profile, not its email section: on a phone the anchor would scroll the message
    # that says what happened out of view (issue 17).
    return redirect("accounts:profile")


@login_required
@require_POST
def email_verification_resend(request):
    user = request.user
    if user.is_email_verified:
        messages.info(request, _("Your email address is already verified."))
    elif not ratelimit.VERIFICATION_EMAIL.hit(str(user.pk)):
        messages.error(request, _(
            "We sent you a verification link less than %(minutes)d minutes ago. Check your inbox "
            "and spam folder, or try again in a moment."
        ) % {"minutes": ratelimit.VERIFICATION_EMAIL.window // 60})
    else:
        user_send_verification_email(user=user)
        messages.success(request, _("We sent a new verification link to %(email)s.") % {"email": user.email})
    return redirect(reverse("accounts:profile") + EMAIL_ANCHOR)


@csrf_exempt
def set_language(request):
    """Django's ``set_language`` (cookie and redirect), which also saves the choice on a logged-in
    person's account: their emails and their next visit on another device follow it too.

    CSRF: a member's switch writes to their account, so it needs the token like every other form. A
    visitor's only sets their language cookie, which a cross-site form could set anyway by sending
    them to any page with a language; asking for a token there made every public page create one
    (and its cookie) for every visitor (base.html renders it for members only)."""
    if request.user.is_authenticated:
        return _set_members_language(request)
    return i18n_views.set_language(request)


@csrf_protect
def _set_members_language(request):
    response = i18n_views.set_language(request)
    language = request.POST.get(i18n_views.LANGUAGE_QUERY_PARAMETER)
    if request.method == "POST" and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response


def _say_how_the_check_went(request, destination) -> None:
    """The bank's answer when it came while the seller waited; otherwise that it is on its way."""
    destination.refresh_from_db(fields=["verification"])
    label = {"label": destination.label}
    if destination.verification == destination.Verification.VERIFIED:
        messages.success(request, _("Bank account %(label)s added and checked with the bank: the holder's name "
                                    "matches.") % label)
    elif destination.verification == destination.Verification.UNVERIFIED:
        messages.success(request, _("Bank account %(label)s added. We check it with the bank "
                                    "before the first payout.") % label)
    else:  # the bank answered at once that something is wrong: the account's row says what
        messages.warning(request, _("Bank account %(label)s added, but the bank's check found a problem: %(problem)s")
                         % {**label, "problem": destination.get_verification_display()})


@login_required
@require_POST
def destination_add_bank(request):
    form = BankDestinationForm(request.POST, prefix="bank")
    if form.is_valid():
        try:
            destination = payout_destination_add_bank(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _say_how_the_check_went(request, destination)
            return redirect(reverse("accounts:profile") + DESTINATIONS_ANCHOR)
    return _render_profile(request, bank_form=form)


@login_required
@require_POST
def destination_add_ewallet(request):
    form = EWalletDestinationForm(request.POST, prefix="ewallet")
    if form.is_valid():
        try:
            destination = payout_destination_add_ewallet(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("E-wallet %(label)s added. We check it before the first "
                                        "payout.") % {"label": destination.label})
            return redirect(reverse("accounts:profile") + DESTINATIONS_ANCHOR)
    return _render_profile(request, ewallet_form=form)


@login_required
@require_POST
def destination_set_default(request, pk: int):
    destination = payout_destination_get_for_owner(owner=request.user, pk=pk)
    try:
        payout_destination_set_default(owner=request.user, destination=destination)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Payouts will now go to %(label)s.") % {"label": destination.label})
    return redirect(reverse("accounts:profile") + DESTINATIONS_ANCHOR)


@login_required
@require_POST
def destination_archive(request, pk: int):
    destination = payout_destination_get_for_owner(owner=request.user, pk=pk)
    was_default = destination.is_default
    try:
        payout_destination_archive(owner=request.user, destination=destination)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(label)s has been removed from your payout destinations.")
                         % {"label": destination.label})
        successor = payout_destination_list(owner=request.user).filter(is_default=True).first()
        if was_default and successor is not None:
            messages.info(request, _("Payouts will now go to %(label)s.") % {"label": successor.label})
    return redirect(reverse("accounts:profile") + DESTINATIONS_ANCHOR)


# --- staff second factor (accounts.admin_site) -----------------------------------------------

def _staff_next(request) -> str:
    return _safe_next(request) or reverse("admin:index")


def _require_staff(request) -> None:
    if not (request.user.is_active and request.user.is_staff):
        raise Http404


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def staff_second_factor(request):
    """Step 2 of the admin login: a code from the authenticator app or a backup code."""
    _require_staff(request)
    next_url = _staff_next(request)
    if request.user.is_verified():
        return redirect(next_url)
    if not staff_has_authenticator(user=request.user):
        return redirect(f"{reverse('accounts:staff_authenticator')}?{urlencode({'next': next_url})}")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = staff_second_factor_verify(user=request.user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(next_url)
        form.add_error("code", _("This code is not correct, or it was already used. Wait for the next "
                                 "code in your app and try again; after several wrong codes each try "
                                 "has to wait a little longer."))
    return render(request, "accounts/staff_second_factor.html", {"form": form, "next": next_url})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def staff_authenticator(request):
    """Set up the authenticator app (QR code drawn here, never by an outside service), or, once
    it is set up and this session verified, renew the backup codes. Backup codes are shown once,
    in the answer to the POST that made them, and never again."""
    _require_staff(request)
    next_url = _staff_next(request)
    user = request.user
    if staff_has_authenticator(user=user):
        if not user.is_verified():
            return redirect(f"{reverse('accounts:staff_second_factor')}?{urlencode({'next': next_url})}")
        codes = staff_backup_codes_renew(user=user) if request.method == "POST" else None
        return render(request, "accounts/staff_authenticator.html",
                      {"enrolled": True, "backup_codes": codes, "next": next_url})
    device = staff_authenticator_start(user=user)
    form = AuthenticatorConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = staff_authenticator_confirm(user=user, device=device, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            device.refresh_from_db()
            otp_login(request, device)
            return render(request, "accounts/staff_authenticator.html",
                          {"enrolled": True, "just_enrolled": True, "backup_codes": codes, "next": next_url})
    return render(request, "accounts/staff_authenticator.html", {
        "enrolled": False, "form": form, "next": next_url,
        "qr_code": qr_svg(device.config_url, size_mm=45),
        "secret": base64.b32encode(device.bin_key).decode(),
    })
