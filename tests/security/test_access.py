"""Every page and action that needs a login rejects anonymous users and hides other people's
things (404, not 403); every state-changing form needs its CSRF token; the admin needs staff.

The URL list is walked from the resolver, so a new page is covered (or must be declared public).
"""
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from notifications.services import notify
from tests import scenarios
from tests.factories import BankDestinationFactory, UserFactory

pytestmark = pytest.mark.django_db

# Pages anyone may open, and provider webhooks (protected by signatures, not by sessions).
PUBLIC = {
    "home", "health", "login", "logout", "signup", "password_reset", "password_reset_done",
    "password_reset_confirm", "password_reset_complete", "set_language", "invitation", "quote",
    "check_transaction", "check_transaction_api", "check_payment", "fees", "refund_policy", "faq",
    "faspay_notification", "sendme_callback", "notice",
}
WEBHOOKS = {"faspay_notification", "sendme_callback"}
# The partner API authenticates every request by its API key header, never by the session cookie, so
# it answers 401 rather than a login redirect, and a browser's cookie (CSRF) cannot act on it. Its
# schema and docs page are public on purpose (partners read them before they have a key).
API_PREFIX = "api/v1/"
API_PUBLIC_ROUTES = {"api/v1/openapi.json", "api/v1/docs"}


def assert_api_needs_its_key(client, url, route):
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if route in API_PUBLIC_ROUTES:
            assert response.status_code == 200 if method == "get" else response.status_code < 500, (url, method)
        else:
            assert response.status_code in (401, 403, 404, 405), (url, method, response.status_code)


def routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.name
    return [(route, name) for route, name in walk(get_resolver().url_patterns)
            if not route.startswith(("admin/", "sandbox/", "i18n/"))]


@pytest.fixture
def world(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, "verified")
    destination = BankDestinationFactory(owner=seller)
    note = notify(event_key="sec", kind="confirmed_buyer", recipient=buyer,
                  context={"reference": txn.reference, "title": "t", "amount": "Rp 1", "seller": "s"})
    values = {"reference": txn.reference, "pk": destination.pk, "token": "tidak-ada",
              "name": "20260101-000000-000000-0", "uidb64": "MQ", "kind": "kuitansi", "action": "confirm",
              "position": 1, "link_id": 1,
              "event_id": 1, "rest": "tidak-ada"}
    return txn, values, note


def concrete(route, values, note):
    import re

    def fill(match):
        name = match.group(2)
        if name == "pk" and route.startswith("notifikasi/"):
            return str(note.pk)
        return str(values[name])
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


def test_every_private_page_needs_a_login(client, world):
    _, values, note = world
    checked = 0
    for route, name in routes():
        if name in PUBLIC:
            continue
        url = concrete(route, values, note)
        if route.startswith(API_PREFIX):
            assert_api_needs_its_key(client, url, route)
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (302, 404, 405), (url, method, response.status_code)
            if response.status_code == 302:
                assert "/akun/masuk/" in response["Location"], (url, response["Location"])
        checked += 1
    assert checked >= 15


def test_other_peoples_things_are_404(client, world, stranger):
    _, values, note = world
    client.force_login(stranger)
    for route, name in routes():
        if name in PUBLIC or not any(key in route for key in ("<str:reference>", "<int:pk>")):
            continue
        url = concrete(route, values, note)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), (url, method, response.status_code)


def test_state_changing_forms_need_the_csrf_token(world, seller):
    _, values, note = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(seller)
    refused = 0
    for route, name in routes():
        if name in WEBHOOKS:
            continue
        url = concrete(route, values, note)
        if route.startswith(API_PREFIX):
            assert_api_needs_its_key(client, url, route)  # the seller's session opens nothing there
            continue
        response = client.post(url, {"reason": "x"})
        if response.status_code == 405:
            continue
        assert response.status_code == 403, (url, response.status_code)
        refused += 1
    assert refused >= 10


def test_admin_needs_staff(client, world):
    assert client.get("/admin/").status_code == 302
    client.force_login(UserFactory(email="biasa@example.co.id"))
    response = client.get("/admin/transactions/escrowtransaction/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_webhooks_refuse_requests_without_signatures(client):
    assert client.post("/pembayaran/faspay/notifikasi/", data="{}", content_type="application/json").status_code == 400
    assert client.post("/pencairan/sendme/callback/", data="{}", content_type="application/json").status_code == 401
