"""The retention job: applies ``privacy.retention`` to whatever is past its period.

It runs nightly from Celery beat (``privacy.tasks.apply_retention``): a scan of due rows, never a
countdown (DESIGN.md §3). Each kind of record is handled in batches, each batch its own short
transaction that locks its rows with ``SKIP LOCKED``: two runs at once split the work instead of
doing it twice, and a run that dies half-way leaves nothing half-done that the next run would not
finish. Every step is idempotent (a purged file is marked by an empty name, an anonymised text by
``ANONYMISED``), so a second run finds nothing more to do.

Nothing around an escrow transaction is removed while an obligation of it is still in motion (a
return of goods, a refund, a payout, a dispute, …), and its periods count from the end of the last
one: ``privacy.obligations`` is the one list of them, and every step here that touches a
transaction's records asks it.

Apps above privacy (DESIGN.md §2: privacy cannot import them) register their own steps from their
``AppConfig.ready()`` with ``purge_step_register`` (milestone plans: ``milestones.privacy_export``);
they find their due rows with ``transactions_past_their_period`` and handle them with ``batches``,
so they follow the same rules. ``privacy.coverage`` lists every field that can hold personal data
and which rule here removes it; the test suite proves each.

The ledger is never touched: this module does not import it. What stays of a financial record
after its period is what the ledger needs (amounts, dates, references) and nothing that names a
person. Each run is reported to the log and in a ``RetentionRun`` with its audit row.
"""
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_fsm import FSMFieldMixin

from accounts.models import PayoutDestination
from audit.models import AuditEntry
from audit.services import audit_record
from disbursements.models import Disbursement, RetryApproval
from disputes.models import Dispute, DisputeMessage, Evidence, SettlementOffer
from intrasa import locks
from notifications.models import Notification
from paylinks import services as paylink_services
from paylinks.models import PaymentLink
from payments import services as payment_services
from payments.models import BankStatementLine, Bill
from refunds.models import RefundDocument, RefundRequest, ReturnShipment, ShortShipmentClaim
from transactions.models import CLOSED_STATES, EscrowTransaction, TransactionEvent
from treasury.selectors import reconciliation_items_on

from . import obligations, retention
from .models import (
    ConsentEvent,
    EmailChangeRequest,
    ErasureRecord,
    LoginRecord,
    PersonalDataExport,
    ProfileChange,
    RetainedIdentity,
    RetentionRun,
    StaffAccessLog,
)

logger = logging.getLogger(__name__)
BATCH = 200
# What an anonymised text reads afterwards.
ANONYMISED = "—"


def _locked_batch(queryset) -> list:
    """Up to ``BATCH`` primary keys of ``queryset``, locked; rows another run holds are skipped.

    A state machine's row reads its state fields as it is built (django-fsm's
    ConcurrentTransitionMixin): they come with the keys, or each row would cost a query of its own."""
    state_fields = [field.attname for field in queryset.model._meta.concrete_fields
                    if isinstance(field, FSMFieldMixin)]
    return [row.pk for row in locks.lock_all(queryset.only("pk", *state_fields), skip_locked=True, limit=BATCH)]


def _batches(queryset, handle) -> int:
    """Run ``handle(pks)`` on locked batches of ``queryset`` until nothing is due; return the total
    ``handle`` reports. ``queryset`` must stop matching a row once it has been handled."""
    total = 0
    while True:
        with transaction.atomic():
            locked = _locked_batch(queryset)
            if not locked:
                return total
            # Asked again now that the rows are held: the locking statement judged the subqueries
            # of "due" (other tables: a milestone reopened, a refund started) on the snapshot it
            # started with, and a change committed while it waited for a row would go unseen.
            pks = list(queryset.filter(pk__in=locked).values_list("pk", flat=True))
            if pks:
                total += handle(pks)
        if len(locked) < BATCH:
            return total


def batches(queryset, handle) -> int:
    """``_batches`` for the steps apps above privacy register (``purge_step_register``)."""
    return _batches(queryset, handle)


def _delete(model, queryset) -> int:
    def handle(pks):
        model.objects.filter(pk__in=pks).delete()
        return len(pks)
    return _batches(queryset, handle)


def _delete_files(model, queryset) -> int:
    """Delete the stored file of each row and empty its name (the row stays as a record)."""
    def handle(pks):
        storage = model._meta.get_field("file").storage
        for name in model.objects.filter(pk__in=pks).values_list("file", flat=True):
            if name:
                storage.delete(name)
        model.objects.filter(pk__in=pks).update(file="")
        return len(pks)
    return _batches(queryset, handle)


# --- one function per rule ---------------------------------------------------------------------

def _login_records(now) -> Counter:
    from axes.models import AccessAttempt, AccessFailureLog

    cutoff = retention.LOGIN_RECORDS.cutoff(now)
    return Counter(
        login_records=_delete(LoginRecord, LoginRecord.objects.filter(at__lte=cutoff)),
        failed_logins=_delete(AccessFailureLog, AccessFailureLog.objects.filter(attempt_time__lte=cutoff))
        + _delete(AccessAttempt, AccessAttempt.objects.filter(attempt_time__lte=cutoff)))


def _data_exports(now) -> Counter:
    cutoff = retention.DATA_EXPORTS.cutoff(now)
    due = PersonalDataExport.objects.filter(ready_at__lte=cutoff).exclude(file="")

    def handle(pks):
        storage = PersonalDataExport._meta.get_field("file").storage
        for name in PersonalDataExport.objects.filter(pk__in=pks).values_list("file", flat=True):
            storage.delete(name)
        PersonalDataExport.objects.filter(pk__in=pks).update(file="", status=PersonalDataExport.Status.EXPIRED)
        return len(pks)
    return Counter(data_exports=_batches(due, handle))


def _email_changes(now) -> Counter:
    cutoff = retention.EMAIL_CHANGES.cutoff(now)
    return Counter(email_change_requests=_delete(
        EmailChangeRequest, EmailChangeRequest.objects.filter(created_at__lte=cutoff)))


def _notifications(now) -> Counter:
    cutoff = retention.NOTIFICATIONS.cutoff(now)
    return Counter(notifications=_delete(Notification, Notification.objects.filter(created_at__lte=cutoff)))


def _staff_access_log(now) -> Counter:
    cutoff = retention.STAFF_ACCESS_LOG.cutoff(now)

    def handle(pks):
        if connection.vendor == "postgresql":
            # The append-only trigger lets a DELETE through only in a transaction that says so.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL intrasa.retention_purge = 'on'")
        return StaffAccessLog.objects.filter(pk__in=pks)._purge()[0]
    return Counter(staff_access_log=_batches(StaffAccessLog.objects.filter(at__lte=cutoff), handle))


def disputes_past_their_period(cutoff: dt.datetime, *, via: str = "") -> Q:
    """Resolved disputes (reached through ``via``, e.g. ``"dispute__"``) whose conversation is past its
    period when its anchor must be at or before ``cutoff``: resolved by then, and nothing of its
    transaction finished after it (``privacy.obligations``). The breach command asks the same."""
    return (Q(**{f"{via}status": Dispute.Status.RESOLVED, f"{via}resolved_at__lte": cutoff})
            & ~obligations.in_motion(since=cutoff, via=f"{via}escrow_transaction"))


def refund_requests_past_their_period(cutoff: dt.datetime, *, via: str = "") -> Q:
    """Closed refund requests (reached through ``via``, e.g. ``"request__"``) whose documents are past
    their period when its anchor must be at or before ``cutoff``. A request rejected after its returned
    goods were rejected is not over while the goods travel back to the buyer: the obligations keep
    its documents until then, and the period from then."""
    closed = [RefundRequest.Status.COMPLETED, RefundRequest.Status.REJECTED, RefundRequest.Status.RETURNED_BY_PROVIDER]
    return (Q(**{f"{via}status__in": closed, f"{via}completed_at__lte": cutoff})
            & ~obligations.in_motion(since=cutoff, via=f"{via}escrow_transaction"))


def _dispute_conversations(now) -> Counter:
    cutoff = retention.DISPUTE_CONVERSATIONS.cutoff(now)
    due = disputes_past_their_period(cutoff, via="dispute__")
    counts: Counter[str] = Counter()
    counts["evidence_files"] = _delete_files(Evidence, Evidence.objects.filter(due).exclude(file=""))
    # A file's name is the uploader's words too ("KTP Budi.jpg"); the page still lists that a file was there.
    _batches(Evidence.objects.filter(due).exclude(original_name=ANONYMISED),
             lambda pks: Evidence.objects.filter(pk__in=pks).update(original_name=ANONYMISED))
    counts["dispute_messages"] = _batches(
        DisputeMessage.objects.filter(due).exclude(body=ANONYMISED),
        lambda pks: DisputeMessage.objects.filter(pk__in=pks).update(body=ANONYMISED))
    _batches(SettlementOffer.objects.filter(due).exclude(note="", response_note=""),
             lambda pks: SettlementOffer.objects.filter(pk__in=pks).update(note="", response_note=""))
    # What the buyer said was missing from the parcel: their words about the case, as the description.
    _batches(ShortShipmentClaim.objects.filter(due).exclude(missing_items=ANONYMISED),
             lambda pks: ShortShipmentClaim.objects.filter(pk__in=pks).update(missing_items=ANONYMISED))
    counts["dispute_texts"] = _batches(
        Dispute.objects.filter(disputes_past_their_period(cutoff)).exclude(description=ANONYMISED),
        lambda pks: Dispute.objects.filter(pk__in=pks).update(description=ANONYMISED))
    return counts


def _refund_documents(now) -> Counter:
    cutoff = retention.REFUND_DOCUMENTS.cutoff(now)
    closed = refund_requests_past_their_period(cutoff)
    counts: Counter[str] = Counter()
    documents = RefundDocument.objects.filter(request__in=RefundRequest.objects.filter(closed))
    counts["refund_document_files"] = _delete_files(RefundDocument, documents.exclude(file=""))
    # The file's name and why a document was waived are the buyer's or staff's words about the case.
    _batches(documents.exclude(original_name__in=["", ANONYMISED]),
             lambda pks: RefundDocument.objects.filter(pk__in=pks).update(original_name=ANONYMISED))
    _batches(documents.exclude(waived_reason__in=["", ANONYMISED]),
             lambda pks: RefundDocument.objects.filter(pk__in=pks).update(waived_reason=ANONYMISED))
    counts["refund_chronologies"] = _batches(
        RefundRequest.objects.filter(closed).exclude(description=""),
        lambda pks: RefundRequest.objects.filter(pk__in=pks).update(description=""))
    return counts


def _identities(now) -> Counter:
    counts: Counter[str] = Counter()
    counts["retained_identities"] = _delete(
        RetainedIdentity, RetainedIdentity.objects.filter(delete_after__lte=now))
    cutoff = retention.IDENTITY_AFTER_ERASURE.cutoff(now)
    erased = ErasureRecord.objects.filter(erased_at__lte=cutoff).values("user_id")
    counts["profile_changes"] = _delete(ProfileChange, ProfileChange.objects.filter(user__in=erased))
    counts["consent_records"] = _delete(ConsentEvent, ConsentEvent.objects.filter(user__in=erased))
    return counts


def _transaction_records(now) -> Counter:
    """Anonymise closed transactions past their period: nothing in or around them names a person
    any more; amounts, dates and references stay for the ledger. The period counts from the end of
    the last obligation of the transaction (``privacy.obligations``), which may be long after it
    closed: a refund, a payout, the goods of a rejected return travelling back to the buyer."""
    due = EscrowTransaction.objects.filter(transactions_past_their_period(now)).exclude(title=ANONYMISED)

    def handle(pks):
        EscrowTransaction.objects.filter(pk__in=pks).update(
            title=ANONYMISED, description=ANONYMISED, buyer_email="", buyer_phone="", tracking_number="",
            delivery_note="", inspection_extension_reason="")
        # Timeline rows are append-only while they are needed; at the end of the period the law
        # asks for their personal parts to go (UU PDP Pasal 44): reasons and details, not the steps.
        TransactionEvent.objects.filter(escrow_transaction__in=pks).update(reason="", data={})
        Dispute.objects.filter(escrow_transaction__in=pks).update(resolution_reason="", escalation_reason="")
        RefundRequest.objects.filter(escrow_transaction__in=pks).update(description="", rejected_reason="")
        # The return's addresses, receipt numbers and notes; the RMA number stays as a reference.
        ReturnShipment.objects.filter(refund_request__escrow_transaction__in=pks).update(
            address="", receipt_number="", inspection_note="", decision_reason="", buyer_address="",
            resend_receipt_number="")
        parts = Disbursement.objects.filter(payout__escrow_transaction__in=pks)
        # Finance's notes on settling a difference with Faspay about them (they name payers and holders),
        # and what the check saw (Faspay's answers name the recipient and their account).
        items = reconciliation_items_on(pks)
        items.exclude(resolution__in=["", ANONYMISED]).update(resolution=ANONYMISED)
        items.exclude(evidence={}).update(evidence={})
        # Faspay's notifications about their bills, once every transaction a bill paid (a milestone
        # plan's bill pays several) is past its period: the last of them to go takes it.
        bills = Bill.objects.filter(Q(escrow_transaction__in=pks) | Q(shares__escrow_transaction__in=pks))
        others = EscrowTransaction.objects.filter(Q(bills=OuterRef("pk")) | Q(bill_shares__bill=OuterRef("pk")))
        payment_services.provider_notifications_minimise(bill_ids=bills.exclude(Exists(
            others.exclude(pk__in=pks).exclude(transactions_past_their_period(now)))).values_list("pk", flat=True))
        # Staff's words on a failed transfer sent again (often about the recipient and their account).
        RetryApproval.objects.filter(failed__in=parts).update(reason=ANONYMISED, decision_note="")
        for part in parts.exclude(account_name="", account_number="", ewallet_phone=""):
            Disbursement.objects.filter(pk=part.pk).update(
                account_number=_last_four(part.account_number), ewallet_phone=_last_four(part.ewallet_phone),
                account_name="")
        # A destination belongs to a live account until its owner erases it; after that it is only
        # the record of where money went, and goes with that record.
        erased_owners = ErasureRecord.objects.values("user_id")
        used = (PayoutDestination.objects.filter(owner__in=erased_owners)
                .filter(Q(disbursements__payout__escrow_transaction__in=pks) | Q(pk__in=RefundRequest.objects.filter(
                    escrow_transaction__in=pks).values("destination_id"))).distinct())
        for destination in used.exclude(account_holder_name=ANONYMISED):
            PayoutDestination.objects.filter(pk=destination.pk).update(
                account_number=_last_four(destination.account_number),
                ewallet_phone=_last_four(destination.ewallet_phone),
                account_holder_name=ANONYMISED, verified_name="")
        return len(pks)
    return Counter(transactions_anonymised=_batches(due, handle))


def transactions_past_their_period(now: dt.datetime) -> Q:
    """Transactions whose records are past the transaction-records period at ``now``: closed, and
    nothing of them finished after the cutoff (``privacy.obligations``). Whatever belongs to a
    transaction's records goes with them: the steps of payment links and milestone plans ask the same."""
    cutoff = retention.TRANSACTION_RECORDS.cutoff(now)
    return Q(status__in=CLOSED_STATES, closed_at__lte=cutoff) & ~obligations.in_motion(since=cutoff)


def _payment_links(now) -> Counter:
    """A closed payment link goes with the records of the transactions it started, once every one of
    them is past its period; a link closed without starting one is an offer (``UNACCEPTED_OFFERS``).
    A link still open is the seller's live listing (erasure closes it)."""
    started = EscrowTransaction.objects.filter(payment_link_use__payment_link=OuterRef("pk"))
    not_yet_due = started.exclude(transactions_past_their_period(now))
    offers_cutoff = retention.UNACCEPTED_OFFERS.cutoff(now)
    due = (PaymentLink.objects.filter(status=PaymentLink.Status.CLOSED).exclude(title=ANONYMISED)
           .filter(Q(Exists(started), ~Exists(not_yet_due)) | Q(~Exists(started), closed_at__lte=offers_cutoff)))
    return Counter(payment_links=_batches(due, lambda pks: paylink_services.payment_links_anonymise(
        payment_link_ids=pks, text=ANONYMISED)))


def _last_four(number: str) -> str:
    return f"****{number[-4:]}" if number else ""


def _bank_statement_lines(now) -> Counter:
    cutoff = retention.BANK_STATEMENT_LINES.cutoff(now)
    due = BankStatementLine.objects.filter(booked_on__lte=cutoff.date()).exclude(description=ANONYMISED)
    # Why staff matched a line to a payer names the payer as much as the description does.
    return Counter(bank_statement_lines=_batches(
        due, lambda pks: BankStatementLine.objects.filter(pk__in=pks).update(description=ANONYMISED,
                                                                             assigned_reason="")))


def _audit_trail(now) -> Counter:
    cutoff = retention.AUDIT_TRAIL.cutoff(now)
    return Counter(audit_entries=_delete(AuditEntry, AuditEntry.objects.filter(created_at__lte=cutoff)))


STEPS = (
    _login_records, _data_exports, _email_changes, _notifications, _staff_access_log, _dispute_conversations,
    _refund_documents, _identities, _transaction_records, _payment_links, _bank_statement_lines, _audit_trail,
)

# Steps of apps above privacy, by app: ``step(now)`` returns a Counter of what it removed, as the steps
# above do. Registered from the app's ``AppConfig.ready()``; the same key again replaces it.
_REGISTERED_STEPS: dict[str, Callable[[dt.datetime], Counter]] = {}


def purge_step_register(key: str, step: Callable[[dt.datetime], Counter]) -> None:
    _REGISTERED_STEPS[key] = step


def retention_apply(*, now: dt.datetime | None = None) -> RetentionRun:
    """Apply every retention rule as of ``now`` (default: the current time); report what went."""
    started = timezone.now()
    now = now or started
    counted: Counter[str] = Counter()
    for step in (*STEPS, *list(_REGISTERED_STEPS.values())):
        counted.update(step(now))
    removed = {key: count for key, count in sorted(counted.items()) if count}
    with transaction.atomic():
        run = RetentionRun.objects.create(started_at=started, finished_at=timezone.now(), as_of=now, removed=removed)
        audit_record(actor=None, action="privacy.retention_run", target=run, data={"removed": removed})
    logger.info("retention run %s as of %s removed %s", run.pk, now.isoformat(), removed or "nothing")
    return run
