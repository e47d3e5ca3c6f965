"""Requests no view can answer safely, refused before any of them runs."""
from urllib.parse import unquote

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
