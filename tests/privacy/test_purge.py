"""The retention job removes exactly what is past its period, and nothing else: with the clock moved,
each kind of record just past its period goes and the one just inside stays. It is idempotent, safe
to run concurrently, reports what it removed, and never touches the ledger."""
import datetime as dt
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from disputes.models import Dispute, DisputeMessage, Evidence
from escrow import services as escrow_services
from intrasa.wib import WIB, now_wib
from ledger.models import JournalEntry, Posting
from notifications.models import Notification
from notifications.services import notify
from payments.models import BankStatementLine
from privacy import purge, services
from privacy.models import (
    EmailChangeRequest,
    ErasureRecord,
    LoginRecord,
    PersonalDataExport,
    ProfileChange,
    RetainedIdentity,
    RetentionRun,
    StaffAccessLog,
)
from refunds.models import RefundDocument, RefundRequest
from tests import scenarios
from tests.factories import UserFactory
from transactions.models import EscrowTransaction, Status, TransactionEvent

from .conftest import cancelled, refund_document_file, resolved_dispute

DAY = dt.timedelta(days=1)


def years_ago(years: int, now) -> dt.datetime:
    return now.replace(year=now.year - years)


def in_year(year: int) -> dt.datetime:
    return dt.datetime(year, 7, 1, 12, 0, tzinfo=WIB)


def login(user, at):
    return LoginRecord.objects.create(user=user, at=at, ip_address="10.0.0.1", user_agent="test")


def export_ready_at(user, at):
    export = PersonalDataExport.objects.create(user=user, status=PersonalDataExport.Status.READY, ready_at=at,
                                               expires_at=at + dt.timedelta(days=7))
    export.file.save(f"{user.pk}-{at:%Y%m%d}.zip", ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    return export


def refund_paid_out(request):
    """The books of a refund whose transfer succeeded (what disbursements posts on SendMe's success),
    so a request marked completed here is completed in the ledger too."""
    from django.db import transaction

    from ledger.models import AccountCategory, EntryKind
    from ledger.services import credit, debit, entry_post

    with transaction.atomic():
        entry_post(idempotency_key=f"test-refund-sent:{request.pk}", kind=EntryKind.REFUND_SENT, memo="refund sent",
                   escrow_transaction=request.escrow_transaction,
                   lines=[debit(AccountCategory.BUYER_REFUND_PAYABLE, request.amount),
                          credit(AccountCategory.SENDME_DEPOSIT, request.amount)])


@pytest.fixture
def world(seller, buyer, dispute_officer, evidence_reader):
    """One record just past its period and one just inside it, for every rule of the table."""
    now = timezone.now()
    made = {}
    made["login_due"] = login(buyer, years_ago(1, now) - DAY)
    made["login_kept"] = login(buyer, years_ago(1, now) + DAY)
    made["export_due"] = export_ready_at(buyer, now - dt.timedelta(days=7) - DAY)
    made["export_kept"] = export_ready_at(buyer, now - dt.timedelta(days=6))
    due_change = services.email_change_request(user=buyer, new_email="lama@example.co.id")
    EmailChangeRequest.objects.filter(pk=due_change.pk).update(created_at=now - dt.timedelta(days=3) - DAY)
    made["email_change_due"] = due_change
    made["email_change_kept"] = EmailChangeRequest.objects.create(
        user=seller, new_email="baru@example.co.id", token_digest="f" * 64, expires_at=now + DAY)
    old_note = notify(event_key="old", kind="confirmed_buyer", recipient=buyer,
                      context={"reference": "INT-1", "title": "t", "amount": "Rp 1", "seller": "s"})
    Notification.objects.filter(pk=old_note.pk).update(created_at=years_ago(2, now) - DAY)
    made["notification_due"] = old_note
    made["access_due"] = StaffAccessLog.objects.create(
        staff=evidence_reader, staff_label="x", kind="user_profile", object_id="1", subject=buyer, path="/",
        at=years_ago(5, now) - DAY)
    made["access_kept"] = StaffAccessLog.objects.create(
        staff=evidence_reader, staff_label="x", kind="user_profile", object_id="1", subject=buyer, path="/",
        at=years_ago(5, now) + DAY)

    old_dispute = resolved_dispute(seller, buyer, dispute_officer)
    Dispute.objects.filter(pk=old_dispute.pk).update(resolved_at=years_ago(5, now) - DAY)
    recent_dispute = resolved_dispute(seller, buyer, dispute_officer)
    Dispute.objects.filter(pk=recent_dispute.pk).update(resolved_at=years_ago(5, now) + DAY)
    made["old_dispute"], made["recent_dispute"] = old_dispute, recent_dispute

    old_refund = RefundRequest.objects.get(dispute=old_dispute)
    refund_document_file(old_refund, uploader=buyer, name="lama.pdf")
    refund_paid_out(old_refund)
    RefundRequest.objects.filter(pk=old_refund.pk).update(
        status=RefundRequest.Status.COMPLETED, completed_at=years_ago(5, now) - DAY, description="Kronologi lama")
    recent_refund = RefundRequest.objects.get(dispute=recent_dispute)
    refund_document_file(recent_refund, uploader=buyer, name="baru.pdf")
    refund_paid_out(recent_refund)
    RefundRequest.objects.filter(pk=recent_refund.pk).update(
        status=RefundRequest.Status.COMPLETED, completed_at=years_ago(5, now) + DAY, description="Kronologi baru")
    made["old_refund"], made["recent_refund"] = old_refund, recent_refund

    # Identities kept after an erasure: one whose period ended yesterday, one that ends tomorrow.
    for key, erased_at in (("identity_due", years_ago(5, now) - DAY), ("identity_kept", years_ago(5, now) + DAY)):
        person = UserFactory(full_name=f"Orang {key}")
        cancelled(person, UserFactory())  # someone who transacted: the identity is kept
        person.full_name = f"Orang {key} Baru"
        person.save()  # a profile change, kept with the identity
        erasure = services.account_erase(user=person)
        ErasureRecord.objects.filter(pk=erasure.pk).update(erased_at=erased_at)
        identity = RetainedIdentity.objects.get(erasure=erasure)
        RetainedIdentity.objects.filter(pk=identity.pk).update(delete_after=erased_at + (now - years_ago(5, now)))
        made[key], made[f"{key}_person"] = identity, person

    # Financial records: closed in the 11th year before this one (due) and in the 10th (kept).
    this_year = now_wib().year
    made["txn_due"] = old_dispute.escrow_transaction
    made["txn_kept"] = recent_dispute.escrow_transaction
    EscrowTransaction.objects.filter(pk=made["txn_due"].pk).update(closed_at=in_year(this_year - 11))
    EscrowTransaction.objects.filter(pk=made["txn_kept"].pk).update(closed_at=in_year(this_year - 10))
    RefundRequest.objects.filter(pk=old_refund.pk).update(completed_at=in_year(this_year - 11))
    made["line_due"] = BankStatementLine.objects.create(
        booked_on=in_year(this_year - 11).date(), description="TRSF BUDI PEMBELI", amount=1, bank_reference="A",
        imported_by=evidence_reader)
    made["line_kept"] = BankStatementLine.objects.create(
        booked_on=dt.date(this_year - 10, 1, 1), description="TRSF BUDI PEMBELI", amount=2, bank_reference="B",
        imported_by=evidence_reader)
    AuditEntry.objects.filter(pk__in=AuditEntry.objects.order_by("pk").values("pk")[:3]).update(
        created_at=in_year(this_year - 11))
    made["audit_total"] = AuditEntry.objects.count()
    made["open_txn"] = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    EscrowTransaction.objects.filter(pk=made["open_txn"].pk).update(created_at=in_year(this_year - 12))
    # Every other notification (the fixture's services sent many) is a day short of its period.
    Notification.objects.exclude(pk=old_note.pk).update(created_at=years_ago(2, now) + DAY)
    made["notifications_kept"] = Notification.objects.exclude(pk=old_note.pk).count()
    return made


def books():
    return (list(JournalEntry.objects.order_by("pk").values_list("pk", "idempotency_key", "kind", "memo",
                                                                  "escrow_transaction_id")),
            list(Posting.objects.order_by("pk").values_list("pk", "entry_id", "account_id", "side", "amount")))


def exists(instance) -> bool:
    return type(instance).objects.filter(pk=instance.pk).exists()


@pytest.mark.django_db
def test_the_job_removes_exactly_what_is_past_its_period(world):
    before = books()
    call_command("ledger_check")
    storage = Evidence._meta.get_field("file").storage
    old_files = list(Evidence.objects.filter(dispute=world["old_dispute"]).values_list("file", flat=True))
    recent_files = list(Evidence.objects.filter(dispute=world["recent_dispute"]).values_list("file", flat=True))
    old_doc = RefundDocument.objects.get(request=world["old_refund"], original_name="lama.pdf")
    recent_doc = RefundDocument.objects.get(request=world["recent_refund"], original_name="baru.pdf")
    export_files = {key: world[key].file.name for key in ("export_due", "export_kept")}
    old_doc_name = old_doc.file.name
    assert storage.exists(old_doc_name)

    run = purge.retention_apply()

    assert not exists(world["login_due"]) and exists(world["login_kept"])
    due_export, kept_export = (PersonalDataExport.objects.get(pk=world[k].pk) for k in ("export_due", "export_kept"))
    assert due_export.status == "expired" and not due_export.file and not storage.exists(export_files["export_due"])
    assert kept_export.status == "ready" and storage.exists(export_files["export_kept"])
    assert not exists(world["email_change_due"]) and exists(world["email_change_kept"])
    assert not exists(world["notification_due"])
    assert Notification.objects.count() == world["notifications_kept"]
    assert not exists(world["access_due"]) and exists(world["access_kept"])

    # Disputes: files and texts of the old one gone, the recent one untouched.
    assert all(not storage.exists(name) for name in old_files) and all(storage.exists(n) for n in recent_files)
    assert set(Evidence.objects.filter(dispute=world["old_dispute"]).values_list("file", flat=True)) == {""}
    assert set(DisputeMessage.objects.filter(dispute=world["old_dispute"]).values_list("body", flat=True)) == {"—"}
    assert "—" not in DisputeMessage.objects.filter(dispute=world["recent_dispute"]).values_list("body", flat=True)
    old_doc.refresh_from_db()
    recent_doc.refresh_from_db()
    assert not old_doc.file and not storage.exists(old_doc_name) and recent_doc.file
    assert storage.exists(recent_doc.file.name)
    assert RefundRequest.objects.get(pk=world["recent_refund"].pk).description == "Kronologi baru"

    # Identities: the one past its period and the history kept with it are gone.
    assert not exists(world["identity_due"]) and exists(world["identity_kept"])
    assert not ProfileChange.objects.filter(user=world["identity_due_person"]).exists()
    assert ProfileChange.objects.filter(user=world["identity_kept_person"]).exists()

    # Financial records: anonymised, not deleted, and the ledger is exactly as it was.
    due, kept, still_open = (EscrowTransaction.objects.get(pk=world[k].pk) for k in ("txn_due", "txn_kept", "open_txn"))
    assert (due.title, due.description, due.buyer_email, due.tracking_number) == ("—", "—", "", "")
    assert set(TransactionEvent.objects.filter(escrow_transaction=due).values_list("reason", flat=True)) == {""}
    assert kept.title == "Kamera Mirrorless Bekas" and kept.tracking_number == "JNE0012345678"
    assert still_open.title == "Kamera Mirrorless Bekas"
    assert BankStatementLine.objects.get(pk=world["line_due"].pk).description == "—"
    assert BankStatementLine.objects.get(pk=world["line_kept"].pk).description == "TRSF BUDI PEMBELI"
    assert AuditEntry.objects.filter(action="privacy.retention_run").count() == 1
    assert books() == before
    call_command("ledger_check")

    assert run.removed == {
        "audit_entries": 3, "bank_statement_lines": 1, "data_exports": 1,
        "dispute_messages": DisputeMessage.objects.filter(dispute=world["old_dispute"]).count(), "dispute_texts": 1,
        "email_change_requests": 1, "evidence_files": len(old_files), "login_records": 1, "notifications": 1,
        "profile_changes": 1, "refund_chronologies": 1, "refund_document_files": 1, "retained_identities": 1,
        "staff_access_log": 1, "transactions_anonymised": 1,
    }
    audit = AuditEntry.objects.get(action="privacy.retention_run")
    assert audit.data["removed"] == run.removed and audit.object_id == str(run.pk)

    again = purge.retention_apply()
    assert again.removed == {}
    assert books() == before


@pytest.mark.django_db
def test_moving_the_clock_makes_the_kept_records_due(world):
    purge.retention_apply()
    later = purge.retention_apply(now=timezone.now() + dt.timedelta(days=2))
    assert later.removed["login_records"] == 1 and later.removed["retained_identities"] == 1
    assert later.removed["evidence_files"] == Evidence.objects.filter(dispute=world["recent_dispute"]).count()
    assert "transactions_anonymised" not in later.removed  # the 10th year is not over in two days


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (SKIP LOCKED) are PostgreSQL's")
def test_two_runs_at_once_remove_each_record_once():
    user = UserFactory()
    old = timezone.now() - dt.timedelta(days=400)
    LoginRecord.objects.bulk_create([LoginRecord(user=user, at=old) for _ in range(purge.BATCH * 3)])
    results, errors = [], []

    def run():
        try:
            results.append(purge.retention_apply().removed.get("login_records", 0))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == purge.BATCH * 3 and not LoginRecord.objects.exists()
    assert RetentionRun.objects.count() == 2


@pytest.mark.django_db
def test_a_purged_evidence_file_answers_404_and_the_page_says_why(client, world, buyer):
    purge.retention_apply()
    evidence = Evidence.objects.filter(dispute=world["old_dispute"], message__isnull=False).first()
    client.force_login(buyer)
    assert client.get(evidence.get_absolute_url()).status_code == 404
    page = client.get(world["old_dispute"].get_absolute_url()).content.decode()
    assert "deleted after its retention period" in page


@pytest.mark.django_db
def test_transactions_with_money_still_moving_are_not_anonymised(seller, buyer):
    txn = scenarios.advance(scenarios.create(seller, buyer), buyer, Status.VERIFIED)
    escrow_services.escrow_cancel_and_refund(escrow_transaction=txn, actor=seller, reason="Stok habis")
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=in_year(now_wib().year - 11))
    assert RefundRequest.objects.get().is_open
    purge.retention_apply()
    txn.refresh_from_db()
    assert txn.title == "Kamera Mirrorless Bekas"


@pytest.mark.django_db
def test_cancelled_transaction_of_an_erased_account_loses_its_payout_account_numbers(seller, buyer):
    from accounts.models import PayoutDestination
    from disbursements.models import Disbursement, Payout
    from tests.factories import BankDestinationFactory

    txn = cancelled(seller, buyer)
    destination = BankDestinationFactory(owner=buyer, account_number="7001234567", account_holder_name="Budi")
    payout = Payout.objects.create(escrow_transaction=txn, purpose=Payout.Purpose.BUYER_REFUND, recipient=buyer,
                                   amount=1, status=Payout.Status.COMPLETED, completed_at=in_year(now_wib().year - 11))
    Disbursement.objects.create(payout=payout, sequence=1, kind="bank", amount=1, destination=destination,
                                bank_code="014", account_number="7001234567", account_name="Budi",
                                partner_reference_no="P-9", description="x", status="succeeded")
    services.account_erase(user=buyer)
    EscrowTransaction.objects.filter(pk=txn.pk).update(closed_at=in_year(now_wib().year - 11))
    assert purge.retention_apply().removed["transactions_anonymised"] == 1
    part = Disbursement.objects.get()
    assert (part.account_number, part.account_name) == ("****4567", "")
    destination = PayoutDestination.objects.get(pk=destination.pk)
    assert (destination.account_number, destination.account_holder_name) == ("****4567", "—")
