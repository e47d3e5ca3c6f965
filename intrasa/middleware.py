"""Requests no view can answer safely, refused before any of them runs; the site's Content-Security-Policy."""
import functools
import http.client as http_client
from typing import NamedTuple
from urllib.parse import unquote

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request

NUL = "\x00"


class RefuseNulMiddleware:
    """A NUL character in the path, the query string or a cookie is refused with 400.

    PostgreSQL text can neither hold nor be compared with NUL: a lookup such as
    ``filter(reference="\\x00")`` raises ``DataError``, a 500. Every ``<str:…>`` URL parameter and
    every query parameter reaches some lookup (``/transaksi/%00/``, ``/tautan/%00/``,
    ``/termin/%00/``, ``?client_id=%00``…), so a per-view check would always miss one. No real
    address, parameter or cookie contains NUL, so refusing it here costs nothing. Form fields in
    POST bodies are already guarded by Django's ``ProhibitNullCharactersValidator``; the partner
    API's JSON bodies by its schemas.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (NUL in request.path or NUL in unquote(request.META.get("QUERY_STRING", ""))
                or any(NUL in name or NUL in value for name, value in request.COOKIES.items())):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "malformed_request", "details": [],
                                               "message": _("The request contains a NUL character.")}}, status=400)
            return bad_request(request, exception=None)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's policy built once.

    django-csp builds the header from ``CONTENT_SECURITY_POLICY`` on every response, twice (the policy
    and the report-only one, empty here): about a tenth of a Cek Transaksi JSON answer's time went
    there. Where nothing on the response or request changes the policy (no ``@csp_update``,
    ``@csp_replace`` or per-response config, and no nonce asked for), the header is that one string,
    built by django-csp itself and kept until the settings change. Anything else (the partner API's
    docs, its consent page, exempted documents) goes through django-csp unchanged.
    """

    _CHANGES_THE_POLICY = ("_csp_config", "_csp_update", "_csp_replace",
                           "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")

    def process_response(self, request, response):
        if (getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in self._CHANGES_THE_POLICY)):
            return super().process_response(request, response)
        if response.status_code in (http_client.INTERNAL_SERVER_ERROR, http_client.NOT_FOUND) and settings.DEBUG:
            return response
        for policy in _site_policies():
            if (policy.value and policy.header not in response and not getattr(response, policy.exempt, False)
                    and not request.path_info.startswith(policy.excluded)):
                response[policy.header] = policy.value
        if getattr(request, "_csp_nonce", None) is None:  # as django-csp: no nonce once the header is written
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class _SitePolicy(NamedTuple):
    header: str
    exempt: str  # the response attribute django-csp's ``@csp_exempt`` sets
    value: str  # "" when the setting is empty: no header
    excluded: tuple[str, ...]  # the setting's EXCLUDE_URL_PREFIXES


@functools.cache
def _site_policies() -> tuple[_SitePolicy, ...]:
    """The policy and the report-only policy, as django-csp builds them from the settings alone."""
    return tuple(
        _SitePolicy(header, exempt, build_policy(report_only=report_only),
                    tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()))
        for header, exempt, setting, report_only in (
            (HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY", True)))


@receiver(setting_changed)
def _forget_site_policies(*, setting, **kwargs):
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        _site_policies.cache_clear()
