"""A NUL character anywhere a visitor controls must be a 4xx, never a 500.

PostgreSQL text cannot hold or be compared with NUL: before ``intrasa.middleware.RefuseNulMiddleware``
every ``<str:…>`` URL parameter of the site (``/transaksi/%00/``, ``/tautan/%00/``,
``/termin/%00/``, ``/pembayaran/%00/``, ``/sengketa/%00/``…), a query parameter such as the
consent page's ``client_id`` and an API key in the Authorization header answered 500."""
import re

import pytest
from django.urls import URLResolver, get_resolver

from partners import services as partner_services
from partners.models import KEY_SCOPES
from tests.factories import StaffFactory


def _patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _addresses_with_text_parameters() -> list[str]:
    addresses = []
    for pattern in _patterns(get_resolver()):
        if not re.search(r"<(str|slug|path):\w+>", pattern):
            continue
        address = re.sub(r"<(str|slug|path):\w+>", "%00", pattern)
        addresses.append("/" + re.sub(r"<int:\w+>", "1", address).lstrip("^").removesuffix("\\Z"))
    return addresses


def test_a_nul_in_any_text_parameter_of_any_address_is_refused(client, seller):
    addresses = _addresses_with_text_parameters()
    assert {"/transaksi/%00/", "/tautan/%00/", "/tautan/%00/kelola/", "/pembayaran/%00/"} <= set(addresses)
    client.force_login(seller)
    failures = []
    for address in addresses:
        for method in (client.get, client.post):
            response = method(address)
            if response.status_code >= 500:
                failures.append((method.__name__, address, response.status_code))
    assert failures == []
    assert client.get("/transaksi/%00/").status_code == 400


@pytest.mark.parametrize("query", ["client_id=%00", "client_id=pc_1&redirect_uri=%00&scope=%00", "reference=%00"])
def test_a_nul_in_a_query_parameter_is_400(client, seller, query):
    client.force_login(seller)
    assert client.get(f"/mitra/otorisasi/?{query}").status_code == 400
    assert client.get(f"/cek-transaksi/?{query}").status_code == 400


def test_a_nul_in_a_cookie_is_400(client):
    client.cookies["sessionid"] = "abcdefgh\x00ijk"
    assert client.get("/").status_code == 400


def test_a_nul_in_the_consent_form_is_an_error_page_not_a_500(client, seller):
    client.force_login(seller)
    response = client.post("/mitra/otorisasi/", {"client_id": "pc_\x00", "decision": "approve",
                                                  "redirect_uri": "https://forum.example/callback",
                                                  "scope": "transactions:read"})
    assert response.status_code == 400 and "Location" not in response


@pytest.mark.django_db
def test_the_partner_api_answers_a_nul_in_its_own_error_shape(client):
    staff = StaffFactory(email="staf-nul@intrasa.co.id")
    partner, _secret = partner_services.partner_register(actor=staff, reason="uji", name="Forum",
                                                         redirect_uris="https://forum.example/callback")
    key, raw = partner_services.api_key_issue(partner=partner, actor=staff, reason="uji", scopes=list(KEY_SCOPES))
    for header in (f"Bearer {raw}\x00", f"Bearer intrasa_{key.prefix}\x00_x", "Bearer intrasa_\x00_x"):
        response = client.get("/api/v1/transactions", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    for address in ("/api/v1/transactions/%00", "/api/v1/transactions?cursor=%00"):
        response = client.get(address, HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_request"
    assert client.get("/api/v1/transactions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
