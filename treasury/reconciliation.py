"""Nightly reconciliation: INTRASA's records of one WIB day against what the providers say.

* Every non-bank-transfer Bill created, paid or verified that day — and every bill whose money is
  still unplaced whatever its day (paid with no stated amount, or a creation Faspay never
  confirmed) — is compared with Faspay: its status by Inquiry Payment Status, its amount with what
  Faspay stated in its notifications (the inquiry states none). Then, per transaction, what Faspay
  collected is compared with what the ledger booked in for it (held in escrow or owed back). Bank
  transfers are reconciled by the statement import instead.
* Every Disbursement sent or completed that day is compared with SendMe's transfer status.
* The SendMe deposit's mutation history of that day is compared with those disbursements: each
  part that went out needs its debit, a refund credit needs a local failure, and a debit nobody
  at INTRASA recognises is reported.

Every difference becomes (or refreshes) a ``ReconciliationItem`` with the evidence — what we
recorded and what the provider answered. **Nothing here changes money or state**: no service of
payments or disbursements is called. Staff investigate and fix through those apps; that keeps a
wrong provider answer (or a bug here) from moving a Rupiah.

Matching mutations to disbursements: SendMe's ``remark`` carries the partner reference number
(the sandbox writes ``"<kind> <partnerReferenceNo>"``; Faspay's exact remark format is not
documented — REFERENCE.md §8 — so any whitespace-separated token equal to a known partner
reference matches). A debit that matches no disbursement and no withdrawal instruction given to
Faspay for that day and amount is reported as unknown.
"""
import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from disbursements.models import Disbursement
from faspay import debit, errors, results, sendme
from intrasa.wib import WIB
from ledger.models import AccountCategory
from payments.channels import Method
from payments.models import Bill, ProviderNotification
from payments.selectors import clearing_booked_in

from .models import ReconciliationItem, WithdrawalInstruction

logger = logging.getLogger(__name__)

Source = ReconciliationItem.Source

# SendMe latestTransactionStatus (REFERENCE.md §1.2) → the local statuses that agree with it.
AGREEING = {
    "00": {Disbursement.Status.SUCCEEDED},
    "04": {Disbursement.Status.REVERSED},
    "05": {Disbursement.Status.FAILED, Disbursement.Status.CANCELLED},
    "06": {Disbursement.Status.FAILED, Disbursement.Status.CANCELLED},
    "07": {Disbursement.Status.FAILED, Disbursement.Status.CANCELLED},
}
PROVIDER_PENDING = {"01", "02", "03"}
PROVIDER_WORDS = {"00": "succeeded", "04": "reversed", "05": "cancelled", "06": "failed", "07": "missing"}
LOCAL_OPEN = {Disbursement.Status.SENDING, Disbursement.Status.RETRYING, Disbursement.Status.UNKNOWN,
              Disbursement.Status.PENDING}
LOCAL_PAID = {Bill.Status.PAID, Bill.Status.VERIFIED}


@dataclass
class ReconciliationReport:
    day: dt.date
    bills_checked: int = 0
    disbursements_checked: int = 0
    mutations_checked: int = 0
    items: list[ReconciliationItem] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return len(self.items)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0, 0), WIB)
    return start, start + dt.timedelta(days=1)


def _record(report: ReconciliationReport, *, source: str, code: str, reference: str, target=None,
            local_status: str = "", provider_status: str = "", amount: int | None = None,
            evidence: dict) -> None:
    item, _created = ReconciliationItem.objects.update_or_create(
        day=report.day, source=source, reference=reference[:64], code=code,
        defaults={
            "object_type": target._meta.label if target is not None else "",
            "object_id": str(target.pk) if target is not None else "",
            "local_status": local_status[:40], "provider_status": provider_status[:40], "amount": amount,
            "evidence": evidence,
        },
    )
    report.items.append(item)


# --- payments ---------------------------------------------------------------------------------

def bill_difference(bill: Bill, status: results.PaymentStatus, stated: int | None = None) -> str | None:
    """The kind of difference between a bill and Faspay's answer, or ``None`` if they agree.
    ``stated`` is the amount Faspay stated for the payment (its notification), if any."""
    code = status.status_code
    if code == debit.STATUS_PAID:
        if bill.status not in LOCAL_PAID:
            return "paid_at_provider_only"
        provider_amount = status.paid_amount if status.paid_amount is not None else stated
        if bill.status == Bill.Status.PAID and not bill.amount_known:
            return "amount_unconfirmed"  # money arrived; no source stated how much
        if bill.paid_amount is not None and provider_amount is not None and bill.paid_amount != provider_amount:
            return "amount_differs"
        if bill.status == Bill.Status.VERIFIED and not bill.amount_known:
            return "amount_assumed"  # placed in the ledger on an amount nobody stated
        return None
    if code == debit.STATUS_REVERSED:
        return None if bill.flag == Bill.Flag.REVERSED else "reversed_at_provider"
    if bill.status in LOCAL_PAID:
        return "paid_locally_only"
    return None


def _bill_snapshot(bill: Bill) -> dict:
    return {"bill_no": bill.bill_no, "trx_id": bill.provider_trx_id, "status": bill.status, "flag": bill.flag,
            "amount": bill.amount, "paid_amount": bill.paid_amount, "amount_source": bill.amount_source,
            "transaction": bill.escrow_transaction.reference,
            "paid_at": bill.paid_at.isoformat() if bill.paid_at else None}


def _stated_amounts(bills: list[Bill], client) -> dict[int, int]:
    """Per bill, the amount Faspay stated in a payment notification (status 2)."""
    stated = {}
    for bill_id, payload in ProviderNotification.objects.filter(
            bill__in=bills, status_code=debit.STATUS_PAID).values_list("bill_id", "payload"):
        amount = client.amount_from(payload.get("payment_total")) if isinstance(payload, dict) else None
        if amount is not None:
            stated[bill_id] = amount
    return stated


def _notified_trx_ids(bills: list[Bill]) -> dict[int, str]:
    """The trx_id Faspay's own notification gave a bill whose Post Data was never answered."""
    return dict(ProviderNotification.objects.filter(bill__in=[b for b in bills if not b.provider_trx_id])
                .values_list("bill_id", "trx_id"))


def _bills_to_reconcile(day: dt.date):
    start, end = day_bounds(day)
    in_day = (Q(created_at__gte=start, created_at__lt=end) | Q(paid_at__gte=start, paid_at__lt=end)
              | Q(verified_at__gte=start, verified_at__lt=end))
    unplaced = Q(status=Bill.Status.PAID) | Q(provider_trx_id="", creation_attempts__gt=0)
    return (Bill.objects.filter(in_day | unplaced).exclude(method=Method.BANK_TRANSFER)
            .select_related("escrow_transaction").order_by("pk"))


def reconcile_bills(report: ReconciliationReport, client) -> None:
    bills = list(_bills_to_reconcile(report.day))
    stated = _stated_amounts(bills, client)
    notified = _notified_trx_ids(bills)
    collected: dict[int, int] = defaultdict(int)  # per transaction, what Faspay says it collected
    unknown_amount: set[int] = set()  # transactions with a provider-paid bill of unknown amount
    for bill in bills:
        report.bills_checked += 1
        trx_id = bill.provider_trx_id or notified.get(bill.pk, "")
        if not trx_id:
            # Post Data was sent and never answered: nothing to ask Faspay about without a trx_id.
            _record(report, source=Source.FASPAY_DEBIT, code="creation_unconfirmed", reference=bill.bill_no,
                    target=bill, local_status=bill.status, amount=bill.amount,
                    evidence={"local": _bill_snapshot(bill), "error": bill.error,
                              "creation_attempts": bill.creation_attempts})
            if bill.status in LOCAL_PAID:
                unknown_amount.add(bill.escrow_transaction_id)
            continue
        try:
            status = client.inquiry(trx_id=trx_id, bill_no=bill.bill_no)
        except errors.FaspayError as exc:
            _record(report, source=Source.FASPAY_DEBIT, code="status_unavailable", reference=bill.bill_no,
                    target=bill, local_status=bill.status, amount=bill.amount,
                    evidence={"local": _bill_snapshot(bill), "error": str(exc)})
            unknown_amount.add(bill.escrow_transaction_id)
            continue
        provider_amount = status.paid_amount if status.paid_amount is not None else stated.get(bill.pk)
        if status.status_code == debit.STATUS_PAID:  # a reversed payment is no longer collected
            if provider_amount is None:
                unknown_amount.add(bill.escrow_transaction_id)
            else:
                collected[bill.escrow_transaction_id] += provider_amount
        code = bill_difference(bill, status, stated.get(bill.pk))
        if code is None and not bill.provider_trx_id:
            code = "trx_id_not_recorded"  # Faspay notified about a bill INTRASA never linked to it
        if code:
            _record(report, source=Source.FASPAY_DEBIT, code=code, reference=bill.bill_no, target=bill,
                    local_status=bill.status, provider_status=status.status_code, amount=bill.amount,
                    evidence={"local": _bill_snapshot(bill), "provider": {
                        "payment_status_code": status.status_code, "payment_status_desc": status.status_description,
                        "payment_reff": status.payment_reference, "payment_total": provider_amount,
                        "payment_date": status.paid_at.isoformat() if status.paid_at else None}})
    _reconcile_collected_with_ledger(report, bills, collected, unknown_amount)


def _reconcile_collected_with_ledger(report, bills, collected, unknown_amount) -> None:
    """Per transaction: what Faspay collected equals what the ledger holds or owes back for it.
    Transactions whose collected amount cannot be known (an amount nobody stated, a creation never
    confirmed) already have their own item."""
    txns = {bill.escrow_transaction_id: bill.escrow_transaction for bill in bills}
    comparable = [pk for pk in txns if pk not in unknown_amount]
    # Faspay collections only: bank transfers book to the escrow bank account and are reconciled against the
    # bank statement.
    booked = clearing_booked_in(categories=[AccountCategory.PROVIDER_CLEARING], transaction_ids=comparable)
    for pk in comparable:
        booked_faspay = booked.get(pk, 0)
        if collected.get(pk, 0) != booked_faspay:
            txn = txns[pk]
            _record(report, source=Source.FASPAY_DEBIT, code="ledger_differs", reference=txn.reference,
                    target=txn, local_status=txn.status, amount=collected.get(pk, 0),
                    evidence={"provider_collected": collected.get(pk, 0), "ledger_booked_in": booked_faspay,
                              "bills": [b.bill_no for b in bills if b.escrow_transaction_id == pk]})


# --- disbursements ----------------------------------------------------------------------------

def disbursement_difference(part: Disbursement, provider_status: str) -> str | None:
    if provider_status in PROVIDER_PENDING:
        if part.status in LOCAL_OPEN:
            return None
        return f"{part.status}_locally_pending_at_provider"
    agreeing = AGREEING.get(provider_status)
    if agreeing is None:
        return "unexpected_provider_status"
    if part.status in agreeing:
        return None
    if part.status in LOCAL_OPEN:
        return "final_at_provider_open_locally"
    return f"{part.status}_locally_{PROVIDER_WORDS[provider_status]}_at_provider"


def _part_snapshot(part: Disbursement) -> dict:
    return {"partner_reference_no": part.partner_reference_no, "status": part.status, "amount": part.amount,
            "kind": part.kind, "provider_reference_no": part.provider_reference_no,
            "transaction": part.payout.escrow_transaction.reference,
            "sent_at": part.sent_at.isoformat() if part.sent_at else None,
            "completed_at": part.completed_at.isoformat() if part.completed_at else None}


def _parts_of_day(day: dt.date):
    start, end = day_bounds(day)
    return (Disbursement.objects.filter(Q(sent_at__gte=start, sent_at__lt=end)
                                        | Q(completed_at__gte=start, completed_at__lt=end))
            .exclude(status__in=[Disbursement.Status.QUEUED])
            .select_related("payout__escrow_transaction").order_by("pk"))


def reconcile_disbursements(report: ReconciliationReport, client) -> None:
    for part in _parts_of_day(report.day).iterator(chunk_size=500):
        report.disbursements_checked += 1
        evidence = {"local": _part_snapshot(part)}
        try:
            result = client.transfer_status(partner_reference_no=part.partner_reference_no,
                                            reference_no=part.provider_reference_no,
                                            topup=part.kind == Disbursement.Kind.EWALLET)
        except errors.FaspayUnavailable as exc:
            _record(report, source=Source.SENDME_STATUS, code="status_unavailable",
                    reference=part.partner_reference_no, target=part, local_status=part.status,
                    amount=part.amount, evidence={**evidence, "error": str(exc)})
            continue
        evidence["provider"] = result.evidence()
        if result.http_status == 404 and result.case == "01":
            provider_status = results.STATUS_NOT_FOUND
        elif 200 <= result.http_status < 300:
            provider_status = result.latest_status
        else:
            _record(report, source=Source.SENDME_STATUS, code="status_unavailable",
                    reference=part.partner_reference_no, target=part, local_status=part.status,
                    provider_status=result.response_code, amount=part.amount, evidence=evidence)
            continue
        code = disbursement_difference(part, provider_status)
        if code:
            _record(report, source=Source.SENDME_STATUS, code=code, reference=part.partner_reference_no,
                    target=part, local_status=part.status, provider_status=provider_status,
                    amount=part.amount, evidence=evidence)


def reconcile_history(report: ReconciliationReport, client) -> None:
    start, end = day_bounds(report.day)
    try:
        result = client.transaction_history(start, end - dt.timedelta(seconds=1))
    except errors.FaspayUnavailable as exc:
        _record(report, source=Source.SENDME_HISTORY, code="history_unavailable", reference=str(report.day),
                evidence={"error": str(exc)})
        return
    if not 200 <= result.http_status < 300:
        _record(report, source=Source.SENDME_HISTORY, code="history_unavailable", reference=str(report.day),
                provider_status=result.response_code, evidence={"responseCode": result.response_code,
                                                                "body": result.evidence()["body"]})
        return
    tokens = {token for mutation in result.mutations for token in mutation.remark_tokens}
    parts = {p.partner_reference_no: p for p in Disbursement.objects.filter(partner_reference_no__in=tokens)
             .select_related("payout__escrow_transaction")}
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    unknown_debits = []
    for mutation in result.mutations:
        report.mutations_checked += 1
        refs = [token for token in mutation.remark_tokens if token in parts]
        if not refs:
            if mutation.is_debit:
                unknown_debits.append(mutation)
            continue
        book = debits if mutation.is_debit else credits
        book[refs[0]] = book.get(refs[0], 0) + mutation.amount

    withdrawals = list(WithdrawalInstruction.objects.filter(
        status=WithdrawalInstruction.Status.GIVEN, processing_date__lte=report.day,
        processing_date__gte=report.day - dt.timedelta(days=7)).values_list("balance_needed", "amount"))
    for mutation in unknown_debits:
        match = next((w for w in withdrawals if mutation.amount in w), None)
        if match is not None:
            withdrawals.remove(match)
            continue
        _record(report, source=Source.SENDME_HISTORY, code="unknown_debit",
                reference=f"{mutation.date_time} {mutation.amount}"[:64], amount=mutation.amount,
                provider_status="D", evidence={"mutation": mutation.evidence()})

    for part in _parts_of_day(report.day).filter(sent_at__gte=start, sent_at__lt=end):
        debited = debits.get(part.partner_reference_no, 0)
        credited = credits.get(part.partner_reference_no, 0)
        code = None
        if part.status in (Disbursement.Status.SUCCEEDED, Disbursement.Status.PENDING):
            if debited != part.amount:
                code = "no_debit_in_history" if debited == 0 else "debit_amount_differs"
            elif credited:
                code = "refunded_in_history"
        elif part.status == Disbursement.Status.FAILED and debited and credited != debited:
            code = "debited_but_not_refunded"
        if code:
            _record(report, source=Source.SENDME_HISTORY, code=code, reference=part.partner_reference_no,
                    target=part, local_status=part.status, amount=part.amount,
                    evidence={"local": _part_snapshot(part), "debited": debited, "credited": credited})
    for reference, credited in credits.items():
        part = parts[reference]
        if part.status == Disbursement.Status.SUCCEEDED and not (start <= (part.sent_at or start) < end):
            _record(report, source=Source.SENDME_HISTORY, code="refunded_in_history", reference=reference,
                    target=part, local_status=part.status, amount=part.amount,
                    evidence={"local": _part_snapshot(part), "credited": credited})


def reconcile_collection_checks(report: ReconciliationReport) -> None:
    """The collections cross-checks that need no provider (``payments.checks``), as items too, so
    the nightly report lists every way collected money and the ledger can disagree."""
    from payments.checks import collection_breaches

    for breach in collection_breaches():
        _record(report, source=Source.COLLECTIONS_CHECK, code=breach.rule, reference=breach.subject,
                evidence={"detail": breach.detail})


def reconcile_day(*, day: dt.date, faspay_client=None, sendme_client=None) -> ReconciliationReport:
    """Compare one WIB day with Faspay and SendMe; record every difference. Changes no money."""
    report = ReconciliationReport(day=day)
    reconcile_bills(report, faspay_client or debit.default_client())
    reconcile_collection_checks(report)
    sendme_client = sendme_client or sendme.default_client()
    reconcile_disbursements(report, sendme_client)
    reconcile_history(report, sendme_client)
    logger.info("reconciliation %s: %d bills, %d disbursements, %d mutations, %d differences", day,
                report.bills_checked, report.disbursements_checked, report.mutations_checked, report.differences)
    return report
