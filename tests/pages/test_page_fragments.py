"""Pieces of pages rendered once per language and process (``intrasa/templatetags/fragments.py``):
the same HTML as rendering them each time, in the language of each request, never anyone's data;
and the pages around them still show every transition at once."""
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from escrow import services as escrow_services
from intrasa.templatetags import fragments
from tests import scenarios
from transactions import services
from transactions.models import EscrowTransaction, Status

pytestmark = pytest.mark.django_db


def no_token(html: str) -> str:
    """The page without its CSRF token (a new one in every answer)."""
    return re.sub(r'value="[A-Za-z0-9]{32,}"', "", html)


def _in(language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_each_language_gets_its_own_header_and_footer(settings):
    settings.DEBUG = False
    fragments._rendered.clear()
    first_id = _in("id").get(reverse("home")).content.decode()
    english = _in("en").get(reverse("home")).content.decode()
    again_id = _in("id").get(reverse("home")).content.decode()
    assert "Cek transaksi" in first_id and "Kebijakan pengembalian dana" in first_id and "Masuk" in first_id
    assert "Check a transaction" in english and "Refund policy" in english and "Log in" in english
    assert "Refund policy" not in again_id and "Log in" not in again_id
    assert no_token(again_id) == no_token(first_id)  # reused, and the same as when it was rendered
    # The language switch, kept per language too, marks the reader's language.
    assert '<option value="id" selected>' in again_id and '<option value="en" selected>' not in again_id
    assert '<option value="en" selected>' in english and '<option value="id" selected>' not in english


def test_the_reused_pieces_are_what_rendering_them_gives(settings):
    """The page with the pieces kept is byte for byte the page rendered from scratch, apart from
    the CSRF token."""
    settings.DEBUG = False
    fragments._rendered.clear()
    _in("id").get(reverse("pages:fees"))
    assert fragments._rendered
    kept = _in("id").get(reverse("pages:fees")).content.decode()
    fragments._rendered.clear()
    fresh = _in("id").get(reverse("pages:fees")).content.decode()

    assert no_token(kept) == no_token(fresh)


def test_logged_in_and_logged_out_navigation_stay_apart(settings, seller):
    settings.DEBUG = False
    fragments._rendered.clear()
    anonymous = _in("id").get(reverse("home")).content.decode()
    member = _in("id")
    member.force_login(seller)
    mine = member.get(reverse("home")).content.decode()
    assert reverse("accounts:login") in anonymous and reverse("transactions:dashboard") not in anonymous
    assert reverse("transactions:dashboard") in mine and reverse("accounts:signup") not in mine
    assert seller.email not in _in("id").get(reverse("home")).content.decode()


def test_every_transition_shows_at_once_on_the_transaction_page_and_cek_transaksi(settings, seller, buyer):
    """After each step of the lifecycle, the next request of the seller's page and of Cek Transaksi
    (in both languages) shows the new status: nothing cached hides a transition."""
    from tests.disbursements.conftest import verified_bank

    settings.DEBUG = False
    fragments._rendered.clear()
    verified_bank(seller)
    pages = {"seller": _in("id"), "public": _in("id"), "public_en": _in("en")}
    pages["seller"].force_login(seller)
    txn = scenarios.create(seller, buyer)

    def shown(txn):
        txn = EscrowTransaction.objects.get(pk=txn.pk)
        detail = pages["seller"].get(reverse("transactions:detail", args=[txn.reference])).content.decode()
        public = {language: pages[key].get(reverse("pages:check_transaction"), {"reference": txn.reference})
                  .content.decode() for key, language in (("public", "id"), ("public_en", "en"))}
        with translation.override("id"):
            label = txn.status_label
        assert f'status-{txn.status}" data-testid="status">{label}<' in public["id"], txn.status
        assert f'status-{txn.status}" data-testid="status">' in public["en"]
        assert f"status-{txn.status}" in detail or txn.status_label in detail, txn.status
        for html in public.values():  # no personal data on Cek Transaksi
            assert seller.email not in html and buyer.email not in html and seller.full_name not in html
        return txn

    txn = shown(txn)
    txn = shown(services.transaction_accept(escrow_transaction=txn, buyer=buyer))
    txn = shown(scenarios.mark_paid(txn, buyer))
    txn = shown(scenarios.pay_by_transfer(txn, buyer))
    txn = shown(services.transaction_ship(escrow_transaction=txn, seller=seller, courier="jne",
                                          tracking_number="JNE0012345678"))
    txn = shown(escrow_services.escrow_confirm(escrow_transaction=txn, buyer=buyer))
    assert txn.status == Status.CONFIRMED


def test_the_logged_in_navigation_keeps_each_readers_badge_and_logout_token(settings, seller, buyer):
    """The logged-in links are kept per language; the unread count and the logout form's CSRF token
    inside the navigation are still each reader's own, on every request."""
    from notifications.models import Notification

    settings.DEBUG = False
    fragments._rendered.clear()
    for n in range(3):
        Notification.objects.create(event_key=f"nav-{n}", kind="confirmed_buyer", recipient=buyer,
                                    email=buyer.email, subject="s", body="b")
    pages = {}
    for user in (seller, buyer, seller):
        client = Client(enforce_csrf_checks=True)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
        client.force_login(user)
        pages[user.pk] = (client, client.get(reverse("transactions:dashboard")).content.decode())
    assert fragments._rendered  # the second seller page reused the fragments
    seller_page, buyer_page = pages[seller.pk][1], pages[buyer.pk][1]
    assert 'data-testid="unread-count">3<' in buyer_page and 'data-testid="unread-count"' not in seller_page
    assert reverse("notifications:list") in seller_page and "Keluar" in seller_page

    client, page = pages[buyer.pk]
    token = re.search(r'action="{}" class="inline"><input type="hidden" name="csrfmiddlewaretoken" '
                      r'value="([^"]+)"'.format(re.escape(reverse("accounts:logout"))), page).group(1)
    assert client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert "_auth_user_id" not in client.session
