"""Reading a person's privacy state: consents, history, archives, and what stands in the way of an
erasure and what an erasure keeps."""
import datetime as dt
from dataclasses import dataclass
from typing import Callable

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.validators import canonical_email
from audit.models import AuditEntry
from disbursements.models import Disbursement, Payout
from disputes.models import Dispute
from intrasa.money import format_rupiah
from intrasa.wib import WIB
from ledger.models import AccountCategory, Posting
from ledger.selectors import SIGNED, normal_balance
from payments.models import BankStatementLine, Bill
from refunds.models import RefundRequest
from refunds.selectors import return_shipments_in_motion
from transactions.models import CLOSED_STATES, EscrowTransaction

from . import consents, obligations, retention
from .models import ConsentEvent, EmailChangeRequest, LoginRecord, PersonalDataExport, ProfileChange, StaffAccessLog

# --- consents ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConsentState:
    purpose: consents.Purpose
    granted: bool
    since: dt.datetime | None


def consent_states(*, user) -> list[ConsentState]:
    """Each purpose with its current state; without a record it is not consented."""
    latest = {}
    for event in ConsentEvent.objects.filter(user=user).order_by("at", "id"):
        latest[event.purpose] = event
    return [ConsentState(purpose, bool(latest.get(purpose.key) and latest[purpose.key].granted),
                         latest[purpose.key].at if purpose.key in latest else None)
            for purpose in consents.PURPOSES]


def users_consenting(*, purpose: str):
    """Active accounts whose latest decision for ``purpose`` is a grant: the only people a
    consent-based email (a newsletter, an offer) may go to."""
    if purpose not in consents.BY_KEY:
        raise ValueError(f"unknown consent purpose {purpose!r}")
    latest = (ConsentEvent.objects.filter(user=OuterRef("pk"), purpose=purpose).order_by("-at", "-id")
              .values("granted")[:1])
    return get_user_model().objects.filter(is_active=True).annotate(consent=Subquery(latest)).filter(consent=True)


def profile_changes_for(*, user):
    return ProfileChange.objects.filter(user=user).select_related("changed_by").order_by("-changed_at", "-id")


@dataclass(frozen=True)
class FormerAddress:
    """An email address or mobile number ``user`` had before changing it, and when it was theirs:
    from the previous change of that field (or from joining, for the first) until this change. Before
    and after, the address may have been someone else's. Email addresses in their canonical form, as
    invitations and plans store them; mobile numbers as stored (normalised E.164)."""

    field: str
    value: str
    since: dt.datetime
    until: dt.datetime


def former_addresses(*, user) -> list[FormerAddress]:
    """``user``'s former email addresses and mobile numbers, from the history of their profile
    (``ProfileChange``); an empty one (no number yet) is not an address."""
    fields = (ProfileChange.Field.EMAIL, ProfileChange.Field.PHONE)
    since: dict[str, dt.datetime] = {field: user.date_joined for field in fields}
    found = []
    for change in ProfileChange.objects.filter(user=user, field__in=fields).order_by("changed_at", "id"):
        value = canonical_email(change.old_value) if change.field == ProfileChange.Field.EMAIL else change.old_value
        if value:
            found.append(FormerAddress(change.field, value, since[change.field], change.changed_at))
        since[change.field] = change.changed_at
    return found


def sent_to_former_addresses(addresses: list[FormerAddress], *, email_field: str = "", phone_field: str = "",
                             created_field: str = "created_at") -> Q | None:
    """The rows addressed to one of ``addresses`` (by ``email_field`` / ``phone_field``) and created
    while it was the person's; ``None`` when there is none to look for."""
    lookups: dict[str, str] = {ProfileChange.Field.EMAIL: email_field, ProfileChange.Field.PHONE: phone_field}
    condition = None
    for address in addresses:
        if not lookups[address.field]:
            continue
        one = Q(**{lookups[address.field]: address.value, f"{created_field}__gte": address.since,
                   f"{created_field}__lt": address.until})
        condition = one if condition is None else condition | one
    return condition


def exports_for(*, user):
    return PersonalDataExport.objects.filter(user=user).order_by("-requested_at", "-id")


def export_get_for_owner(*, user, pk: int) -> PersonalDataExport | None:
    return PersonalDataExport.objects.filter(user=user, pk=pk).first()


def pending_email_change(*, user) -> EmailChangeRequest | None:
    return (EmailChangeRequest.objects.filter(user=user, confirmed_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at").first())


# --- erasure ----------------------------------------------------------------------------------

def _party(user):
    return Q(seller=user) | Q(buyer=user)


# Blockers of apps above privacy, by app (DESIGN.md §2: privacy cannot import them): each is
# called as ``blocker(user=...)`` and returns its sentences, like the core ones below.
_ERASURE_BLOCKERS: dict[str, Callable[..., list[str]]] = {}


def erasure_blocker_register(key: str, blocker: Callable[..., list[str]]) -> None:
    """Register an app's erasure blocker from its ``AppConfig.ready()``; the same key again replaces it."""
    _ERASURE_BLOCKERS[key] = blocker


def erasure_blockers(*, user) -> list[str]:
    """Why ``user``'s account cannot be erased now, one sentence per open thing; empty if it can.

    Anything still in motion needs the person: an open transaction, dispute or refund, a return of
    goods not finished, a payment not verified yet, a payout or transfer that is not final, or money
    the ledger still holds for or owes on one of their transactions. (What keeps a transaction's
    data from the retention job is ``privacy.obligations``; an erasure keeps the transaction
    records themselves, so it need not wait for Finance's reconciliation.)
    """
    reasons = []
    if user.is_staff or user.is_superuser:
        reasons.append(_("Staff accounts are closed by INTRASA's administrators, not from this page."))
    txns = EscrowTransaction.objects.filter(_party(user))
    for txn in txns.exclude(status__in=CLOSED_STATES).order_by("created_at"):
        reasons.append(_("Transaction %(reference)s is not closed yet (%(status)s).")
                       % {"reference": txn.reference, "status": txn.get_status_display()})
    party_txn = Q(escrow_transaction__seller=user) | Q(escrow_transaction__buyer=user)
    party_return = Q(refund_request__escrow_transaction__seller=user) | Q(refund_request__escrow_transaction__buyer=user)
    for dispute in (Dispute.objects.filter(party_txn).exclude(status=Dispute.Status.RESOLVED)
                    .select_related("escrow_transaction")):
        reasons.append(_("The dispute on %(reference)s is still open.")
                       % {"reference": dispute.escrow_transaction.reference})
    for req in (RefundRequest.objects.filter(party_txn, status__in=RefundRequest.OPEN_STATUSES)
                .select_related("escrow_transaction")):
        reasons.append(_("The refund request for %(reference)s is still being handled (%(status)s).")
                       % {"reference": req.escrow_transaction.reference, "status": req.get_status_display()})
    # A rejected request may still have goods travelling back to the buyer, who must say where and
    # receive them, and a seller who must send them (``refunds.policy``: RESEND_*).
    for shipment in (return_shipments_in_motion().filter(party_return)
                     .select_related("refund_request__escrow_transaction")):
        reasons.append(_("The return of the goods of %(reference)s is not finished yet (%(status)s).")
                       % {"reference": shipment.refund_request.escrow_transaction.reference,
                          "status": shipment.get_status_display()})
    # Money that arrived after the transaction closed is owed back to the buyer once verified.
    for bill in (Bill.objects.filter(escrow_transaction__buyer=user, status=Bill.Status.PAID)
                 .select_related("escrow_transaction")):
        reasons.append(_("A payment for %(reference)s is still being verified.")
                       % {"reference": bill.escrow_transaction.reference})
    for payout in (Payout.objects.filter(recipient=user).exclude(status=Payout.Status.COMPLETED)
                   .select_related("escrow_transaction")):
        reasons.append(_("The payout of %(amount)s for %(reference)s is not finished (%(status)s).")
                       % {"amount": format_rupiah(payout.amount), "reference": payout.escrow_transaction.reference,
                          "status": payout.get_status_display()})
    # Disbursement.is_open decides which states are not final; asked per state so it stays the one rule.
    open_parts = [status for status in Disbursement.Status.values if Disbursement(status=status).is_open]
    for part in (Disbursement.objects.filter(payout__recipient=user, status__in=open_parts)
                 .select_related("payout__escrow_transaction")):
        reasons.append(_("A transfer of %(amount)s for %(reference)s is not final yet (%(status)s).")
                       % {"amount": format_rupiah(part.amount), "reference": part.payout.escrow_transaction.reference,
                          "status": part.get_status_display()})
    balances = (Posting.objects.filter(account__escrow_transaction__in=txns,
                                       account__category__in=[AccountCategory.ESCROW_HOLD,
                                                              AccountCategory.SELLER_PAYABLE,
                                                              AccountCategory.BUYER_REFUND_PAYABLE])
                .values("account__escrow_transaction__reference", "account__category").annotate(total=Sum(SIGNED))
                .order_by("account__escrow_transaction__reference", "account__category"))
    for row in balances:
        amount = normal_balance(row["account__category"], row["total"])
        if amount:
            reasons.append(_("INTRASA still holds or owes %(amount)s on %(reference)s.")
                           % {"amount": format_rupiah(amount), "reference": row["account__escrow_transaction__reference"]})
    for blocker in list(_ERASURE_BLOCKERS.values()):
        reasons.extend(blocker(user=user))
    return reasons


@dataclass(frozen=True)
class KeptItem:
    """One kind of record an erasure keeps: how many, and until when (from the retention table).
    ``at_least``: something around them is still in motion, so their period has not started yet and
    ``until`` is the earliest it can end (counted from now), not the day it will."""

    rule: retention.RetentionRule
    count: int
    until: dt.datetime | None
    at_least: bool = False

    @classmethod
    def from_stored(cls, entry: dict) -> "KeptItem":
        until = parse_datetime(entry["until"]) if entry.get("until") else None
        return cls(retention.BY_KEY[entry["rule"]], entry["count"], until, entry.get("at_least", False))

    def to_stored(self) -> dict:
        """What ``ErasureRecord.kept`` holds of it (read back by ``from_stored``)."""
        return {"rule": self.rule.key, "count": self.count,
                "until": self.until.isoformat() if self.until else None, "at_least": self.at_least}

    @property
    def what(self) -> str:
        return COUNT_TEXT[self.rule.key](self.count)


COUNT_TEXT = {
    "identity_after_erasure": lambda n: _("Your name, email address and mobile number"),
    "transaction_records": lambda n: ngettext("%(count)d transaction with its payments and payouts",
                                              "%(count)d transactions with their payments and payouts", n) % {"count": n},
    "bank_statement_lines": lambda n: ngettext("%(count)d bank statement line", "%(count)d bank statement lines",
                                               n) % {"count": n},
    "audit_trail": lambda n: ngettext("%(count)d entry in the audit trail", "%(count)d entries in the audit trail",
                                      n) % {"count": n},
    "dispute_conversations": lambda n: ngettext("%(count)d dispute with its messages and evidence",
                                                "%(count)d disputes with their messages and evidence",
                                                n) % {"count": n},
    "refund_documents": lambda n: ngettext("%(count)d refund request with its documents",
                                           "%(count)d refund requests with their documents", n) % {"count": n},
    "login_records": lambda n: ngettext("%(count)d login record", "%(count)d login records", n) % {"count": n},
    "staff_access_log": lambda n: ngettext("%(count)d entry in the staff access log",
                                           "%(count)d entries in the staff access log", n) % {"count": n},
}


def _kept(rule: retention.RetentionRule, anchors: list[dt.datetime | None], now: dt.datetime) -> KeptItem:
    """``rule``'s records with these anchors (``None``: one is still in motion, so its period starts
    at the earliest now), kept until the last of their periods ends."""
    period = rule.period
    if period is None:  # kept while the account is open: no end date to show
        return KeptItem(rule, len(anchors), None)
    at_least = None in anchors
    return KeptItem(rule, len(anchors), max(period.until(now if anchor is None else anchor) for anchor in anchors),
                    at_least)


def _later(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    """The later of two moments; ``None`` (still in motion) if either is."""
    if first is None or second is None:
        return None
    return max(first, second)


def erasure_kept(*, user, now: dt.datetime | None = None) -> list[KeptItem]:
    """What INTRASA keeps after erasing ``user`` now, and until when, for the page before the
    confirmation, the confirmation email and the erasure record.

    Every record around a transaction counts its period from where the retention job counts it
    (``privacy.purge``): from the end of the transaction's last obligation
    (``privacy.obligations.last_finished``) — and a dispute's conversation or a refund request's
    documents not before the dispute was resolved or the request closed. While one is still in
    motion the date is a lower bound, from now."""
    now = now or timezone.now()
    items = []
    finished = obligations.last_finished(EscrowTransaction.objects.filter(_party(user)))
    if finished:
        items.append(KeptItem(retention.IDENTITY_AFTER_ERASURE, 1, retention.IDENTITY_AFTER_ERASURE.until(now)))
        items.append(_kept(retention.TRANSACTION_RECORDS, list(finished.values()), now))
    lines = list(BankStatementLine.objects.filter(matched_bill__escrow_transaction__buyer=user)
                 .values_list("booked_on", flat=True))
    if lines:
        items.append(_kept(retention.BANK_STATEMENT_LINES,
                           [dt.datetime.combine(day, dt.time(12), tzinfo=WIB) for day in lines], now))
    audit = AuditEntry.objects.filter(Q(actor=user) | Q(object_type=user._meta.label, object_id=str(user.pk)))
    audit_count = audit.count()
    # The erasure itself is recorded now, so the trail lasts at least from now.
    items.append(KeptItem(retention.AUDIT_TRAIL, audit_count + 1, retention.AUDIT_TRAIL.until(now)))
    party_txn = Q(escrow_transaction__seller=user) | Q(escrow_transaction__buyer=user)
    disputes = Dispute.objects.filter(party_txn).values_list("status", "resolved_at", "escrow_transaction_id")
    if disputes:
        items.append(_kept(retention.DISPUTE_CONVERSATIONS, [
            _later(resolved_at if status == Dispute.Status.RESOLVED else None, finished.get(txn_id))
            for status, resolved_at, txn_id in disputes], now))
    refunds = RefundRequest.objects.filter(buyer=user).values_list("status", "completed_at", "escrow_transaction_id")
    if refunds:
        items.append(_kept(retention.REFUND_DOCUMENTS, [
            _later(completed_at if status not in RefundRequest.OPEN_STATUSES else None, finished.get(txn_id))
            for status, completed_at, txn_id in refunds], now))
    logins = LoginRecord.objects.filter(user=user).aggregate(count=Count("pk"), latest=Max("at"))
    if logins["count"]:
        items.append(KeptItem(retention.LOGIN_RECORDS, logins["count"], retention.LOGIN_RECORDS.until(logins["latest"])))
    accesses = StaffAccessLog.objects.filter(subject=user).aggregate(count=Count("pk"), latest=Max("at"))
    if accesses["count"]:
        items.append(KeptItem(retention.STAFF_ACCESS_LOG, accesses["count"],
                              retention.STAFF_ACCESS_LOG.until(accesses["latest"])))
    return items
