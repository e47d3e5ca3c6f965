"""Staff access to personal data is logged with who, what, whose, when and why; a reason is asked
before a sensitive file is served; the log can be read by the data protection officer and changed
by nobody."""
import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import PayoutDestination
from disputes.models import Evidence
from payments.models import BankStatementLine, Bill
from privacy.models import StaffAccessLog
from privacy.services import staff_access_record
from refunds.models import RefundRequest
from tests.factories import BankDestinationFactory, StaffFactory

from .conftest import png_bytes, refund_document_file, resolved_dispute

pytestmark = pytest.mark.django_db
REASON = "Memeriksa foto kerusakan untuk sengketa ini"


def gate(kind, pk):
    return reverse("privacy:staff_access", kwargs={"kind": kind, "pk": pk})


@pytest.fixture
def dispute(seller, buyer, dispute_officer):
    return resolved_dispute(seller, buyer, dispute_officer)


def test_an_evidence_file_needs_a_reason_and_each_serving_is_logged(client, dispute, buyer, evidence_reader):
    evidence = Evidence.objects.get(original_name="retak.png")
    url = evidence.get_absolute_url()
    client.force_login(evidence_reader)
    response = client.get(url)
    assert response.status_code == 302 and response.url == gate("bukti", evidence.pk)
    assert not StaffAccessLog.objects.exists()

    form = client.get(response.url)
    assert form.status_code == 200 and "Why do you need to open this file?" in form.content.decode()
    assert client.post(response.url, {"reason": "lihat"}).status_code == 200  # too short to be a reason
    response = client.post(response.url, {"reason": REASON})
    assert response.status_code == 302 and response.url == url
    served = client.get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == png_bytes()
    client.get(url)
    entries = list(StaffAccessLog.objects.order_by("pk"))
    assert len(entries) == 2
    entry = entries[0]
    assert (entry.staff, entry.staff_label, entry.kind, entry.object_id, entry.subject, entry.reason) == (
        evidence_reader, evidence_reader.email, "evidence", str(evidence.pk), buyer, REASON)
    assert entry.path == url and entry.ip_address == "127.0.0.1" and entry.at is not None


def test_a_refund_document_needs_a_reason_too(client, dispute, buyer, finance_officer):
    doc = refund_document_file(RefundRequest.objects.get(), uploader=buyer)
    url = reverse("refunds:document", kwargs={"pk": doc.pk})
    client.force_login(finance_officer)  # a bank statement is the buyer's and finance's (refunds.access)
    assert client.get(url).url == gate("dokumen", doc.pk)
    client.post(gate("dokumen", doc.pk), {"reason": "Verifikasi mutasi rekening pembeli"})
    assert client.get(url).status_code == 200
    entry = StaffAccessLog.objects.get()
    assert entry.kind == "refund_document" and entry.subject == buyer and "mutasi" in entry.reason


def test_the_parties_open_their_own_files_without_a_reason_and_without_a_log(client, dispute, buyer, seller):
    for evidence in Evidence.objects.all():
        for party in (buyer, seller):
            client.force_login(party)
            assert client.get(evidence.get_absolute_url()).status_code == 200
    assert not StaffAccessLog.objects.exists()


def test_staff_who_may_not_see_a_file_get_404_not_a_reason_page(client, dispute):
    nosy = StaffFactory(email="nosy@intrasa.co.id")
    evidence = Evidence.objects.first()
    client.force_login(nosy)
    assert client.get(evidence.get_absolute_url()).status_code == 404
    assert client.get(gate("bukti", evidence.pk)).status_code == 404
    assert client.post(gate("bukti", evidence.pk), {"reason": REASON}).status_code == 404
    assert not StaffAccessLog.objects.exists()


def test_customers_cannot_use_the_reason_page(client, dispute, stranger):
    client.force_login(stranger)
    assert client.get(gate("bukti", Evidence.objects.first().pk)).status_code == 404


def test_admin_pages_with_personal_data_are_logged(client, dispute, buyer, seller, evidence_reader):
    destination = BankDestinationFactory(owner=seller, verification=PayoutDestination.Verification.VERIFIED)
    bill = Bill.objects.create(escrow_transaction=dispute.escrow_transaction, method="bank_transfer",
                               channel_code="transfer", bill_no="INTB1", amount=1, status="verified",
                               expires_at=timezone.now())
    line = BankStatementLine.objects.create(booked_on=timezone.now().date(), description="TRSF BUDI", amount=1,
                                            bank_reference="R1", imported_by=evidence_reader, matched_bill=bill)
    client.force_login(evidence_reader)
    pages = [
        (reverse("admin:accounts_user_change", args=[buyer.pk]), "user_profile", {buyer}),
        (reverse("admin:accounts_payoutdestination_change", args=[destination.pk]), "payout_destination", {seller}),
        (reverse("admin:payments_bankstatementline_change", args=[line.pk]), "bank_statement_line", {buyer}),
        (reverse("admin:refunds_refundrequest_change", args=[RefundRequest.objects.get().pk]), "refund_request",
         {buyer}),
        (reverse("admin:disputes_dispute_change", args=[dispute.pk]), "dispute", {buyer, seller}),
    ]
    for url, kind, subjects in pages:
        assert client.get(url).status_code == 200, url
        logged = StaffAccessLog.objects.filter(kind=kind)
        assert {entry.subject for entry in logged} == subjects, kind
        assert all(entry.staff == evidence_reader and entry.path == url for entry in logged)
    # Staff looking at their own profile is not access to someone else's data.
    client.get(reverse("admin:accounts_user_change", args=[evidence_reader.pk]))
    assert not StaffAccessLog.objects.filter(subject=evidence_reader).exists()


def test_the_log_cannot_be_changed_or_deleted(dispute, evidence_reader, buyer):
    entry = staff_access_record(staff=evidence_reader, kind="user_profile", object_id=buyer.pk, subject=buyer,
                                reason="Cek")
    entry.reason = "Tidak ada apa-apa"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        StaffAccessLog.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(ValueError):
        StaffAccessLog.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_changes_even_in_raw_sql(evidence_reader, buyer):
    entry = staff_access_record(staff=evidence_reader, kind="user_profile", object_id=buyer.pk, subject=buyer)
    for sql in ("UPDATE privacy_staffaccesslog SET reason = 'x' WHERE id = %s",
                "DELETE FROM privacy_staffaccesslog WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])
    assert StaffAccessLog.objects.get(pk=entry.pk).reason == ""


def test_the_data_protection_officer_reads_the_log_and_nobody_edits_it(client, dpo, superuser, evidence_reader,
                                                                       buyer):
    entry = staff_access_record(staff=evidence_reader, kind="user_profile", object_id=buyer.pk, subject=buyer,
                                reason="Cek keluhan")
    changelist = reverse("admin:privacy_staffaccesslog_changelist")
    change = reverse("admin:privacy_staffaccesslog_change", args=[entry.pk])
    delete = reverse("admin:privacy_staffaccesslog_delete", args=[entry.pk])
    client.force_login(dpo)
    page = client.get(changelist)
    assert page.status_code == 200 and "Cek keluhan" in page.content.decode()
    assert client.get(change).status_code == 200
    for user in (dpo, superuser):
        client.force_login(user)
        assert client.post(change, {"reason": "diubah"}).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:privacy_staffaccesslog_add")).status_code == 403
    assert StaffAccessLog.objects.get(pk=entry.pk).reason == "Cek keluhan"
    client.force_login(evidence_reader)  # other staff do not see the log at all
    assert client.get(changelist).status_code == 403


def test_the_identity_kept_after_an_erasure_needs_the_role_and_a_reason(client, dpo, evidence_reader, buyer, seller):
    from privacy import services
    from privacy.models import RetainedIdentity

    from .conftest import cancelled

    cancelled(seller, buyer)
    services.account_erase(user=buyer)
    identity = RetainedIdentity.objects.get()
    url = reverse("admin:privacy_retainedidentity_change", args=[identity.pk])
    client.force_login(evidence_reader)  # staff, but not the data protection officer
    assert client.get(gate("identitas", identity.pk)).status_code == 404
    client.force_login(dpo)
    assert client.get(url).url == gate("identitas", identity.pk)
    client.post(gate("identitas", identity.pk), {"reason": "Permintaan PPATK nomor 12/2026"})
    page = client.get(url)
    assert page.status_code == 200 and "budi@example.co.id" in page.content.decode()
    entry = StaffAccessLog.objects.get(kind="retained_identity")
    assert entry.staff == dpo and entry.subject == buyer and entry.reason == "Permintaan PPATK nomor 12/2026"
