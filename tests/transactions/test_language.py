"""Bahasa Indonesia by default; English for people who chose it."""
import pytest
from django.urls import reverse

from tests import scenarios

pytestmark = pytest.mark.django_db


def test_default_language_is_indonesian(client, seller, buyer):
    client.force_login(seller)
    txn = scenarios.create(seller, buyer)
    html = client.get(reverse("transactions:detail", args=[txn.reference])).content.decode()
    assert 'lang="id"' in html
    # Before the buyer accepts, the transaction waits for the buyer, not for a payment (issue 17).
    assert "Menunggu persetujuan pembeli" in html and "Menunggu pembayaran" not in html
    scenarios.advance(txn, buyer, "created")  # accepted, not paid yet
    html = client.get(reverse("transactions:detail", args=[txn.reference])).content.decode()
    assert "Menunggu pembayaran" in html  # Status.CREATED in Indonesian


def test_form_errors_in_indonesian(client, seller):
    client.force_login(seller)
    response = client.post(reverse("transactions:create"), {"price": "USD 100"})
    assert "Rupiah" in response.content.decode()
    assert "Only Rupiah amounts" not in response.content.decode()
