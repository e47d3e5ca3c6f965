"""Per request: who is acting (for the profile history) and what staff look at (the access log).

Placed after the authentication and message middleware. For a watched page (``privacy.access``)
requested by staff who are not a party to the case:

* a sensitive file without a reason given in the last minutes → redirect to the reason page;
* otherwise the request goes through, and if the page was served (200) one line per person whose
  data it shows is appended to the staff access log, with the reason when there is one.
"""
from django.shortcuts import redirect
from django.urls import reverse

from intrasa.ratelimit import client_ip

from . import access
from .history import acting
from .services import staff_access_record

PENDING_ATTRIBUTE = "_privacy_staff_access"


class PrivacyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        via = "admin" if request.path.startswith("/admin/") else "website"
        with acting(lambda: getattr(request, "user", None), via=via):
            response = self.get_response(request)
        pending = getattr(request, PENDING_ATTRIBUTE, None)
        if pending is not None and response.status_code == 200:
            watched, target, reason = pending
            ip = client_ip(request)
            for subject in target.subjects or (None,):
                staff_access_record(staff=request.user, kind=watched.kind, object_id=target.object_id,
                                    subject=subject, reason=reason or "", path=request.get_full_path(),
                                    ip_address=ip if ip != "unknown" else None)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        watched = access.WATCHED.get(match.view_name) if match is not None else None
        user = getattr(request, "user", None)
        if watched is None or request.method != "GET" or user is None or not user.is_authenticated \
                or not user.is_staff:
            return None
        pk = access.object_pk(view_kwargs)
        target = watched.load(pk, user) if pk is not None else None
        if target is None or user.pk in target.parties:
            return None  # nothing to show (the view answers 404), or their own case
        reason = None
        if watched.needs_reason:
            reason = access.grant_reason(request, kind=watched.kind, pk=pk)
            if reason is None:
                # The reason page sends them back to ``watched.url(pk)``: never to an address taken
                # from the request, so it cannot be turned into an open redirect.
                return redirect(reverse("privacy:staff_access", kwargs={"kind": watched.slug, "pk": pk}))
        setattr(request, PENDING_ATTRIBUTE, (watched, target, reason))
        return None
