"""Fixtures for personal-data tests: a person with something of every kind, staff roles, files."""
import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile

from disputes import services as dispute_services
from intrasa.uploads import private_storage
from refunds.models import RefundDocument, RefundRequest
from tests import scenarios
from tests.disputes.conftest import image_upload, pdf_upload, png_bytes  # noqa: F401 - shared helpers
from tests.factories import StaffFactory
from transactions import services as txn_services
from transactions.models import Status


@pytest.fixture(autouse=True)
def _english(in_english):
    """These tests quote the English source texts."""


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): ...`` runs what the block scheduled for after commit (emails, tasks)
    when the block ends, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def superuser(db):
    return StaffFactory(email="admin@intrasa.co.id", full_name="Admin Intrasa", is_superuser=True)


def staff_with(email, *perms, groups=()):
    user = StaffFactory(email=email, full_name=f"Staf {email.split('@')[0]}")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def evidence_reader(db):
    return staff_with("cs-bukti@intrasa.co.id", "disputes.view_evidence", "refunds.view_refunddocument",
                      "disputes.view_dispute", "accounts.view_user", "accounts.view_payoutdestination",
                      "payments.view_bankstatementline", "refunds.view_refundrequest")


@pytest.fixture
def dpo(db):
    return staff_with("dpo@intrasa.co.id", groups=("Data protection officer",))


def cancelled(seller, buyer):
    """A closed transaction without money: the buyer accepted, then the seller cancelled."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.CREATED)
    return txn_services.transaction_cancel(escrow_transaction=txn, actor=seller, reason="Stok habis")


def resolved_dispute(seller, buyer, officer, *, buyer_file=True, seller_file=True):
    """A dispute with messages and a file from each party, resolved by staff (refund to the buyer)."""
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.SHIPPED)
    dispute = dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason="defective",
                                            description="Layar retak saat dibuka",
                                            upload=image_upload("retak.png") if buyer_file else None,
                                            evidence_purpose="photo")
    dispute_services.dispute_post_message(dispute=dispute, author=seller, body="Dikirim dalam kondisi baik",
                                          upload=pdf_upload("resi-kirim.pdf") if seller_file else None,
                                          evidence_purpose="courier_receipt")
    dispute_services.dispute_resolve(dispute=dispute, staff=officer, outcome="refund", reason="Foto meyakinkan")
    dispute.refresh_from_db()
    return dispute


def refund_document_file(request: RefundRequest, *, uploader, name="mutasi.pdf", kind="bank_statement"):
    """A file the buyer uploaded to a refund request (stored like refunds.services stores it)."""
    content = b"%PDF-1.4\n% mutasi rekening\n%%EOF\n"
    stored = private_storage().save(f"refunds/test-{name}", ContentFile(content))
    return RefundDocument.objects.create(request=request, kind=kind, source=RefundDocument.Source.BUYER,
                                         file=stored, original_name=name, content_type="application/pdf",
                                         size=len(content), sha256="0" * 64, uploaded_by=uploader)


def ago(**kwargs):
    from django.utils import timezone

    return timezone.now() - dt.timedelta(**kwargs)
