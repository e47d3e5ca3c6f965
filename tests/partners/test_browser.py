"""The docs page and the consent page in Debian's Chromium, under the site's Content-Security-Policy
(the ``people`` fixture fails the test on any CSP violation a page reports)."""
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from partners.models import SellerLink
from tests.browser.conftest import PHONE, browser, people  # noqa: F401 - fixtures
from tests.browser.test_journeys import login_cookie
from tests.partners.conftest import make_partner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_renders_from_local_assets_without_csp_violations(people):
    reader = people("developer", "en")
    requested = []
    reader.page.on("request", lambda request: requested.append(request.url))
    reader.page.goto("/api/v1/docs")
    reader.page.wait_for_selector(".opblock", timeout=20_000)
    assert reader.page.locator(".opblock-summary-path", has_text="/api/v1/transactions").count() >= 1
    assert reader.page.get_by_text("INTRASA Partner API").first.is_visible()
    assert all(urlsplit(url).netloc == urlsplit(reader.base_url).netloc for url in requested
               if url.startswith("http")), requested
    reader.shot("docs")


def test_a_seller_links_the_forum_on_a_phone(people, seller, settings):
    settings.PARTNER_WEBHOOK_ALLOW_PRIVATE = True
    partner = make_partner()[0]
    person = people("seller", "id", viewport=PHONE)
    person.context.add_cookies(login_cookie(seller, person))
    landed = []

    def forum(route):  # the forum's callback: record where the browser was sent
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Terima kasih</p>")

    person.page.route("https://forum.example/**", forum)
    query = urlencode({"client_id": partner.client_id, "redirect_uri": "https://forum.example/callback",
                       "scope": "transactions:read transactions:write", "state": "s-1"})
    person.page.goto(f"/mitra/otorisasi/?{query}")
    assert person.page.get_by_text("Forum Jual Beli").first.is_visible()
    assert person.page.get_by_test_id("consent-scopes").locator("li").count() == 2
    person.shot("consent")
    person.page.get_by_test_id("consent-approve").click()
    person.page.wait_for_url("https://forum.example/**")
    params = parse_qs(urlsplit(landed[0]).query)
    assert params["state"] == ["s-1"] and params["code"][0]
    assert SellerLink.objects.filter(user=seller, partner=partner, revoked_at__isnull=True).exists()

    person.page.goto("/mitra/tautan/")
    person.shot("links")
    person.page.get_by_test_id("link-revoke").click()
    person.page.wait_for_load_state()
    assert SellerLink.objects.get(user=seller).revoked_at is not None
