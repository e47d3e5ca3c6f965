"""The seller links their account on an INTRASA page (login required, partner and scopes shown,
approve or deny, revocable); the partner trades the single-use code for a link id."""
import datetime as dt
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from partners.models import AuthorizationCode, SellerLink
from tests.partners.conftest import make_partner

CALLBACK = "https://forum.example/callback"


@pytest.fixture
def partner(db, allow_private):
    partner, _secret, _key, raw, _staff = make_partner()
    partner.raw_key = raw
    return partner


def authorize_url(partner, **overrides):
    params = {"client_id": partner.client_id, "redirect_uri": CALLBACK, "scope": "transactions:read transactions:write",
              "state": "xyz-123", **overrides}
    return f"/mitra/otorisasi/?{urlencode(params)}"


def approve(client, partner, **overrides):
    params = {"client_id": partner.client_id, "redirect_uri": CALLBACK, "scope": "transactions:read transactions:write",
              "state": "xyz-123", "decision": "approve", **overrides}
    return client.post("/mitra/otorisasi/", params)


def exchange(client, partner, code, key="ex-1", redirect_uri=CALLBACK):
    return client.post("/api/v1/links/exchange", data=json.dumps({"code": code, "redirect_uri": redirect_uri}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {partner.raw_key}",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_the_consent_page_needs_a_login(client, partner):
    response = client.get(authorize_url(partner))
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


def test_the_page_shows_the_partner_and_what_it_may_do(client, partner, seller, in_english):
    client.force_login(seller)
    response = client.get(authorize_url(partner))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Forum Jual Beli" in page and "Create transactions in your name" in page
    assert "never sees your password" in page
    # The answer redirects to the partner: this page's form-action allows its origin, and only this page.
    assert "form-action 'self' https://forum.example" in response["Content-Security-Policy"]


def test_approval_returns_a_code_and_the_state_and_the_partner_exchanges_it_once(client, partner, seller):
    client.force_login(seller)
    response = approve(client, partner)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["xyz-123"]
    code = query["code"][0]
    assert not AuthorizationCode.objects.filter(code_hash=code).exists()  # stored as a digest only

    api = exchange(client, partner, code)
    assert api.status_code == 200, api.content
    link = SellerLink.objects.get(user=seller, partner=partner)
    assert api.json()["link_id"] == str(link.public_id)
    assert api.json()["seller_name"] == seller.full_name
    assert "password" not in api.content.decode()

    again = exchange(client, partner, code, key="ex-2")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_grant"


def test_an_expired_code_or_another_redirect_uri_is_refused(client, partner, seller):
    client.force_login(seller)
    code = parse_qs(urlsplit(approve(client, partner)["Location"]).query)["code"][0]
    assert exchange(client, partner, code, redirect_uri="https://evil.example/cb").status_code == 400
    AuthorizationCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert exchange(client, partner, code, key="ex-2").json()["error"]["code"] == "invalid_grant"


def test_another_partner_cannot_use_the_code(client, partner, seller):
    other, _secret, _key, raw, _staff = make_partner(name="Pasar Lain")
    client.force_login(seller)
    code = parse_qs(urlsplit(approve(client, partner)["Location"]).query)["code"][0]
    other.raw_key = raw
    assert exchange(client, other, code).status_code == 400


def test_denial_returns_access_denied_and_links_nothing(client, partner, seller):
    client.force_login(seller)
    response = approve(client, partner, decision="deny")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz-123"]}
    assert not SellerLink.objects.exists()


@pytest.mark.parametrize("overrides", [{"client_id": "pc_unknown"}, {"redirect_uri": "https://evil.example/cb"},
                                       {"redirect_uri": CALLBACK + "/extra"}, {"scope": "money:move"}, {"scope": ""}])
def test_a_bad_request_gets_an_error_page_and_never_a_redirect(client, partner, seller, overrides):
    client.force_login(seller)
    assert client.get(authorize_url(partner, **overrides)).status_code == 400
    response = approve(client, partner, **overrides)
    assert response.status_code == 400
    assert not SellerLink.objects.exists()


def test_approving_twice_keeps_one_link(client, partner, seller):
    client.force_login(seller)
    approve(client, partner)
    approve(client, partner, scope="transactions:read")
    link = SellerLink.objects.get(user=seller, partner=partner)
    assert link.scopes == ["transactions:read"]


def test_the_seller_revokes_the_link_from_their_profile(client, partner, seller, stranger):
    client.force_login(seller)
    approve(client, partner)
    link = SellerLink.objects.get(user=seller)
    assert 'href="/mitra/tautan/"' in client.get("/akun/profil/").content.decode()
    assert "Forum Jual Beli" in client.get("/mitra/tautan/").content.decode()

    client.force_login(stranger)
    client.post(f"/mitra/tautan/{link.pk}/cabut/")
    assert SellerLink.objects.get(pk=link.pk).revoked_at is None  # not theirs

    client.force_login(seller)
    response = client.post(f"/mitra/tautan/{link.pk}/cabut/")
    assert response.status_code == 302
    assert SellerLink.objects.get(pk=link.pk).revoked_at is not None
    assert client.post("/mitra/tautan/999999/cabut/").status_code == 302  # unknown: a message, not a 500


def test_a_code_of_a_seller_whose_account_was_disabled_since_is_refused(client, partner, seller):
    """Staff disabled the account (or it was erased) within the code's two minutes: the partner gets no
    link id and no name, as ``_live_link`` gives such a seller's link no more orders."""
    client.force_login(seller)
    code = parse_qs(urlsplit(approve(client, partner)["Location"]).query)["code"][0]
    type(seller).objects.filter(pk=seller.pk).update(is_active=False)
    api = exchange(client, partner, code)
    assert api.status_code == 400 and api.json()["error"]["code"] == "invalid_grant"
    assert seller.full_name not in api.content.decode()
