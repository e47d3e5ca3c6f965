"""Fixtures for disputes and refunds: disputed transactions, staff per role, real files."""
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from disputes import services as dispute_services
from tests import scenarios
from tests.disbursements.conftest import sendme, verified_bank  # noqa: F401 - fixtures shared with refunds
from tests.factories import StaffFactory
from transactions.models import Status


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def image_upload(name="foto.png", size=(8, 8)):
    return SimpleUploadedFile(name, png_bytes(size), content_type="image/png")


def pdf_bytes() -> bytes:
    """A real one-page PDF (uploads are parsed: a header alone is refused as unreadable)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_upload(name="resi.pdf", extra=b""):
    return SimpleUploadedFile(name, pdf_bytes() + extra, content_type="application/pdf")


def mp4_upload(name="unboxing.mp4", size=1024):
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return SimpleUploadedFile(name, head + b"\x00" * (size - len(head)), content_type="video/mp4")


@pytest.fixture
def shipped(seller, buyer):
    def make(**overrides):
        txn = scenarios.create(seller, buyer, **overrides)
        return scenarios.advance(txn, buyer, Status.SHIPPED)
    return make


@pytest.fixture
def disputed(shipped, buyer):
    def make(reason="defective", description="Layar retak saat dibuka", **overrides):
        txn = shipped(**overrides)
        return dispute_services.dispute_open(escrow_transaction=txn, buyer=buyer, reason=reason,
                                             description=description)
    return make


def _staff_in(group_name, email, name):
    user = StaffFactory(email=email, full_name=name)
    user.groups.add(Group.objects.get(name=group_name))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def customer_service(db):
    return _staff_in("Customer service", "cs@intrasa.co.id", "Citra Layanan")


@pytest.fixture
def officer(db):
    return _staff_in("Dispute officer", "officer@intrasa.co.id", "Dimas Petugas")


@pytest.fixture
def finance(db):
    return _staff_in("Finance", "finance@intrasa.co.id", "Fani Keuangan")


@pytest.fixture(autouse=True)
def _english(in_english):
    """These tests quote the English source texts of messages and pages."""
