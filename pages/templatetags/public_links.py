"""Links to the public pages from places that have no request: emails (and PDFs).

``{% public_url "pages:check_transaction" reference=ref %}`` gives an absolute URL on ``SITE_URL``;
``{{ text|reference_in }}`` finds the transaction reference a notification is about in its
subject (every transaction notification names its reference there), or "".
"""
import re

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from transactions.references import ReferenceStatus, parse_reference

register = template.Library()

_CANDIDATE = re.compile(r"\bINT-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@register.filter
def reference_in(text) -> str:
    for candidate in _CANDIDATE.findall(str(text or "")):
        status, reference = parse_reference(candidate)
        if status == ReferenceStatus.VALID:
            return reference
    return ""


@register.simple_tag
def public_url(view_name: str, **query) -> str:
    url = f"{settings.SITE_URL}{reverse(view_name)}"
    query = {key: value for key, value in query.items() if value}
    return f"{url}?{urlencode(query)}" if query else url
