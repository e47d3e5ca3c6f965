"""The public payment-link page and its QR code within the public budgets (intrasa.ratelimit): tokens
cannot be found by trying — an address that used up Cek Transaksi's "unknown" budget on tokens that are
no link's is refused even for a right one — and QR images, drawn on request, are limited per address."""
import pytest
from django.conf import settings
from django.urls import reverse

from intrasa import ratelimit
from tests.paylinks.test_payment_links import make_link

pytestmark = pytest.mark.django_db


def test_guessing_tokens_uses_up_the_unknown_budget_then_even_a_right_one_is_refused(client, seller):
    link = make_link(seller)
    for attempt in range(settings.PUBLIC_UNKNOWN_LOOKUP_LIMIT):
        assert client.get(f"/tautan/{'x' * 10}{attempt:06d}/").status_code == 404
    refused = client.get(f"/tautan/{'x' * 10}999999/")
    assert refused.status_code == 429
    assert ratelimit.PUBLIC_UNKNOWN.window - 5 <= int(refused["Retry-After"]) <= ratelimit.PUBLIC_UNKNOWN.window
    right = client.get(link.get_absolute_url())
    assert right.status_code == 429  # a lucky guess after many is not answered either
    body = right.content.decode()
    assert "Terlalu banyak permintaan dari koneksi Anda" in body and link.title not in body
    assert client.get(reverse("paylinks:qr_png", args=[link.token])).status_code == 429


def test_a_known_link_costs_nothing_from_the_budget(client, seller):
    link = make_link(seller)
    for _ in range(settings.PUBLIC_UNKNOWN_LOOKUP_LIMIT + 5):
        assert client.get(link.get_absolute_url()).status_code == 200
    assert not ratelimit.PUBLIC_UNKNOWN.exhausted("127.0.0.1")


def test_qr_images_are_limited_per_address_with_a_message_in_english_too(client, seller):
    link = make_link(seller)
    url = reverse("paylinks:qr_png", args=[link.token])
    for _ in range(ratelimit.PAYLINK_QR_IMAGES.limit):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
    client.cookies["django_language"] = "en"
    refused = client.get(url)
    assert refused.status_code == 429 and "Too many requests from your connection" in refused.content.decode()
    assert ratelimit.PAYLINK_QR_IMAGES.window - 5 <= int(refused["Retry-After"]) <= ratelimit.PAYLINK_QR_IMAGES.window
