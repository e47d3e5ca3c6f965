"""What a person's data archive contains (UU PDP Pasal 7, 13 and 32): one section per kind of
record, each declaring the models it covers.

``sections()`` (the core ``SECTIONS`` plus those registered by apps above privacy) and
``NOT_EXPORTED`` together must account for every model of the project that holds personal data;
``privacy.registry`` finds those models by introspection and a test fails when one is in neither,
so a new model cannot be forgotten.

Apps above privacy in the import direction (DESIGN.md §2: milestones, partners) cannot be imported
from here, so they declare their own section with ``section_register`` from their
``AppConfig.ready()``, the collect function living in their own app (``<app>/privacy_export.py``).
The archive, the PDF and the registry only ever ask ``sections()``, so a registered section is
exported, rendered and counted as declared exactly like a core one.

Choices made here (and told to the person in the archive's notes):

* Account numbers and e-wallet numbers show only their last four digits. They are specific
  personal data (financial data, UU PDP Pasal 4 ayat (2) huruf f); the archive leaves INTRASA's
  protection the moment it is downloaded, a full number with its holder name is what payout and
  social-engineering fraud needs, and the person already knows their own number. Four digits are
  enough to recognise each account.
* Other people's data is left out (Pasal 33 huruf b): for the other party of a transaction only the
  name shown on the transaction page appears, never their email address or phone number; files the
  other party uploaded to a dispute are listed but not included.
* The staff access log shows when and which kind of record staff opened, not who or why: staff
  names are the staff's personal data, and a reason may concern an anti-money-laundering
  investigation, which the law forbids revealing (UU 8/2010 Pasal 12).
"""
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import Callable

from django.db.models import Count, Prefetch, Q
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.domestic import DOMESTIC_BANKS, EWALLET_PROVIDERS, mask_account_number
from accounts.models import PayoutDestination
from audit.models import AuditEntry
from disbursements.models import Disbursement, Payout
from disputes.models import Dispute, DisputeMessage, Evidence
from notifications.models import Notification
from paylinks.models import PaymentLink, PaymentLinkUse
from payments.channels import channel_get
from payments.models import Bill
from refunds.models import RefundDocument, RefundRequest, ReturnShipment
from refunds.selectors import refund_transfer_window
from transactions.models import EscrowTransaction
from workdays.calendar import working_calendar

from . import consents
from .models import (
    ConsentEvent,
    EmailChangeRequest,
    LoginRecord,
    PersonalDataExport,
    ProfileChange,
    StaffAccessLog,
)

FORMAT = "intrasa-personal-data/1"


@dataclass(frozen=True)
class ArchiveFile:
    storage_name: str  # name in the private storage
    archive_path: str  # where it goes in the ZIP


@dataclass
class Collected:
    records: list[dict]
    files: list[ArchiveFile] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    models: tuple[str, ...]  # model labels ("app_label.ModelName") this section exports
    collect: Callable[..., Collected]


def _choice(value, choices: dict) -> str:
    return str(choices.get(value, value)) if value else ""


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name or "file"))
    return cleaned.strip("._") or "file"


def _institution(bank_code: str, ewallet: str) -> str:
    if bank_code:
        return DOMESTIC_BANKS.get(bank_code, bank_code)
    return EWALLET_PROVIDERS.get(ewallet, ewallet)


# --- collectors ---------------------------------------------------------------------------------

def _profile(user) -> Collected:
    return Collected([{
        "account_id": user.pk,
        "email": user.email,
        "email_verified_at": user.email_verified_at,
        "full_name": user.full_name,
        "phone": user.phone,
        "preferred_language": user.preferred_language,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "is_active": user.is_active,
    }])


def _profile_changes(user) -> Collected:
    return Collected([{
        "changed_at": change.changed_at,
        "field": change.field,
        "field_label": change.get_field_display(),
        "old_value": change.old_value,
        "new_value": change.new_value,
        "changed_by": change.get_changed_by_role_display(),
    } for change in ProfileChange.objects.filter(user=user).order_by("changed_at", "id")])


def _consents(user) -> Collected:
    return Collected([{
        "at": event.at,
        "purpose": event.purpose,
        "purpose_label": str(consents.BY_KEY[event.purpose].label) if event.purpose in consents.BY_KEY else event.purpose,
        "granted": event.granted,
        "wording": event.wording,
        "via": event.via,
        "via_label": str(CONSENT_VIA.get(event.via, event.via)),
    } for event in ConsentEvent.objects.filter(user=user).order_by("at", "id")])


CONSENT_VIA = {"privacy_page": _("The “My data” page"), "erasure": _("Erasure of the account")}


def _payout_destinations(user) -> Collected:
    return Collected([{
        "kind": destination.kind,
        "kind_label": destination.get_kind_display(),
        "institution": _institution(destination.bank_code, destination.ewallet_provider),
        "account_number": mask_account_number(destination.account_number or destination.ewallet_phone),
        "account_holder_name": destination.account_holder_name,
        "verification": destination.verification,
        "verification_label": destination.get_verification_display(),
        "name_at_bank": destination.verified_name,
        "verified_at": destination.verified_at,
        "is_default": destination.is_default,
        "is_archived": destination.is_archived,
        "created_at": destination.created_at,
    } for destination in PayoutDestination.objects.filter(owner=user).order_by("created_at", "id")])


def _party_transactions(user):
    return EscrowTransaction.objects.filter(Q(seller=user) | Q(buyer=user))


def _transactions(user) -> Collected:
    records = []
    txns = (_party_transactions(user).select_related("seller", "buyer")
            .prefetch_related("events").order_by("created_at", "id"))
    for txn in txns:
        role = txn.role_of(user)
        other = txn.buyer if role == "seller" else txn.seller
        record = {
            "reference": txn.reference,
            "role": role,
            "role_label": gettext("Seller") if role == "seller" else gettext("Buyer"),
            "counterparty": other.full_name if other is not None else "",
            "title": txn.title,
            "description": txn.description,
            "category": txn.category,
            "category_label": txn.get_category_display(),
            "status": txn.status,
            "status_label": txn.get_status_display(),
            "price": txn.price,
            "shipping_cost": txn.shipping_cost,
            "fee_amount": txn.fee_amount,
            "fee_paid_by": txn.get_fee_payer_display(),
            "your_fee_share": txn.seller_fee if role == "seller" else txn.buyer_fee,
            "amount_due": txn.amount_due,
            "amount_received": txn.amount_received,
            "created_at": txn.created_at,
            "accepted_at": txn.accepted_at,
            "paid_at": txn.paid_at,
            "verified_at": txn.verified_at,
            "shipped_at": txn.shipped_at,
            "courier": txn.get_courier_display() if txn.courier else "",
            "tracking_number": txn.tracking_number,
            "delivery_note": txn.delivery_note,
            "confirmed_at": txn.confirmed_at,
            "auto_confirmed": txn.auto_confirmed,
            "closed_at": txn.closed_at,
            "timeline": [{
                "at": event.created_at,
                "step": event.label,
                "from_status": event.get_from_status_display() if event.from_status else "",
                "to_status": event.get_to_status_display() if event.to_status else "",
                "by": event.get_actor_role_display(),
                "reason": event.reason,
            } for event in txn.events.all()],
        }
        if role == "buyer":
            # How the seller reached the buyer: the buyer's own address and number.
            record["invited_email"] = txn.buyer_email
            record["invited_phone"] = txn.buyer_phone
        records.append(record)
    return Collected(records)


def _payments(user) -> Collected:
    bills = (Bill.objects.filter(escrow_transaction__buyer=user)
             .select_related("escrow_transaction", "statement_line").order_by("created_at", "id"))
    records = []
    for bill in bills:
        channel = channel_get(bill.channel_code)
        line = getattr(bill, "statement_line", None)
        records.append({
            "transaction": bill.escrow_transaction.reference,
            "bill_number": bill.bill_no,
            "method": bill.method,
            "method_label": bill.get_method_display(),
            "channel": channel.name if channel else bill.channel_code,
            "amount": bill.amount,
            "pay_code": bill.pay_code,
            "status": bill.status,
            "status_label": bill.get_status_display(),
            "created_at": bill.created_at,
            "expires_at": bill.expires_at,
            "paid_amount": bill.paid_amount,
            "paid_at": bill.paid_at,
            "verified_at": bill.verified_at,
            "payment_reference": bill.payment_reference,
            "statement_booked_on": line.booked_on if line else None,
            "statement_description": line.description if line else "",
            "statement_bank_reference": line.bank_reference if line else "",
        })
    return Collected(records)


def _payouts(user) -> Collected:
    payouts = (Payout.objects.filter(recipient=user).select_related("escrow_transaction")
               .prefetch_related(Prefetch("parts", queryset=Disbursement.objects.order_by("sequence", "id")))
               .order_by("created_at", "id"))
    return Collected([{
        "transaction": payout.escrow_transaction.reference,
        "purpose": payout.purpose,
        "purpose_label": payout.get_purpose_display(),
        "amount": payout.amount,
        "status": payout.status,
        "status_label": payout.get_status_display(),
        "reason": payout.reason,
        "promised_by": payout.due_at,
        "created_at": payout.created_at,
        "completed_at": payout.completed_at,
        "parts": [{
            "part": part.sequence,
            "amount": part.amount,
            "status_label": part.get_status_display(),
            "institution": _institution(part.bank_code, part.ewallet_provider),
            "account_number": mask_account_number(part.account_number or part.ewallet_phone),
            "account_name": part.account_name,
            "partner_reference": part.partner_reference_no,
            "sendme_reference": part.provider_reference_no,
            "sent_at": part.sent_at,
            "completed_at": part.completed_at,
            "failure_reason": part.failure_reason,
        } for part in payout.parts.all()],
    } for payout in payouts])


def _refunds(user) -> Collected:
    requests = (RefundRequest.objects.filter(buyer=user)
                .select_related("escrow_transaction", "destination", "return_shipment", "payout")
                .prefetch_related(Prefetch("documents", queryset=RefundDocument.objects.order_by("created_at", "id")))
                .order_by("created_at", "id"))
    records, files = [], []
    calendar = working_calendar()
    for req in requests:
        window = refund_transfer_window(req, calendar=calendar)
        documents = []
        for doc in req.documents.all():
            entry = {"added_at": doc.created_at, "document": doc.get_kind_display(), "from": doc.get_source_display(),
                     "value": doc.value, "file_name": doc.original_name, "file_in_archive": ""}
            if doc.file and doc.uploaded_by_id == user.pk:
                entry["file_in_archive"] = f"files/refunds/{doc.pk}-{_safe_name(doc.original_name)}"
                files.append(ArchiveFile(doc.file.name, entry["file_in_archive"]))
            documents.append(entry)
        records.append({
            "transaction": req.escrow_transaction.reference,
            "case": req.case,
            "case_label": req.get_case_display(),
            "status": req.status,
            "status_label": req.get_status_display(),
            "amount": req.amount,
            "uncovered_amount": req.uncovered_amount,
            "restocking_fee": req.restocking_fee,
            "payment_method": req.get_payment_family_display(),
            "chronology": req.description,
            "refund_to": req.destination.label if req.destination_id else "",
            "created_at": req.created_at,
            "approved_at": req.approved_at,
            # Computed, as every page shows them (``refunds.policy.transfer_starts_at``); none before it starts.
            "arrives_from": window[0] if window else None,
            "arrives_by": window[1] if window else None,
            "rejected_reason": req.rejected_reason,
            "completed_at": req.completed_at,
            "documents": documents,
            "return": _return_of(req),
        })
    return Collected(records, files)


def _return_of(req) -> list[dict]:
    """The goods sent back for a refund (RMA, where to, the buyer's courier receipt, the inspection):
    a list like every nested record of the archive, empty when nothing goes back."""
    try:
        shipment = req.return_shipment
    except ReturnShipment.DoesNotExist:
        return []
    return [{"rma": shipment.rma_number, "status": shipment.get_status_display(), "address": shipment.address,
            "courier": shipment.courier, "receipt_number": shipment.receipt_number,
            "shipped_back_at": shipment.shipped_back_at, "arrived_at": shipment.arrived_at,
            "inspection": shipment.inspection_note, "decision": shipment.decision_reason,
            # After an upheld rejection, the goods' way back to the buyer (refunds.policy: RESEND_*).
            "buyer_address": shipment.buyer_address, "resend_courier": shipment.resend_courier,
            "resend_receipt_number": shipment.resend_receipt_number, "back_with_buyer_at": shipment.back_with_buyer_at}]


def _disputes(user) -> Collected:
    disputes = (Dispute.objects.filter(Q(escrow_transaction__seller=user) | Q(escrow_transaction__buyer=user))
                .select_related("escrow_transaction")
                .prefetch_related(Prefetch("messages", queryset=DisputeMessage.objects.order_by("created_at", "id")),
                                  Prefetch("evidence", queryset=Evidence.objects.order_by("created_at", "id")),
                                  "offers")
                .order_by("created_at", "id"))
    records, files = [], []
    for dispute in disputes:
        txn = dispute.escrow_transaction
        evidence = []
        for item in dispute.evidence.all():
            entry = {"uploaded_at": item.created_at, "by": item.get_role_display(), "shows": item.get_purpose_display(),
                     "file_name": item.original_name, "content_type": item.content_type, "size": item.size,
                     "sha256": item.sha256, "file_in_archive": ""}
            if item.file and item.uploaded_by_id == user.pk:
                entry["file_in_archive"] = f"files/disputes/{item.pk}-{_safe_name(item.original_name)}"
                files.append(ArchiveFile(item.file.name, entry["file_in_archive"]))
            evidence.append(entry)
        records.append({
            "transaction": txn.reference,
            "your_role": gettext("Seller") if txn.seller_id == user.pk else gettext("Buyer"),
            "reason": dispute.get_reason_display(),
            "description": dispute.description,
            "status": dispute.status,
            "status_label": dispute.get_status_display(),
            "outcome": dispute.get_outcome_display() if dispute.outcome else "",
            "buyer_amount": dispute.buyer_amount,
            "resolution_reason": dispute.resolution_reason,
            "opened_at": dispute.created_at,
            "resolved_at": dispute.resolved_at,
            "messages": [{"at": message.created_at, "by": message.get_role_display(),
                          "written_by_you": message.author_id == user.pk, "message": message.body}
                         for message in dispute.messages.all()],
            "evidence": evidence,
            "offers": [{"at": offer.created_at, "by": offer.get_role_display(), "offer": offer.get_outcome_display(),
                        "buyer_amount": offer.buyer_amount, "note": offer.note, "status_label": offer.get_status_display(),
                        "answered_at": offer.responded_at, "answer": offer.response_note}
                       for offer in sorted(dispute.offers.all(), key=lambda o: (o.created_at, o.pk))],
        })
    return Collected(records, files)


def _notifications(user) -> Collected:
    return Collected([{
        "created_at": note.created_at,
        "kind": note.kind,
        "subject": note.subject,
        "message": note.body,
        "link": note.link,
        "sent_to": note.email,
        "email_sent_at": note.email_sent_at,
        "read_at": note.read_at,
    } for note in Notification.objects.filter(recipient=user).order_by("created_at", "id")])


def _logins(user) -> Collected:
    from axes.models import AccessFailureLog

    logins = [{
        "at": login.at,
        "succeeded": True,
        "ip_address": login.ip_address or "",
        "user_agent": login.user_agent,
    } for login in LoginRecord.objects.filter(user=user).order_by("at", "id")]
    # Failed attempts are kept by django-axes under the address typed, in its canonical form.
    failures = [{
        "at": failure.attempt_time,
        "succeeded": False,
        "ip_address": failure.ip_address or "",
        "user_agent": failure.user_agent,
    } for failure in AccessFailureLog.objects.filter(username=user.email).order_by("attempt_time", "id")]
    return Collected(sorted(logins + failures, key=lambda row: row["at"]))


def _email_changes(user) -> Collected:
    return Collected([{
        "requested_at": change.created_at,
        "new_email": change.new_email,
        "valid_until": change.expires_at,
        "confirmed_at": change.confirmed_at,
    } for change in EmailChangeRequest.objects.filter(user=user).order_by("created_at", "id")])


def _data_exports(user) -> Collected:
    return Collected([{
        "requested_at": export.requested_at,
        "status_label": export.get_status_display(),
        "ready_at": export.ready_at,
        "download_until": export.expires_at,
        "downloaded_at": export.downloaded_at,
    } for export in PersonalDataExport.objects.filter(user=user).order_by("requested_at", "id")])


def _activity(user) -> Collected:
    """What the person did. The record is named only when it is their own account: other records'
    names can carry someone else's data (a staff member's approval names the customer's account)."""
    own = (user._meta.label, str(user.pk))
    return Collected([{
        "at": entry.created_at,
        "action": entry.action,
        "record": entry.object_repr if (entry.object_type, entry.object_id) == own else entry.object_type,
        "reason": entry.reason,
    } for entry in AuditEntry.objects.filter(actor=user).order_by("created_at", "id")])


def _staff_access(user) -> Collected:
    return Collected([{
        "at": access.at,
        "what": access.get_kind_display(),
        "record": access.object_id,
    } for access in StaffAccessLog.objects.filter(subject=user).order_by("at", "id")])


def _payment_links(user) -> Collected:
    """The links the person made as a seller, then the links they bought through. A buyer's record
    names the seller as the link page shows them, never the seller's contact details."""
    links = PaymentLink.objects.filter(seller=user).annotate(started=Count("uses")).order_by("created_at", "id")
    records = [{
        "role": "seller",
        "role_label": gettext("Seller"),
        "title": link.title,
        "price": link.price,
        "shipping_cost": link.shipping_cost,
        "fee_paid_by": link.get_fee_payer_display(),
        "status": link.status,
        "status_label": link.get_status_display(),
        "max_transactions": link.max_transactions,
        "transactions_started": link.started,
        "created_at": link.created_at,
        "closed_at": link.closed_at,
    } for link in links]
    uses = (PaymentLinkUse.objects.filter(buyer=user).select_related("payment_link__seller", "escrow_transaction")
            .order_by("created_at", "id"))
    records += [{
        "role": "buyer",
        "role_label": gettext("Buyer"),
        "title": use.payment_link.title,
        "counterparty": use.payment_link.seller.full_name,
        "transaction": use.escrow_transaction.reference,
        "at": use.created_at,
    } for use in uses]
    return Collected(records)


SECTIONS: tuple[Section, ...] = (
    Section("profile", _("Profile"), ("accounts.User",), _profile),
    Section("profile_changes", _("Changes to your profile"), ("privacy.ProfileChange",), _profile_changes),
    Section("consents", _("Consents"), ("privacy.ConsentEvent",), _consents),
    Section("payout_destinations", _("Payout destinations"), ("accounts.PayoutDestination",), _payout_destinations),
    Section("transactions", _("Transactions and their timelines"),
            ("transactions.EscrowTransaction", "transactions.TransactionEvent"), _transactions),
    Section("payments", _("Payments"), ("payments.Bill", "payments.BankStatementLine"), _payments),
    Section("payouts", _("Payouts and refunds paid to you"), ("disbursements.Payout", "disbursements.Disbursement"),
            _payouts),
    Section("payment_links", _("Payment links"), ("paylinks.PaymentLink", "paylinks.PaymentLinkUse"),
            _payment_links),
    Section("refund_requests", _("Refund requests"),
            ("refunds.RefundRequest", "refunds.RefundDocument", "refunds.ReturnShipment"), _refunds),
    Section("disputes", _("Disputes, messages and evidence"),
            ("disputes.Dispute", "disputes.DisputeMessage", "disputes.Evidence", "disputes.SettlementOffer"),
            _disputes),
    Section("notifications", _("Notifications and emails"), ("notifications.Notification",), _notifications),
    Section("logins", _("Logins"), ("privacy.LoginRecord", "axes.AccessFailureLog"), _logins),
    Section("email_changes", _("Requests to change your email address"), ("privacy.EmailChangeRequest",),
            _email_changes),
    Section("data_exports", _("Your data archives"), ("privacy.PersonalDataExport",), _data_exports),
    Section("activity", _("Your actions in the audit trail"), ("audit.AuditEntry",), _activity),
    Section("staff_access", _("When INTRASA staff opened your data"), ("privacy.StaffAccessLog",), _staff_access),
)

# Sections of apps above privacy, by key (see the module docstring).
_REGISTERED: dict[str, Section] = {}


def section_register(section: Section) -> None:
    """Add an app's section to the archive, after the core ones. Called from the app's
    ``AppConfig.ready()``; registering the same key again replaces it (``ready()`` may run twice
    in tests), but a key of a core section is refused: it would hide that section."""
    if any(core.key == section.key for core in SECTIONS):
        raise ValueError(f"{section.key!r} is a core section of the personal-data archive")
    _REGISTERED[section.key] = section


def sections() -> tuple[Section, ...]:
    """Every section of the archive: the core ones, then the registered ones in registration order."""
    return SECTIONS + tuple(_REGISTERED.values())


# Models that look personal to ``privacy.registry`` but are not in a person's archive, and why: not
# personal at all, or covered by another section. Keys are model labels; the registry checks that
# every personal-looking model is here or in a section.
NOT_EXPORTED: dict[str, str] = {
    "auth.Group": "Not personal: its name is the name of a staff role.",
    "auth.Permission": "Not personal: its name describes a permission.",
    "admin.LogEntry": "Django admin's change log: what staff changed; the same actions are in the audit "
                      "trail, and changes to the person's profile are in their profile history.",
    "ledger.JournalEntry": "Ledger entries name only the staff member who posted a correction; the money of each "
                           "transaction is exported with the transaction, payments and payouts.",
    "disbursements.DailyLimitChange": "SendMe daily-limit changes made by finance staff: no customer data.",
    "disbursements.RetryApproval": "A staff request, and a second staff member's decision, to retry a failed payout "
                                   "under a new reference: names staff only; the payout itself is exported.",
    "treasury.FaspayInvoice": "Faspay's monthly invoice to INTRASA, entered by finance staff: no customer data.",
    "treasury.WithdrawalInstruction": "Withdrawals to INTRASA's own bank accounts, prepared by finance staff.",
    "treasury.ReconciliationItem": "Differences found between INTRASA and Faspay, resolved by staff; the payments "
                                   "and payouts they concern are exported in their own sections.",
    "workdays.CalendarOverride": "Holiday corrections entered by staff: no customer data.",
    "axes.AccessAttempt": "django-axes' running count of failed logins behind the lock-out; the same attempts "
                          "are exported one by one from axes.AccessFailureLog.",
    "axes.AccessLog": "Not written (AXES_DISABLE_ACCESS_LOG): successful logins are privacy.LoginRecord.",
    "otp_totp.TOTPDevice": "A staff member's authenticator: a device name and a secret that must never leave the "
                           "server; staff see their devices on the Authenticator app page.",
    "otp_static.StaticDevice": "A staff member's backup codes: secrets that must never leave the server.",
    "privacy.ErasureRecord": "Exists only once the account is erased and can no longer log in; a former user's "
                             "request is answered by the data protection officer from this row.",
    "privacy.RetainedIdentity": "Exists only once the account is erased (see privacy.ErasureRecord).",
    "sandbox.DepositAccount": "The Faspay stand-in's deposit account (INTRASA's own): development and tests only.",
    "sandbox.Bill": "The Faspay stand-in for development and tests; disabled in production.",
    "sandbox.Transfer": "The Faspay stand-in for development and tests; disabled in production.",
    "sandbox.RegisteredAccount": "The Faspay stand-in for development and tests; disabled in production.",
    "partners.Partner": "A forum or marketplace registered by staff: a business, not a person (its name is the "
                        "business's name); a seller's link to it is exported in the partner links section.",
}


def collect(user) -> tuple[dict, list[ArchiveFile]]:
    """Everything held about ``user``: the archive's JSON document and the files that go with it."""
    from django.utils import timezone

    by_key, files = {}, []
    for section in sections():
        collected = section.collect(user)
        by_key[section.key] = collected.records
        files.extend(collected.files)
    document = {
        "format": FORMAT,
        "generated_at": timezone.now(),
        "account_id": user.pk,
        "notes": [str(note) for note in NOTES],
        "sections": by_key,
    }
    return document, files


NOTES = (
    _("Account numbers and e-wallet numbers show only their last four digits, to protect you if this file "
      "falls into the wrong hands."),
    _("Other people's contact details and the files they uploaded are not included; their names appear only "
      "where you already see them on the transaction page."),
    _("Times are Western Indonesia Time (WIB); amounts are whole Rupiah."),
)


def present_value(key: str, value):
    """A value as a person reads it in the PDF."""
    from intrasa.money import format_rupiah
    from intrasa.wib import format_wib

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dt.datetime):
        return format_wib(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and key in AMOUNT_KEYS:
        return format_rupiah(value)
    return str(value)


AMOUNT_KEYS = frozenset({"price", "shipping_cost", "fee_amount", "your_fee_share", "amount_due", "amount_received",
                         "amount", "paid_amount", "uncovered_amount", "restocking_fee", "buyer_amount", "total"})


# --- the PDF: the same document, for reading ----------------------------------------------------

LABELS = {
    "account_id": _("Account ID"), "email": _("Email address"), "email_verified_at": _("Email verified at"),
    "full_name": _("Full name"), "phone": _("Mobile number"), "preferred_language": _("Language"),
    "date_joined": _("Joined"), "last_login": _("Last login"), "is_active": _("Account active"),
    "changed_at": _("When"), "field": _("What"), "old_value": _("Before"), "new_value": _("After"),
    "changed_by": _("By"), "at": _("When"), "purpose": _("Consent"), "granted": _("Given"),
    "wording": _("Wording"), "via": _("Where"), "kind": _("Kind"), "institution": _("Bank / e-wallet"),
    "account_number": _("Account number (last 4 digits)"), "account_holder_name": _("Account holder name"),
    "verification": _("Verification"), "name_at_bank": _("Name at the bank"), "verified_at": _("Verified at"),
    "is_default": _("Default"), "is_archived": _("Archived"), "created_at": _("Created"),
    "reference": _("Reference number"), "role": _("Your role"), "counterparty": _("Other party"),
    "title": _("Title"), "description": _("Description"), "category": _("Category"), "status": _("Status"),
    "price": _("Price"), "shipping_cost": _("Shipping cost"), "fee_amount": _("Service fee"),
    "fee_paid_by": _("Service fee paid by"), "your_fee_share": _("Your share of the fee"),
    "amount_due": _("Amount the buyer pays"), "amount_received": _("Amount received"), "accepted_at": _("Accepted"),
    "paid_at": _("Paid"), "shipped_at": _("Shipped"), "courier": _("Courier"),
    "tracking_number": _("Receipt (resi) number"), "delivery_note": _("Delivery note"),
    "confirmed_at": _("Confirmed"), "auto_confirmed": _("Confirmed automatically"), "closed_at": _("Closed"),
    "invited_email": _("Invited at email address"), "invited_phone": _("Invited at mobile number"),
    "timeline": _("Timeline"), "step": _("Step"), "from_status": _("From"), "to_status": _("To"), "by": _("By"),
    "reason": _("Reason"), "transaction": _("Transaction"), "bill_number": _("Bill number"), "method": _("Method"),
    "channel": _("Channel"), "amount": _("Amount"), "pay_code": _("Virtual account / payment code"),
    "expires_at": _("Pay before"), "paid_amount": _("Amount paid"), "payment_reference": _("Payment reference"),
    "statement_booked_on": _("Booked on INTRASA's bank statement"),
    "statement_description": _("Bank statement description"), "statement_bank_reference": _("Bank reference"),
    "promised_by": _("Promised by"), "completed_at": _("Completed"), "parts": _("Transfers"), "part": _("Part"),
    "account_name": _("Account holder name"), "partner_reference": _("Partner reference"),
    "sendme_reference": _("SendMe reference"), "sent_at": _("Sent"), "failure_reason": _("Failure"),
    "case": _("Case"), "uncovered_amount": _("Not covered by the escrow"), "restocking_fee": _("Restocking fee"),
    "payment_method": _("Original payment method"), "chronology": _("Chronology"), "refund_to": _("Refund to"),
    "approved_at": _("Approved"), "arrives_from": _("Arrives from"), "arrives_by": _("Arrives by"),
    "rejected_reason": _("Rejection reason"), "documents": _("Documents"), "added_at": _("Added"),
    "document": _("Document"), "from": _("From"), "value": _("Number or note"), "file_name": _("File name"),
    "file_in_archive": _("In this archive as"), "your_role": _("Your role"), "outcome": _("Outcome"),
    "buyer_amount": _("Amount to the buyer"), "resolution_reason": _("Resolution reason"), "opened_at": _("Opened"),
    "resolved_at": _("Resolved"), "messages": _("Messages"), "written_by_you": _("Written by you"),
    "message": _("Message"), "evidence": _("Evidence"), "uploaded_at": _("Uploaded"), "shows": _("What it shows"),
    "content_type": _("Content type"), "size": _("Size (bytes)"), "sha256": _("SHA-256"), "offers": _("Offers"),
    "offer": _("Offer"), "note": _("Note"), "answered_at": _("Answered"), "answer": _("Answer"),
    "subject": _("Subject"), "link": _("Link"), "sent_to": _("Sent to"), "email_sent_at": _("Email sent"),
    "read_at": _("Read"), "ip_address": _("IP address"), "user_agent": _("Browser (user agent)"),
    "succeeded": _("Logged in"),
    "requested_at": _("Requested"), "new_email": _("New email address"), "valid_until": _("Valid until"),
    "ready_at": _("Ready"), "download_until": _("Download until"), "downloaded_at": _("Downloaded"),
    "action": _("Action"), "record": _("Record"), "what": _("What"),
    "return": _("Return"), "rma": _("RMA number"), "address": _("Send the goods to"),
    "receipt_number": _("Return receipt"), "shipped_back_at": _("shipped back at"), "arrived_at": _("Back at the seller"),
    "inspection": _("Inspection result"), "decision": _("INTRASA's decision"),
    "buyer_address": _("Your address for the goods"), "resend_courier": _("Courier to the buyer"),
    "resend_receipt_number": _("Courier and receipt to the buyer"), "back_with_buyer_at": _("Back with the buyer"),
    "max_transactions": _("Most transactions"), "transactions_started": _("Transactions started"),
    "schedule": _("Payment schedule"), "total": _("Total value"), "milestones": _("Milestones"),
    "number": _("Number"), "due_date": _("Due date"), "partner": _("Partner"),
    "scopes": _("Permissions given"), "linked_at": _("Linked"), "revoked_at": _("Revoked"),
}


def label_for(key: str) -> str:
    return str(LABELS[key])


def _visible(record: dict) -> list[str]:
    """Keys to show: a code with a ``*_label`` companion is shown once, as the label."""
    return [key for key in record if f"{key}_label" not in record]


def _key(key: str) -> str:
    return key[: -len("_label")] if key.endswith("_label") else key


def present(document: dict) -> list[dict]:
    """The archive's sections as the PDF template shows them: per record, its fields as
    (label, text) and its lists as small tables."""
    presented = []
    for section in sections():
        records = []
        for record in document["sections"][section.key]:
            fields, tables = [], []
            for key in _visible(record):
                value = record[key]
                if isinstance(value, list):
                    columns = _visible(value[0]) if value else []
                    tables.append({"title": label_for(key), "columns": [label_for(_key(c)) for c in columns],
                                   "rows": [[present_value(_key(c), row[c]) for c in columns] for row in value]})
                else:
                    fields.append((label_for(_key(key)), present_value(_key(key), value)))
            records.append({"fields": fields, "tables": tables})
        presented.append({"key": section.key, "title": section.title, "records": records})
    return presented
