"""The site's Content-Security-Policy is built once (intrasa.middleware.ContentSecurityPolicyMiddleware),
and every response carries exactly the headers django-csp's own middleware would give it: the same
policy, the same report-only policy (none), the partner API docs' widened policy, none on the
exempted documents, and a changed setting takes effect at once."""
import pytest
from django.test import override_settings
from django.urls import reverse

from documents.selectors import RECEIPT
from tests import scenarios
from transactions.models import Status

pytestmark = pytest.mark.django_db

DJANGO_CSP = "csp.middleware.CSPMiddleware"
OURS = "intrasa.middleware.ContentSecurityPolicyMiddleware"
HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _with(middleware, settings_middleware):
    return [middleware if name in (DJANGO_CSP, OURS) else name for name in settings_middleware]


def _headers(response):
    return {name: response.get(name) for name in HEADERS}


def test_the_site_uses_the_built_once_middleware(settings):
    assert OURS in settings.MIDDLEWARE and DJANGO_CSP not in settings.MIDDLEWARE


@pytest.fixture
def paths(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CONFIRMED)
    return {
        "public page": ("/cek-transaksi/?ref=" + txn.reference, None),
        "public JSON": (f"/api/cek-transaksi/{txn.reference}/", None),
        "unknown page (404)": ("/tidak-ada/", None),
        "personal page": (txn.get_absolute_url(), seller),
        "partner API docs (csp_update)": ("/api/v1/docs", None),
        "receipt PDF (csp_exempt)": (reverse("documents:download", args=[txn.reference, RECEIPT.slug]), buyer),
    }


@pytest.mark.parametrize("debug", [False, True])
def test_every_response_has_the_headers_django_csp_gives_it(client, settings, paths, debug):
    settings.DEBUG = debug
    for label, (path, person) in paths.items():
        answers = []
        for middleware in (DJANGO_CSP, OURS, OURS):  # ours twice: built, then kept
            with override_settings(MIDDLEWARE=_with(middleware, settings.MIDDLEWARE)):
                if person is not None:
                    client.force_login(person)
                answers.append(_headers(client.get(path)))
                client.logout()
        assert answers[0] == answers[1] == answers[2], label
    assert answers[0]["Content-Security-Policy"] is None  # the exempted PDF, last: no policy at all


def test_a_changed_policy_takes_effect_at_once(client, settings):
    before = client.get("/cek-transaksi/")["Content-Security-Policy"]
    changed = {**settings.CONTENT_SECURITY_POLICY,
               "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "img-src": ["'self'", "data:"]}}
    with override_settings(CONTENT_SECURITY_POLICY=changed,
                           CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        response = client.get("/cek-transaksi/")
        assert "img-src 'self' data:" in response["Content-Security-Policy"]
        assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert client.get("/cek-transaksi/")["Content-Security-Policy"] == before
