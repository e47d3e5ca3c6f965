"""Sign-up, login, password reset and the profile page with its payout destinations.

Views are thin: a form checks the input, a service in ``accounts.services`` makes the change, the
view picks the message and the redirect. Every change is a POST that redirects (post/redirect/get),
so reloading a page never repeats an action and everything works without JavaScript.
"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .forms import (
    BankDestinationForm,
    ChangePasswordForm,
    EmailAuthenticationForm,
    EWalletDestinationForm,
    NewPasswordForm,
    ProfileForm,
    ResetPasswordForm,
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
    user_sign_up,
    user_update_profile,
)

DESTINATIONS_ANCHOR = "#tujuan-pencairan"


class LoginView(auth_views.LoginView):
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default since 5.0): a link or an image tag cannot log anyone out."""


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetPasswordForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
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
            login(request, user)
            messages.success(request, _("Welcome to INTRASA, %(name)s.") % {"name": user.get_short_name()})
            return redirect(_safe_next(request) or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request) or ""})


def _render_profile(request, *, profile_form=None, bank_form=None, ewallet_form=None):
    """The profile page, with whichever of its three forms was just submitted (and failed)."""
    user = request.user
    if profile_form is None:
        profile_form = ProfileForm(prefix="profile", initial={
            "full_name": user.full_name, "phone": phone_for_display(user.phone),
            "preferred_language": user.preferred_language,
        })
    context = {
        "profile_form": profile_form,
        "bank_form": bank_form if bank_form is not None else BankDestinationForm(prefix="bank"),
        "ewallet_form": ewallet_form if ewallet_form is not None else EWalletDestinationForm(prefix="ewallet"),
        "destinations": payout_destination_list(owner=user),
    }
    return render(request, "accounts/profile.html", context)


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
@require_POST
def destination_add_bank(request):
    form = BankDestinationForm(request.POST, prefix="bank")
    if form.is_valid():
        try:
            destination = payout_destination_add_bank(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Bank account %(label)s added. We check it with the bank "
                                        "before the first payout.") % {"label": destination.label})
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
