"""The seller's consent decides what a partner may read (the consent page: "transactions:read — see the status
and timeline of the transactions it created for you"). Found by a hostile review: only the API key's scope
was checked, so a partner the seller allowed to create transactions but not to read them still read every
transaction, its timeline and its links, and listed them."""
import pytest

from partners import services
from partners.models import LINK_SCOPES, SCOPE_TRANSACTIONS_WRITE
from tests.partners.conftest import post_json, terms

pytestmark = pytest.mark.django_db


def created_then_read_withdrawn(client, setup, seller) -> str:
    response = post_json(client, "/api/v1/transactions", terms(setup), setup, key="k-1")
    assert response.status_code == 201, response.content
    services.link_approve(partner=setup.partner, user=seller, scopes=[SCOPE_TRANSACTIONS_WRITE],
                          redirect_uri="https://forum.example/callback")
    return response.json()["reference"]


def get(client, setup, path):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {setup.raw_key}")


@pytest.mark.parametrize("suffix", ["", "/timeline", "/links"])
def test_without_the_sellers_read_consent_a_transaction_is_not_readable(client, setup, seller, suffix):
    reference = created_then_read_withdrawn(client, setup, seller)
    response = get(client, setup, f"/api/v1/transactions/{reference}{suffix}")
    error = response.json()["error"]
    assert response.status_code == 403 and error["code"] == "insufficient_scope"
    assert error["message"] == "Penjual tidak memberi mitra ini cakupan transactions:read."  # Indonesian by default


def test_the_list_leaves_out_what_the_seller_did_not_let_the_partner_read(client, setup, seller):
    created_then_read_withdrawn(client, setup, seller)
    assert get(client, setup, "/api/v1/transactions").json()["items"] == []
    services.link_approve(partner=setup.partner, user=seller, scopes=list(LINK_SCOPES),
                          redirect_uri="https://forum.example/callback")
    assert len(get(client, setup, "/api/v1/transactions").json()["items"]) == 1
