"""Attacks on payment links that must keep failing (hostile review of issue 20): a forged "Buy"
from another site, the seller buying from their own link, what an anonymous visitor learns about
the seller, and tokens that are not a link's."""
import pytest
from django.test import Client
from django.urls import reverse

from paylinks.models import PaymentLink
from tests.paylinks.test_payment_links import make_link
from transactions.models import EscrowTransaction


@pytest.mark.django_db
def test_buy_cannot_be_forged_from_another_site(seller, buyer):
    """Pressing Buy commits the buyer to the terms: a cross-site POST must not do it for them."""
    link = make_link(seller)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(buyer)
    assert browser.post(link.get_absolute_url()).status_code == 403
    assert not EscrowTransaction.objects.exists()
    browser.get(link.get_absolute_url())
    token = browser.cookies["csrftoken"].value
    assert browser.post(link.get_absolute_url(), {"csrfmiddlewaretoken": token}).status_code == 302
    assert EscrowTransaction.objects.get().buyer == buyer


@pytest.mark.django_db
def test_the_seller_pressing_buy_on_their_own_link_starts_nothing(client, seller):
    link = make_link(seller)
    client.force_login(seller)
    response = client.post(link.get_absolute_url(), follow=True)
    assert response.status_code == 200 and not EscrowTransaction.objects.exists()
    assert reverse("paylinks:manage", args=[link.token]) in response.content.decode()


@pytest.mark.django_db
def test_an_anonymous_visitor_sees_the_sellers_name_and_nothing_else_about_them(client, seller):
    link = make_link(seller)
    for status in ("active", "paused", "closed"):
        PaymentLink.objects.filter(pk=link.pk).update(status=status)
        page = client.get(link.get_absolute_url()).content.decode()
        assert seller.full_name in page
        for private in (seller.email, seller.phone, seller.phone[-8:]):
            assert private not in page, (status, private)
        assert "akun/profil" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["TIDAK-ADA", "a" * 33, "..", "%2e%2e", "baru%2F", "<script>", "%00"])
def test_a_token_that_is_no_links_is_a_4xx(client, seller, token):
    link = make_link(seller)
    for suffix in ("", "qr.png"):
        assert 400 <= client.get(f"/tautan/{token}/{suffix}").status_code < 500
    # Tokens are case-sensitive: the upper-case spelling of a real token is no link.
    assert client.get(f"/tautan/{link.token.swapcase()}/").status_code == 404
