"""The dispute's own page in the admin: its state (frozen or resolved), the resolve steps where staff
read the case, a confirmation before the seller's reply deadline, and evidence thumbnails."""
import datetime as dt
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from disputes import services
from disputes.models import Dispute, Evidence
from intrasa.wib import format_wib
from tests.factories import StaffFactory
from transactions.models import Status

from .conftest import image_upload, pdf_upload

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:disputes_dispute_changelist")


@pytest.fixture(autouse=True)
def _books_balance():
    yield
    call_command("ledger_check")


def case_url(dispute):
    return reverse("admin:disputes_dispute_change", args=[dispute.pk])


def step_url(dispute, step):
    return reverse("admin:disputes_dispute_step", args=[dispute.pk, step])


def test_resolving_from_the_case_page_before_the_seller_deadline_asks_to_confirm_it(client, disputed, officer, buyer):
    dispute = disputed()
    deadline = format_wib(dispute.seller_reply_due_at)
    client.force_login(officer)
    page = client.get(case_url(dispute)).content.decode()
    assert 'data-testid="funds-state"' in page and "Funds frozen while the dispute is open" in page
    assert 'data-testid="seller-deadline"' in page and deadline in page
    for step in ("release", "refund", "split", "message"):
        assert step_url(dispute, step) in page  # the steps sit on the page where the case is read

    form = client.get(step_url(dispute, "release")).content.decode()
    assert 'data-testid="deadline-warning"' in form and deadline in form
    assert 'name="confirm_before_deadline"' in form
    refused = client.post(step_url(dispute, "release"), {"reason": "Bukti pengiriman lengkap"})
    assert refused.status_code == 200 and deadline in refused.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN  # not without the confirmation

    done = client.post(step_url(dispute, "release"), {"reason": "Bukti pengiriman lengkap",
                                                      "confirm_before_deadline": "on"})
    assert done.status_code == 302 and done["Location"] == case_url(dispute)
    dispute.refresh_from_db()
    assert dispute.outcome == "release" and dispute.resolved_by == officer and not dispute.by_agreement
    txn = dispute.escrow_transaction
    txn.refresh_from_db()
    assert txn.status in (Status.CONFIRMED, Status.DISBURSED)
    assert txn.events.get(action="resolve_release").reason == "Bukti pengiriman lengkap"

    # Resolved: the page no longer says the money is frozen, and offers no decision any more.
    page = client.get(case_url(dispute)).content.decode()
    assert "frozen" not in page.lower() and "Resolved on" in page
    assert step_url(dispute, "release") not in page and step_url(dispute, "message") in page
    again = client.post(step_url(dispute, "refund"), {"reason": "dua kali", "confirm_before_deadline": "on"})
    assert again.status_code == 302
    dispute.refresh_from_db()
    assert dispute.outcome == "release"
    # Nor does the parties' dispute page.
    client.force_login(buyer)
    party_page = client.get(dispute.get_absolute_url()).content.decode()
    assert 'data-testid="resolution"' in party_page and "frozen" not in party_page.lower()


def test_after_the_seller_replied_or_the_deadline_passed_no_confirmation_is_asked(client, disputed, officer, seller):
    replied = disputed(reason="not_as_described", description="Ukuran beda")
    services.dispute_post_message(dispute=replied, author=seller, body="Ukuran sesuai foto.")
    client.force_login(officer)
    assert 'data-testid="seller-deadline"' not in client.get(case_url(replied)).content.decode()
    form = client.get(step_url(replied, "split")).content.decode()
    assert "deadline-warning" not in form and "confirm_before_deadline" not in form
    response = client.post(step_url(replied, "split"), {"reason": "Diskon kesepakatan", "buyer_amount": "300.000",
                                                        "refund_case": "settlement"})
    assert response.status_code == 302
    replied.refresh_from_db()
    assert replied.outcome == "split" and replied.buyer_amount == 300_000

    late = disputed(reason="not_received", description="Paket hilang")
    Dispute.objects.filter(pk=late.pk).update(seller_reply_due_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(step_url(late, "refund"), {"reason": "Penjual tidak menjawab"})
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.outcome == "refund"


def test_the_list_action_also_confirms_before_the_deadline(client, disputed, officer):
    dispute = disputed()
    client.force_login(officer)
    data = {"action": "refund_buyer_in_full", ACTION_CHECKBOX_NAME: [dispute.pk], "apply": "1",
            "reason": "Barang cacat terbukti"}
    page = client.post(CHANGELIST, data).content.decode()
    assert 'data-testid="deadline-warning"' in page and format_wib(dispute.seller_reply_due_at) in page
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    client.post(CHANGELIST, {**data, "confirm_before_deadline": "on"})
    dispute.refresh_from_db()
    assert dispute.outcome == "refund"


def test_customer_service_reads_the_case_but_cannot_decide(client, disputed, customer_service):
    dispute = disputed()
    client.force_login(customer_service)
    page = client.get(case_url(dispute)).content.decode()
    assert step_url(dispute, "message") in page and step_url(dispute, "release") not in page
    assert client.get(step_url(dispute, "release")).status_code == 403
    assert client.post(step_url(dispute, "refund"), {"reason": "x", "confirm_before_deadline": "on"}).status_code == 403
    response = client.post(step_url(dispute, "message"), {"body": "Kami sedang memeriksa bukti."})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN and dispute.messages.filter(role="staff").count() == 1


def test_evidence_photos_show_as_thumbnails_to_staff_only(client, unverified_client, disputed, officer, seller):
    dispute = disputed()
    services.dispute_post_message(dispute=dispute, author=seller, body="Fotonya", upload=image_upload(size=(900, 600)))
    services.dispute_post_message(dispute=dispute, author=seller, body="Resinya", upload=pdf_upload())
    photo = Evidence.objects.get(content_type="image/png")
    document = Evidence.objects.get(content_type="application/pdf")
    thumbnail = reverse("admin:disputes_evidence_thumbnail", args=[photo.pk])

    client.force_login(officer)
    page = client.get(case_url(dispute)).content.decode()
    assert page.count('data-testid="evidence-thumbnail"') == 1 and f'src="{thumbnail}"' in page
    response = client.get(thumbnail)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    assert "attachment" not in response.get("Content-Disposition", "")
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and max(image.size) == 240 and image.size == (240, 160)
    # Not an image: no thumbnail.
    assert client.get(reverse("admin:disputes_evidence_thumbnail", args=[document.pk])).status_code == 404

    # A staff member without the evidence permission, a staff session without its second
    # factor, and a party outside the admin never get it.
    client.force_login(StaffFactory(email="magang@intrasa.co.id"))
    assert client.get(thumbnail).status_code == 404
    unverified_client.force_login(officer)
    assert unverified_client.get(thumbnail).status_code == 302
    client.force_login(seller)
    assert client.get(thumbnail).status_code == 302
