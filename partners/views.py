"""The seller's side of the partner API: the consent page (approve or deny a partner's request to
act for them) and the list of linked partners, where a link is revoked. Thin: a check, a service,
a redirect."""
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intrasa.http import never_cache

from . import selectors, services
from .models import LINK_SCOPES


def _back_to_partner(redirect_uri: str, **params) -> HttpResponseRedirect:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    return HttpResponseRedirect(f"{redirect_uri}{joiner}{urlencode({k: v for k, v in params.items() if v})}")


@never_cache
@login_required
def authorize(request):
    """GET shows who asks for what; POST approves (a code goes back to the partner) or denies.

    The request is checked before anything is shown or sent: an unknown partner or a return address
    it did not register gets an error page here, never a redirect (the code must not travel to an
    address the partner does not own)."""
    source = request.POST if request.method == "POST" else request.GET
    client_id, redirect_uri = source.get("client_id", ""), source.get("redirect_uri", "")
    scope, state = source.get("scope", ""), source.get("state", "")[:500]
    try:
        partner, scopes = services.authorization_request_check(client_id=client_id, redirect_uri=redirect_uri,
                                                               scope=scope)
    except services.PartnerError as exc:
        return render(request, "partners/authorize_error.html", {"message": exc.message}, status=400)
    if request.method == "POST":
        if request.POST.get("decision") != "approve":
            return _back_to_partner(redirect_uri, error="access_denied", state=state)
        _link, code = services.link_approve(partner=partner, user=request.user, scopes=scopes,
                                            redirect_uri=redirect_uri)
        return _back_to_partner(redirect_uri, code=code, state=state)
    response = render(request, "partners/authorize.html", {
        "partner": partner, "scopes": [LINK_SCOPES[scope] for scope in scopes], "scope": " ".join(scopes),
        "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
        "partner_host": urlsplit(redirect_uri).hostname,
    })
    # The form posts here and the answer redirects to the partner: browsers apply form-action to
    # that redirect, so this page (only) allows the partner's registered origin as well.
    parts = urlsplit(redirect_uri)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


@never_cache
@login_required
def links(request):
    return render(request, "partners/links.html", {"links": selectors.link_list_for_user(user=request.user)})


@require_POST
@login_required
def link_revoke(request, link_id: int):
    try:
        link = services.link_revoke(link_id=link_id, user=request.user)
    except services.PartnerError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(partner)s can no longer act for you.") % {"partner": link.partner.name})
    return redirect("partners:links")


def api_not_found(request, rest: str = ""):
    """Unknown addresses under /api/v1/ answer in the API's error shape, not with an HTML page."""
    return JsonResponse({"error": {"code": "not_found", "message": _("Not found."), "details": []}}, status=404)
