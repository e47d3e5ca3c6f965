"""The breach playbook's command: who was affected, as CSV, for the 3×24-hour notification
(UU PDP Pasal 46); running it is audited."""
import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEntry
from privacy import services
from privacy.models import LoginRecord
from tests.factories import UserFactory

from .conftest import cancelled

pytestmark = pytest.mark.django_db


def run(*args) -> list[dict]:
    out = io.StringIO()
    call_command("affected_users", "--operator", "dpo@intrasa.co.id", "--reason", "uji", *args, stdout=out,
                 stderr=io.StringIO())
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_logins_from_an_address_in_a_window(dpo, buyer, seller, stranger):
    now = timezone.now()
    LoginRecord.objects.create(user=buyer, at=now - dt.timedelta(hours=2), ip_address="203.0.113.7")
    LoginRecord.objects.create(user=seller, at=now - dt.timedelta(hours=2), ip_address="198.51.100.1")
    LoginRecord.objects.create(user=stranger, at=now - dt.timedelta(days=3), ip_address="203.0.113.7")
    rows = run("--from", (now - dt.timedelta(days=1)).isoformat(), "--to", now.isoformat(), "--kind", "logins",
               "--ip", "203.0.113.7")
    assert [(r["email"], r["full_name"], r["record_kinds"], r["erased"]) for r in rows] == [
        ("budi@example.co.id", "Budi Pembeli", "logins", "no")]
    audit = AuditEntry.objects.get(action="privacy.affected_users_export")
    assert audit.actor == dpo and audit.reason == "uji" and audit.data["people"] == 1


def test_what_one_staff_member_opened(dpo, evidence_reader, buyer, seller):
    services.staff_access_record(staff=evidence_reader, kind="user_profile", object_id=buyer.pk, subject=buyer)
    services.staff_access_record(staff=dpo, kind="user_profile", object_id=seller.pk, subject=seller)
    today = timezone.localdate().isoformat()
    rows = run("--from", today, "--to", today, "--kind", "staff-access", "--staff", evidence_reader.email)
    assert [r["account_id"] for r in rows] == [str(buyer.pk)]


def test_an_erased_account_is_reached_through_the_identity_kept_for_it(dpo, buyer, seller):
    cancelled(seller, buyer)
    services.account_erase(user=buyer)
    today = timezone.localdate().isoformat()
    rows = {r["account_id"]: r for r in run("--from", today, "--to", today)}
    assert rows[str(buyer.pk)]["email"] == "budi@example.co.id" and rows[str(buyer.pk)]["erased"] == "yes"
    assert rows[str(seller.pk)]["email"] == "sari@example.co.id"
    assert str(dpo.pk) not in rows  # staff accounts are not customers


def test_an_erased_account_without_a_kept_identity_has_no_contact(dpo):
    person = UserFactory(email="singgah@example.co.id")
    services.account_erase(user=person)
    today = timezone.localdate().isoformat()
    row = next(r for r in run("--from", today, "--to", today) if r["account_id"] == str(person.pk))
    assert (row["email"], row["erased"]) == ("", "yes")


def test_the_operator_must_be_staff(buyer):
    with pytest.raises(CommandError):
        call_command("affected_users", "--operator", buyer.email, "--reason", "x", "--from", "2026-01-01",
                     "--to", "2026-01-02")


def test_files_the_purge_still_keeps_for_an_obligation_in_motion_count_as_exposed(dpo, seller, buyer):
    """A dispute resolved and a refund request closed more than 5 years ago, but the goods of the
    rejected return still travel back to the buyer: the retention job keeps the evidence and the
    documents (``privacy.obligations``), so a breach today exposes them and their people are told."""
    from disputes.models import Dispute, Evidence
    from refunds.models import RefundRequest, ReturnShipment

    from .conftest import refund_document_file
    from .test_purge_in_motion import long_ago, return_shipment

    txn = cancelled(seller, buyer)
    return_shipment(ReturnShipment.Status.RESENT)(txn, buyer)
    refund_document_file(RefundRequest.objects.get(escrow_transaction=txn), uploader=buyer)
    dispute = Dispute.objects.create(escrow_transaction=txn, reason="wrong_item", description="Warna salah",
                                     opened_by=buyer, status=Dispute.Status.RESOLVED, resolved_at=long_ago())
    Evidence.objects.create(dispute=dispute, uploaded_by=seller, role="seller", purpose="photo", file="disputes/x.png",
                            original_name="x.png", content_type="image/png", size=1, sha256="0" * 64)
    today = timezone.localdate().isoformat()
    assert [r["account_id"] for r in run("--from", today, "--to", today, "--kind", "refund-documents")] == [
        str(buyer.pk)]
    assert [r["account_id"] for r in run("--from", today, "--to", today, "--kind", "evidence")] == [str(seller.pk)]
