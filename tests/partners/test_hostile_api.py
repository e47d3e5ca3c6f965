"""Attacks on the partner API and the consent page that must keep failing (hostile review of
issue 20): where the key may come from, another partner's ids, the consent form's CSRF and
framing, idempotency keys reused across endpoints, the rate-limit headers on every refusal, and
bodies built to break the parser."""
import json
import uuid

import pytest
from django.test import Client

from partners.models import SellerLink, WebhookEvent
from tests.partners.conftest import Setup, link_seller, make_partner, post_json, terms
from transactions.models import EscrowTransaction, Status


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert b"Traceback" not in response.content


def other_partner(seller) -> Setup:
    partner, secret, key, raw, staff = make_partner(name="Pasar Lain")
    return Setup(partner=partner, key=key, raw_key=raw, secret=secret, link=link_seller(partner, seller), staff=staff)


def test_only_the_authorization_header_carries_a_key(client, setup, seller, staff_superuser):
    for query in (f"api_key={setup.raw_key}", f"access_token={setup.raw_key}", f"key={setup.raw_key}"):
        assert_error(client.get(f"/api/v1/transactions?{query}"), 401, "unauthorized")
    assert_error(client.get("/api/v1/transactions", HTTP_X_API_KEY=setup.raw_key), 401, "unauthorized")
    assert_error(client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Basic {setup.raw_key}"), 401, "unauthorized")
    # A signed-in session (the seller's, or staff's) is no key: the API ignores cookies.
    for person in (seller, staff_superuser):
        client.force_login(person)
        response = client.get("/api/v1/transactions")
        assert_error(response, 401, "unauthorized")
        assert response["WWW-Authenticate"] == "Bearer"
        assert_error(post_json(client, f"/api/v1/transactions/{'INT-AAAA-AAAA-AAAA'}/cancel", {"reason": "x"},
                               Setup(**{**setup.__dict__, "raw_key": "nope"})), 401, "unauthorized")


@pytest.fixture
def staff_superuser(db):
    from tests.factories import StaffFactory

    return StaffFactory(email="akar@intrasa.co.id", is_superuser=True)


def test_another_partners_events_links_and_cursors_are_unknown(client, setup, seller):
    for number in range(3):
        assert post_json(client, "/api/v1/transactions", terms(setup, external_id=f"t{number}"), setup,
                         key=f"k{number}").status_code == 201
    other = other_partner(seller)
    event = WebhookEvent.objects.filter(partner=setup.partner).first()
    reference = event.partner_transaction.escrow_transaction.reference
    assert_error(client.get(f"/api/v1/webhooks/events/{event.public_id}", **other.headers()), 404, "not_found")
    assert_error(post_json(client, f"/api/v1/webhooks/events/{event.public_id}/redeliver", {}, other), 404,
                 "not_found")
    assert_error(client.get(f"/api/v1/links/{setup.link.public_id}", **other.headers()), 404, "link_not_found")
    assert client.get(f"/api/v1/webhooks/events?reference={reference}", **other.headers()).json() == []
    # A cursor is only a position: another partner's cursor pages through that partner's own rows.
    cursor = client.get("/api/v1/transactions?limit=1", **setup.headers()).json()["next_cursor"]
    assert client.get(f"/api/v1/transactions?cursor={cursor}&status=created", **other.headers()).json() == {
        "items": [], "next_cursor": None}
    # A forged cursor with an id beyond bigint is refused or empty, never a 500.
    import base64

    forged = base64.urlsafe_b64encode(json.dumps(["2999-01-01T00:00:00+00:00", 10**30]).encode()).decode()
    assert client.get(f"/api/v1/transactions?cursor={forged}", **other.headers()).status_code in (200, 400)
    # Nor can it use another partner's link to sell for the seller.
    assert_error(post_json(client, "/api/v1/transactions", terms(other, link_id=str(setup.link.public_id)), other),
                 404, "link_not_found")


def test_an_idempotency_key_is_bound_to_one_request_across_endpoints(client, setup):
    created = post_json(client, "/api/v1/transactions", terms(setup), setup, key="shared")
    reference = created.json()["reference"]
    assert_error(post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "x"}, setup, key="shared"),
                 422, "idempotency_key_reused")
    assert EscrowTransaction.objects.get().status == Status.CREATED  # the reuse did nothing
    assert post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "x"}, setup,
                     key="c").status_code == 200
    assert_error(post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "other reason"}, setup,
                           key="c"), 422, "idempotency_key_reused")
    replay = post_json(client, f"/api/v1/transactions/{reference}/cancel", {"reason": "x"}, setup, key="c")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"


def test_every_refusal_of_a_known_key_carries_the_rate_limit_headers(client, setup):
    from intrasa.ratelimit import PARTNER_API
    from partners import services
    _key, read_only = services.api_key_issue(partner=setup.partner, actor=setup.staff, reason="x",
                                             scopes=["transactions:read"])
    answers = [
        client.post("/api/v1/transactions", data=json.dumps(terms(setup)), content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY="a", HTTP_AUTHORIZATION=f"Bearer {read_only}"),  # 403
        client.get("/api/v1/transactions/INT-AAAA-AAAA-AAAA", **setup.headers()),  # 404
        post_json(client, "/api/v1/transactions", {"title": 5}, setup),  # 422
        client.post("/api/v1/transactions", data=b"{", content_type="application/json", HTTP_IDEMPOTENCY_KEY="b",
                    **setup.headers()),  # 400
        post_json(client, "/api/v1/transactions", terms(setup), setup, key=None),  # 400, no Idempotency-Key
    ]
    assert [answer.status_code for answer in answers] == [403, 404, 422, 400, 400]
    remaining = [int(answer["RateLimit-Remaining"]) for answer in answers[1:]]
    assert remaining == [PARTNER_API.limit - n for n in range(1, 5)]  # per key, counted exactly
    assert answers[0]["RateLimit-Remaining"] == str(PARTNER_API.limit - 1)
    assert all(answer["RateLimit-Limit"] == str(PARTNER_API.limit) for answer in answers)


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the parser's recursion limit
    b'{"price": ' + b"9" * 5000 + b"}",  # an integer longer than Python converts from text
    b'{"title": "' + b"a" * (3 * 1024 * 1024) + b'"}',  # over DATA_UPLOAD_MAX_MEMORY_SIZE
    b'{"title": "\\ud800"}',  # a lone surrogate
    b'{"title": "a\\u0000b"}',  # NUL inside a JSON string
], ids=["deep", "long_int", "3_mb", "surrogate", "nul"])
def test_parser_breaking_bodies_are_4xx_in_the_error_shape(client, setup, body):
    response = client.post("/api/v1/transactions", data=body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="h", **setup.headers())
    assert 400 <= response.status_code < 500, response.content[:300]
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not EscrowTransaction.objects.exists()


def consent(partner, **extra):
    return {"client_id": partner.client_id, "redirect_uri": "https://forum.example/callback",
            "scope": "transactions:read transactions:write", **extra}


def test_the_consent_form_is_csrf_protected_and_cannot_be_framed(setup, seller):
    SellerLink.objects.all().delete()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seller)
    # A forum page that auto-submits "approve" for a signed-in seller: refused, nothing linked.
    forged = browser.post("/mitra/otorisasi/", consent(setup.partner, decision="approve"))
    assert forged.status_code == 403 and "Location" not in forged and not SellerLink.objects.exists()
    page = browser.get("/mitra/otorisasi/", consent(setup.partner, state='"><script>alert(1)</script>'))
    assert page.status_code == 200 and b"<script>alert(1)" not in page.content
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    token = browser.cookies["csrftoken"].value
    approved = browser.post("/mitra/otorisasi/", consent(setup.partner, decision="approve", state="s",
                                                           csrfmiddlewaretoken=token))
    assert approved.status_code == 302 and approved["Location"].startswith("https://forum.example/callback?code=")


@pytest.mark.parametrize("redirect_uri", [
    "https://forum.example/callback/../evil", "https://forum.example/callback?next=https://evil.example",
    "https://forum.example/callback#x", "https://evil.example/callback", "//evil.example/callback",
    "https://forum.example/callback ", "HTTPS://FORUM.EXAMPLE/callback", "https://forum.example/callback\n",
    "https://forum.example.evil.example/callback", "https://forum.example@evil.example/callback",
    "javascript:alert(1)//https://forum.example/callback",
])
def test_only_the_exact_registered_redirect_uri_is_used(client, setup, seller, redirect_uri):
    client.force_login(seller)
    for method in (client.get, client.post):
        response = method("/mitra/otorisasi/", consent(setup.partner, redirect_uri=redirect_uri, decision="approve"))
        assert response.status_code == 400 and "Location" not in response


def test_a_code_is_useless_after_the_seller_revoked_the_link(client, setup, seller):
    from partners import services

    link, code = services.link_approve(partner=setup.partner, user=seller, scopes=["transactions:read"],
                                       redirect_uri="https://forum.example/callback")
    services.link_revoke(link_id=link.pk, user=seller)
    assert_error(post_json(client, "/api/v1/links/exchange",
                           {"code": code, "redirect_uri": "https://forum.example/callback"}, setup, key=str(uuid.uuid4())),
                 400, "invalid_grant")


@pytest.mark.parametrize("field", ["external_id", "title", "description", "buyer_email", "buyer_phone"])
def test_a_nul_in_any_text_field_is_a_422_naming_it(client, setup, field):
    """external_id reaches the database without a Django form: a NUL in it was a 500."""
    response = post_json(client, "/api/v1/transactions", terms(setup, **{field: "thread\x00123"}), setup)
    assert_error(response, 422, "invalid_request")
    assert field in {detail["field"] for detail in response.json()["error"]["details"]}
    assert not EscrowTransaction.objects.exists()
    for path, body in (("/api/v1/transactions/INT-AAAA-AAAA-AAAA/cancel", {"reason": "a\x00"}),
                       ("/api/v1/links/exchange", {"code": "c\x00", "redirect_uri": "https://forum.example/callback"})):
        assert_error(post_json(client, path, body, setup, key=f"{field}-{path}"), 422, "invalid_request")
