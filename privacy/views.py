"""The privacy page (public) and the "My data" pages of an account. Thin: forms in, services
called, messages out; every change is a POST that redirects."""
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intrasa.http import never_cache

from . import access, consents, retention, selectors, services
from .forms import ConsentForm, EmailChangeForm, ErasureForm, StaffAccessReasonForm
from .services import PrivacyError

MY_DATA = "privacy:my_data"


@require_GET
def notice(request):
    """What INTRASA keeps, why, for how long, and the rights of the people it is about."""
    return render(request, "privacy/notice.html", {
        "rules": retention.RULES, "purposes": consents.PURPOSES,
        "officer_email": settings.PRIVACY_OFFICER_EMAIL,
    })


def _render_my_data(request, *, email_form=None, consent_form=None, status=200):
    user = request.user
    states = selectors.consent_states(user=user)
    return render(request, "privacy/my_data.html", {
        "exports": selectors.exports_for(user=user)[:10],
        "email_form": email_form or EmailChangeForm(user=user),
        "pending_email_change": selectors.pending_email_change(user=user),
        "changes": selectors.profile_changes_for(user=user)[:50],
        "consent_form": consent_form or ConsentForm(states=states),
        "consent_states": states,
        "archive_days": retention.DATA_EXPORTS.period.days,
    }, status=status)


@never_cache
@login_required
@require_GET
def my_data(request):
    return _render_my_data(request)


@login_required
@require_POST
def export_create(request):
    try:
        services.export_request(user=request.user)
    except PrivacyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("We are preparing your archive. We will notify you and email you when it is "
                                    "ready to download."))
    return redirect(reverse(MY_DATA) + "#arsip")


@never_cache
@login_required
@require_GET
def export_download(request, pk: int):
    export = selectors.export_get_for_owner(user=request.user, pk=pk)
    if export is None:
        raise Http404
    try:
        services.export_download(export=export, user=request.user)
    except PrivacyError as error:
        messages.error(request, error.message)
        return redirect(reverse(MY_DATA) + "#arsip")
    response = FileResponse(export.file.open("rb"), as_attachment=True,
                            filename=f"INTRASA-data-{export.ready_at:%Y%m%d}.zip", content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def email_change(request):
    form = EmailChangeForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            change = services.email_change_request(user=request.user, new_email=form.cleaned_data["new_email"])
        except PrivacyError as error:
            form.add_error("new_email", error.message)
        else:
            messages.success(request, _("We sent a link to %(email)s. Your address changes when you open it while "
                                        "logged in.") % {"email": change.new_email})
            return redirect(reverse(MY_DATA) + "#koreksi")
    return _render_my_data(request, email_form=form, status=400)


@login_required
@require_GET
def email_confirm(request, token: str):
    """The link from the email to the new address. Login is required: holding the link alone
    proves nothing about whose account it should change."""
    try:
        user = services.email_change_confirm(user=request.user, token=token)
    except PrivacyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your email address is now %(email)s.") % {"email": user.email})
    return redirect(reverse(MY_DATA) + "#koreksi")


@login_required
@require_POST
def consents_update(request):
    form = ConsentForm(request.POST, states=selectors.consent_states(user=request.user))
    if not form.is_valid():
        return _render_my_data(request, consent_form=form, status=400)
    changed = 0
    for purpose in consents.PURPOSES:
        if services.consent_set(user=request.user, purpose=purpose.key, granted=form.cleaned_data[purpose.key],
                                language=translation.get_language()):
            changed += 1
    if changed:
        messages.success(request, _("Your choices have been saved."))
    else:
        messages.info(request, _("Nothing changed."))
    return redirect(reverse(MY_DATA) + "#persetujuan")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def erase(request):
    user = request.user
    blockers = selectors.erasure_blockers(user=user)
    form = ErasureForm(request.POST or None, user=user)
    if request.method == "POST" and not blockers and form.is_valid():
        email = user.email
        try:
            services.account_erase(user=user)
        except PrivacyError as error:
            messages.error(request, error.message)
            return redirect("privacy:erase")
        logout(request)
        messages.success(request, _("Your account has been erased. We sent the confirmation, with what we keep and "
                                    "until when, to %(email)s.") % {"email": email})
        return redirect("home")
    return render(request, "privacy/erase.html", {
        "blockers": blockers, "form": form, "kept": selectors.erasure_kept(user=user),
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def staff_access(request, kind: str, pk: int):
    """Staff say why they need a sensitive file before it is served to them."""
    watched = access.BY_SLUG.get(kind)
    if watched is None or not request.user.is_staff:
        raise Http404
    target = watched.load(pk, request.user)
    if target is None:
        raise Http404
    form = StaffAccessReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        access.grant_give(request, kind=watched.kind, pk=pk, reason=form.cleaned_data["reason"])
        return redirect(watched.url(pk))
    return render(request, "privacy/staff_access.html", {
        **admin.site.each_context(request), "form": form, "kind_label": dict(access.Kind.choices)[watched.kind], "object_id": pk,
        "minutes": access.GRANT_MINUTES,
    })
