"""Browser journeys: Playwright drives Debian's Chromium (headless) against the live server.

Screenshots of key pages are saved under ``test-results/screenshots/<test>/``.
"""
import os
import re
from pathlib import Path

import pytest

from tests.disbursements.conftest import sendme  # noqa: F401 - SendMe sandbox on the live server
from tests.payments.conftest import faspay  # noqa: F401 - Debit sandbox on the live server
from tests.sandbox_control import operator_auth

ROOT = Path(__file__).resolve().parent.parent.parent
SHOTS = ROOT / "test-results" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser(monkeypatch):
    """One Chromium per test. Playwright's sync API keeps an asyncio loop running in this thread
    while it is started; Django's connection handler is context-local under a running loop, so a
    session-wide Playwright would hide the test database's serialized rows from later tests."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes in
    # between are plain synchronous calls, which Django would otherwise refuse there.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Reported by every page to its console: the page's Content-Security-Policy blocked something.
# Playwright injects init scripts through DevTools, so the CSP does not block this one.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline")
                + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


class Person:
    """One browser context (cookies) with screenshots named in order. Every Content-Security-Policy
    violation a page reports is collected in ``csp_violations`` (the ``people`` fixture fails the
    test on any)."""

    def __init__(self, browser, base_url, language, shots_dir, name, viewport=None):
        # The sandbox's payment page asks for its operator's credentials (DEBUG is off in tests).
        username, password = operator_auth()
        self.context = browser.new_context(base_url=base_url, locale="id-ID" if language == "id" else "en-US",
                                           viewport=viewport or DESKTOP, is_mobile=viewport == PHONE,
                                           has_touch=viewport == PHONE,
                                           http_credentials={"username": username, "password": password,
                                                             "origin": base_url})
        self.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        self.context.add_init_script(REPORT_CSP_VIOLATIONS)
        self.csp_violations = []
        self.context.on("console", self._console)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.base_url = base_url
        self.language = language
        self.shots_dir = shots_dir
        self.name = name

    def _console(self, message):
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp_violations.append(f"{message.page.url if message.page else '?'}: {text}")

    def shot(self, label):
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        index = len(list(self.shots_dir.glob("*.png"))) + 1
        self.page.screenshot(path=str(self.shots_dir / f"{index:02d}-{self.name}-{label}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def people(browser, live_server, request):
    """``people("seller", "id")`` opens a fresh browser context for one person."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    opened = []

    def open_person(name, language, viewport=None):
        person = Person(browser, live_server.url, language, SHOTS / test_name, name, viewport=viewport)
        opened.append(person)
        return person

    yield open_person
    violations = [violation for person in opened for violation in person.csp_violations]
    for person in opened:
        person.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


# --- What every page of the journeys must pass (issue 17) -------------------------------------

SERIOUS = ("serious", "critical")


def assert_fits_the_screen(person):
    """Nothing scrolls sideways: the page is no wider than the window (390 px on a phone)."""
    scroll_width, inner_width = person.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{person.page.url} scrolls sideways: {scroll_width} > {inner_width} px"


def assert_accessible(person):
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    violations = [v for v in Axe().run(person.page).response["violations"] if v["impact"] in SERIOUS]
    assert not violations, f"{person.page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in violations)


def assert_no_template_leftovers(person):
    """No template syntax reaches the reader (a multi-line ``{# #}`` is not a comment for Django)."""
    text = person.page.evaluate("document.documentElement.innerText")
    leftovers = [mark for mark in ("{#", "#}", "{%", "%}", "{{", "}}") if mark in text]
    assert not leftovers, f"{person.page.url} shows template syntax {leftovers}"


def check_page(person, label=None):
    """The checks every journey page passes, then its screenshot."""
    assert_no_template_leftovers(person)
    assert_fits_the_screen(person)
    assert_amounts_stay_whole(person)
    assert_accessible(person)
    if label:
        person.shot(label)


# Every text on the page (form fields' text included) where "Rp" is followed by an ordinary, breakable
# space: an amount written without the ``rupiah``/``money`` filter, which could wrap away from its digits.
BREAKABLE_AMOUNTS = r"""
(() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (/Rp[ \t\n]+[0-9]/.test(node.textContent)) found.push(node.textContent.trim().slice(0, 80));
  }
  document.querySelectorAll("input, textarea").forEach(function (field) {
    if (/Rp[ \t\n]+[0-9]/.test(field.value || "")) found.push((field.name || field.id) + ": " + field.value.slice(0, 80));
  });
  return found;
})()
"""


def assert_amounts_stay_whole(person):
    """No amount on the page breaks over two lines ("Rp" never wraps away from its digits): every amount
    has a no-break space after "Rp" (the ``rupiah`` and ``money`` filters), and no ``.money`` element is
    split over two lines."""
    breakable = person.page.evaluate(BREAKABLE_AMOUNTS)
    assert not breakable, f"{person.page.url}: amounts that may wrap after \"Rp\": {breakable}"
    broken = person.page.evaluate(
        "Array.from(document.querySelectorAll('.money')).filter(e => e.getClientRects().length > 1)"
        ".map(e => e.textContent)")
    assert not broken, f"{person.page.url}: amounts wrap: {broken}"
