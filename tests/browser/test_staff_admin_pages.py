"""Staff pages of issue 17 in a real browser (desktop, Indonesian, under the CSP): the dispute case
page — evidence thumbnail drawn, the deadline confirmation, resolved without "frozen" — and the
treasury CSV export submitted untouched with its default dates."""
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from disputes import services as dispute_services
from disputes.models import Dispute
from tests import scenarios
from tests.factories import UserFactory
from transactions.models import Status

from .conftest import DESKTOP
from .test_csp import signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def photo():
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("retak.png", buffer.getvalue(), content_type="image/png")


def test_an_officer_resolves_from_the_case_page_and_finance_exports_with_default_dates(people, seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="defective",
                                            description="Layar retak")
    dispute_services.dispute_post_message(dispute=dispute, author=buyer, body="Fotonya", upload=photo())
    officer = UserFactory(email="petugas.kasus@intrasa.co.id", is_staff=True, full_name="Dewi Petugas")
    officer.groups.add(Group.objects.get(name="Dispute officer"))
    staff = signed_in(people, officer, "officer", "id", DESKTOP)
    page = staff.page

    page.goto(f"/admin/disputes/dispute/{dispute.pk}/change/")
    page.wait_for_selector("[data-testid=seller-deadline]")
    thumbnail = page.locator("img[data-testid=evidence-thumbnail]")
    thumbnail.scroll_into_view_if_needed()
    # The preview is loading="lazy": scrolling starts the request, so wait for it to settle before
    # asking what was drawn (a CSP block or a 403 settles too, with naturalWidth 0).
    page.wait_for_function("img => img.complete", arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => img.naturalWidth") == 240  # drawn, not blocked
    staff.shot("case-open")

    page.click("[data-testid=step-release]")
    page.wait_for_selector("[data-testid=deadline-warning]")
    page.fill("textarea[name=reason]", "Foto menunjukkan kemasan utuh saat diterima.")
    page.check("input[name=confirm_before_deadline]")
    staff.shot("release-confirm")
    page.click("input[type=submit]")
    page.wait_for_url(f"**/admin/disputes/dispute/{dispute.pk}/change/")
    state = page.locator("[data-testid=funds-state]").inner_text()
    assert "dibekukan" not in state.lower() and "frozen" not in state.lower()
    staff.shot("case-resolved")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.resolved_by == officer

    finance = UserFactory(email="keuangan.csv@intrasa.co.id", is_staff=True, full_name="Fajar Keuangan")
    finance.groups.add(Group.objects.get(name="Finance"))
    treasurer = signed_in(people, finance, "finance", "id", DESKTOP)
    treasurer.page.goto("/admin/treasury/export/")
    with treasurer.page.expect_download() as download:
        treasurer.page.click("input[type=submit]")  # nothing changed: the default dates
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.startswith("reference,") and txn.reference in text
