"""The personal-data pages in a real browser at phone size: no sideways scrolling, in both languages,
and an erasure from the confirmation to the logged-out home page."""
import pytest

from privacy.models import ErasureRecord
from tests.factories import UserFactory

from .conftest import SHOTS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "Kata-Sandi-Kuat-2026!"
PHONE = {"width": 360, "height": 740}


def phone(browser, live_server, language):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True,
                                  locale="id-ID" if language == "id" else "en-US")
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone"


@pytest.mark.parametrize("language", ["id", pytest.param("en", marks=pytest.mark.long)])
def test_privacy_pages_fit_a_phone(browser, live_server, language):
    UserFactory(email="hp@example.co.id", full_name="Pengguna Ponsel", password=PASSWORD)
    context, page = phone(browser, live_server, language)
    shots = SHOTS / f"privacy-{language}"
    shots.mkdir(parents=True, exist_ok=True)
    page.goto("/privasi/")
    assert page.locator("[data-rule=transaction_records]").is_visible()
    no_sideways_scroll(page)
    page.screenshot(path=str(shots / "01-notice.png"), full_page=True)

    page.goto("/akun/masuk/?next=/privasi/data-saya/")
    page.fill("#id_username", "hp@example.co.id")
    page.fill("#id_password", PASSWORD)
    page.click("form[action*='/akun/masuk/'] button[type=submit]")
    page.wait_for_url("**/privasi/data-saya/")
    no_sideways_scroll(page)
    page.click("[data-testid=export-request]")
    page.wait_for_selector("[data-testid=export-download]")  # tasks run eagerly in the test server
    page.screenshot(path=str(shots / "02-my-data.png"), full_page=True)

    page.goto("/privasi/hapus-akun/")
    no_sideways_scroll(page)
    page.screenshot(path=str(shots / "03-erase.png"), full_page=True)
    page.fill("#id_password", PASSWORD)
    page.check("#id_confirm")
    page.click("[data-testid=erase-confirm]")
    page.wait_for_url(live_server.url + "/")
    assert "hp@example.co.id" in page.inner_text(".messages")
    assert ErasureRecord.objects.count() == 1
    context.close()
