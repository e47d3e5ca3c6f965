"""What a person is told when a part of the service INTRASA depends on does not answer: Redis, which
holds the rate limits, the cached public facts and the Celery broker. The limits cannot be checked
then, so a request is refused rather than served unlimited (``intrasa.ratelimit``), with 503 and
``Retry-After``: as a page (``intrasa.views.server_error``) or the APIs' JSON error."""
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

UNAVAILABLE_RETRY_AFTER = 30  # seconds


def unavailable_message() -> str:
    return _("INTRASA cannot check this request safely right now because part of the service is not "
             "answering. Please try again in a minute.")


def unavailable(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "temporarily_unavailable", "message": unavailable_message(), "details": []}}, status=503)
    else:
        # Rendered without the request: the site's context processors and base.html use the cache too.
        response = HttpResponse(render_to_string("unavailable.html", {"message": unavailable_message(),
                                                                     "LANGUAGE_CODE": get_language()}), status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response
