"""Every page carries a Content-Security-Policy without inline script or style and a
Permissions-Policy that turns off every device feature; no template relies on inline script,
inline event handlers or style attributes, so the policy breaks nothing (the browser tests run the
journeys under it and fail on any violation)."""
import base64
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from disputes import services as dispute_services
from tests import scenarios
from tests.factories import StaffFactory
from tests.sandbox_control import operator_auth
from transactions.models import Status

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
# Templates that are never served as a web page: WeasyPrint's PDF input and email bodies.
NOT_PAGES = ("templates/documents/receipt.html", "templates/documents/payout_statement.html",
             "templates/documents/refund_receipt.html", "templates/documents/base.html",
             "templates/notifications/email.html", "templates/privacy/export_pdf.html",
             "templates/privacy/email/erasure_confirmation.html", "templates/milestones/plan_pdf.html")
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    found = []
    for name, pattern in (("inline <script>", INLINE_SCRIPT), ("event handler attribute", EVENT_HANDLER),
                          ("style attribute", STYLE_ATTRIBUTE), ("<style> element", STYLE_ELEMENT),
                          ("javascript: URL", JAVASCRIPT_URL)):
        found += [f"{name}: {match.group(0)[:80]}" for match in pattern.finditer(html)]
    return found


def directives(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: set(part.split()[1:]) for part in header.split(";") if part.strip()}


def assert_page_policies(response):
    policy = directives(response)
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"} and policy["style-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"} and policy["frame-ancestors"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"} and policy["form-action"] == {"'self'"}
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    permissions = dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "display-capture"):
        assert permissions[feature] == "()", feature


def test_no_template_served_as_a_page_has_inline_script_handlers_or_styles():
    templates = [p for p in ROOT.glob("templates/**/*.html")] + [p for p in ROOT.glob("*/templates/**/*.html")]
    offenders = []
    for path in templates:
        relative = str(path.relative_to(ROOT))
        if relative in NOT_PAGES or relative.startswith(".venv"):
            continue
        offenders += [f"{relative}: {found}" for found in inline_code(path.read_text())]
    assert len(templates) > 40
    assert not offenders, "\n".join(offenders)


def test_python_generated_admin_html_has_no_style_attributes():
    offenders = []
    for path in ROOT.glob("*/admin.py"):
        offenders += [f"{path.relative_to(ROOT)}: {line.strip()}" for line in path.read_text().splitlines()
                      if "style=" in line or re.search(r"\son[a-z]+=", line)]
    assert not offenders, "\n".join(offenders)


@pytest.fixture
def pages(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="defective", description="Retak")
    staff = StaffFactory(email="admin@intrasa.co.id", is_superuser=True)
    anonymous = ["/", reverse("pages:faq"), reverse("pages:fees"), reverse("pages:refund_policy"),
                 reverse("pages:check_transaction") + f"?reference={txn.reference}", reverse("pages:check_payment"),
                 reverse("accounts:login"), reverse("accounts:signup"), reverse("accounts:password_reset")]
    party = ["/transaksi/", reverse("transactions:create"), txn.get_absolute_url(), f"/sengketa/{txn.reference}/",
             f"/pengembalian-dana/{txn.reference}/", reverse("accounts:profile"), reverse("notifications:list")]
    admin = ["/admin/", "/admin/transactions/escrowtransaction/",
             reverse("admin:transactions_escrowtransaction_change", args=[txn.pk]), "/admin/disputes/dispute/",
             "/admin/treasury/", "/sandbox/control/"]
    return {None: anonymous, buyer: party, staff: admin}


def test_every_page_has_the_policies_and_no_inline_code(client, pages):
    checked = 0
    for user, urls in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            # The sandbox's pages ask for its operator (DEBUG is off in the suite).
            auth = ({"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(":".join(operator_auth()).encode()).decode()}
                    if url.startswith("/sandbox/") else {})
            response = client.get(url, **auth)
            assert response.status_code == 200, (url, response.status_code)
            assert_page_policies(response)
            if url.startswith("/admin/"):
                continue  # Django's own admin templates are checked in the browser (no violation)
            assert not inline_code(response.content.decode()), (url, inline_code(response.content.decode()))
            checked += 1
    assert checked >= 15


def test_error_pages_and_redirects_carry_the_policies_too(client):
    assert_page_policies(client.get("/tidak-ada-halaman-ini/"))
    assert_page_policies(client.get("/transaksi/"))  # redirect to the login


def test_faspay_redirect_is_a_link_not_a_form_post():
    """form-action 'self' would block a form posting to Faspay; the payment page only links to
    Faspay's ``redirect_url``, which the buyer follows."""
    page = (ROOT / "templates/payments/pay.html").read_text()
    assert "bill.redirect_url" in page
    for form in re.findall(r"<form\b[^>]*>", page):
        assert "redirect_url" not in form and "action=\"http" not in form
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] == ["'self'"]
