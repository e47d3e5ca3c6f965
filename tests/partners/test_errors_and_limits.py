"""One error shape, never a 500 for bad input; rate limits per key with the standard headers; the
OpenAPI schema and its docs page."""
import json

import pytest

from partners import services
from partners.models import KEY_SCOPES
from tests.partners.conftest import post_json, terms


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    assert all(set(detail) == {"field", "message"} for detail in error["details"])
    if code:
        assert error["code"] == code


HOSTILE_BODIES = [
    b"{", b"not json", b"\xff\xfe\x00", b'{"title": "a"' + b" " * 10, b"null", b"[]", b"123", b'"string"',
    b'{"link_id": "not-a-uuid"}', b'{"link_id": 5, "price": "750000"}', b'{"price": 1e400}',
    b'{"price": 99999999999999999999999999999999}', b'{"price": true}', b'{"price": 7.5}',
    b'{"category": ["digital"]}', b'{"title": {"$gt": ""}}', b'{"unknown_field": 1}',
    json.dumps({"title": "x" * 100_000}).encode(), b'{"__proto__": {"admin": true}}',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_bodies_get_a_clear_4xx(client, setup, body):
    response = client.post("/api/v1/transactions", data=body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="h-1", **setup.headers())
    assert 400 <= response.status_code < 500
    assert_error_shape(response, response.status_code)


def test_wrong_types_name_the_field(client, setup):
    response = post_json(client, "/api/v1/transactions", terms(setup, price="750000", accepts_returns="yes"), setup)
    assert_error_shape(response, 422, "invalid_request")
    assert {"price", "accepts_returns"} <= {detail["field"] for detail in response.json()["error"]["details"]}


@pytest.mark.parametrize("path", ["/api/v1/transactions/INT-XXXX-XXXX-XXXX", "/api/v1/transactions/%00",
                                  "/api/v1/transactions/" + "A" * 500, "/api/v1/links/123",
                                  "/api/v1/links/00000000-0000-0000-0000-000000000000",
                                  "/api/v1/webhooks/events/nope", "/api/v1/no-such-endpoint",
                                  "/api/v1/transactions?limit=1000", "/api/v1/transactions?limit=abc",
                                  "/api/v1/transactions?created_after=yesterday"])
def test_unknown_ids_and_bad_parameters_are_4xx(client, setup, path):
    response = client.get(path, **setup.headers())
    assert 400 <= response.status_code < 500
    assert_error_shape(response, response.status_code)


@pytest.mark.parametrize("key", [None, "", "ключ", "x" * 256, "tab\tkey"])
def test_every_post_needs_a_sane_idempotency_key(client, setup, key):
    response = post_json(client, "/api/v1/transactions", terms(setup), setup, key=key)
    assert_error_shape(response, 400, "idempotency_key_required")


def test_messages_follow_accept_language(client, setup):
    english = client.get("/api/v1/transactions/INT-XXXX-XXXX-XXXX", HTTP_ACCEPT_LANGUAGE="en", **setup.headers())
    assert english.json()["error"]["message"] == "No transaction of this partner has that reference."


def test_rate_limit_headers_and_429(client, setup, settings):
    from intrasa.ratelimit import PARTNER_API

    response = client.get("/api/v1/transactions", **setup.headers())
    assert response["RateLimit-Limit"] == str(PARTNER_API.limit)
    assert int(response["RateLimit-Remaining"]) == PARTNER_API.limit - 1
    assert 1 <= int(response["RateLimit-Reset"]) <= 60
    for _ in range(PARTNER_API.limit - 1):
        last = client.get("/api/v1/transactions", **setup.headers())
    assert last.status_code == 200 and last["RateLimit-Remaining"] == "0"
    refused = client.get("/api/v1/transactions", **setup.headers())
    assert_error_shape(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60 and refused["RateLimit-Remaining"] == "0"
    # Per key: another key of the same partner has its own budget.
    _key, raw = services.api_key_issue(partner=setup.partner, actor=setup.staff, reason="x", scopes=list(KEY_SCOPES))
    assert client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_the_openapi_schema_is_served_and_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.") and schema["info"]["title"] == "INTRASA Partner API"
    paths = schema["paths"]
    for path in ("/api/v1/transactions", "/api/v1/transactions/{reference}", "/api/v1/transactions/{reference}/cancel",
                 "/api/v1/transactions/{reference}/timeline", "/api/v1/transactions/{reference}/links",
                 "/api/v1/links/exchange", "/api/v1/webhooks/events/{event_id}/redeliver"):
        assert path in paths, path
    create = paths["/api/v1/transactions"]["post"]
    assert "Idempotency-Key" in [parameter["name"] for parameter in create["parameters"]]
    assert {"201", "401", "403", "422", "429"} <= set(create["responses"])
    assert "ErrorOut" in schema["components"]["schemas"]
    assert "HMAC-SHA256" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"]
    from openapi_spec_validator import validate

    validate(schema)  # raises on any violation of the OpenAPI specification


def test_the_docs_page_uses_local_assets_under_the_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "unsafe-inline" not in policy


def test_a_method_the_endpoint_does_not_take_is_405_in_the_same_shape(client, setup):
    response = client.get("/api/v1/links/exchange", **setup.headers())
    assert_error_shape(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    assert_error_shape(client.delete("/api/v1/transactions", **setup.headers()), 405, "method_not_allowed")


def _json_values():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=10), inner, max_size=3), max_leaves=6)


def test_random_values_in_every_field_never_answer_500(client, setup):
    """Any JSON value in any field of a create: a 201 or a 4xx in the error shape, never a 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    fields = ["link_id", "title", "description", "category", "price", "shipping_cost", "fee_payer", "inspection_days",
              "shipping_days", "buyer_email", "buyer_phone", "accepts_returns", "restocking_fee_percent",
              "is_licence_or_voucher", "external_id"]
    counter = iter(range(10**6))

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(fields), _json_values(), max_size=4))
    def check(changes):
        response = post_json(client, "/api/v1/transactions", {**terms(setup), **changes}, setup,
                             key=f"fuzz-{next(counter)}")
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert_error_shape(response, response.status_code)

    check()
