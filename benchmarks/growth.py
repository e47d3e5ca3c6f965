"""Growth: what one run of each periodic job costs with 100, 1 000 and 10 000 items waiting.

Jobs: ``escrow.tasks.poll_pending_bills`` (status inquiry of bills due for a look),
``disbursements.tasks.dispatch_due_disbursements`` (queued payout parts) and
``disbursements.tasks.resolve_due_disbursements`` (parts pending at SendMe, resolved by inquiry).

The waiting items are created with ``bulk_create`` (on both sides: INTRASA's rows and the
sandbox's bills/transfers they refer to), in exactly the state the services would have left them
in, as far as the job reads it. Each job then runs once, for real, against the sandbox over HTTP,
and we count SQL queries, HTTP requests, new TCP connections and wall time. Every job handles at
most its batch (``POLL_BATCH`` / ``BATCH``) per run, so "per item" is per item *handled*.
"""
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import PayoutDestination
from disbursements import tasks as disbursement_tasks
from disbursements.models import Disbursement, Payout
from escrow import tasks as payment_tasks  # the bill poll is the collections flow's (escrow.tasks) since issue 14
from ledger.models import Account, AccountCategory, EntryKind, JournalEntry, Posting
from payments.channels import Method
from payments.models import Bill
from sandbox.models import Bill as SandboxBill
from sandbox.models import Transfer as SandboxTransfer
from transactions.models import Category, EscrowTransaction, Status
from transactions.references import generate_reference

from .harness import VAR, Table, counting, fmt_ms, statement_profile
from .seed import Party, give_bank_account, parties

SECTION = "growth"
SIZES = (100, 1_000, 10_000)
PRICE, FEE = 1_000_000, 5_000
BATCH = 2_000


def _transactions(party: Party, n: int, status: str) -> list[EscrowTransaction]:
    now = timezone.now()
    rows = [EscrowTransaction(
        reference=generate_reference(), seller=party.seller, buyer=party.buyer, buyer_email=party.buyer.email,
        title="Growth benchmark", description="bulk-created", category=Category.PHYSICAL, price=PRICE,
        shipping_cost=0, fee_payer="buyer", fee_amount=FEE, buyer_fee=FEE, seller_fee=0, amount_due=PRICE + FEE,
        amount_received=PRICE + FEE if status != Status.CREATED else None, inspection_days=3, shipping_days=2,
        status=status, invitation_expires_at=now + dt.timedelta(days=7), accepted_at=now,
        payment_due_at=now + dt.timedelta(days=1),
        paid_at=None if status == Status.CREATED else now, verified_at=None if status == Status.CREATED else now,
        shipped_at=None if status == Status.CREATED else now, confirmed_at=None if status == Status.CREATED else now,
    ) for _ in range(n)]
    return EscrowTransaction.objects.bulk_create(rows, batch_size=BATCH)


# --- payments: bills waiting for a status inquiry -----------------------------------------------

def _pending_bills(party: Party, n: int, tag: str) -> None:
    Bill.objects.filter(bill_no__startswith="GRW").exclude(status=Bill.Status.EXPIRED).update(
        status=Bill.Status.EXPIRED, next_check_at=None)  # the previous size's bills are out of the way
    txns = _transactions(party, n, Status.CREATED)
    now = timezone.now()
    bills, sandbox_bills = [], []
    for i, txn in enumerate(txns):
        trx_id = f"7{tag}{i:010d}"  # 16 digits, like Faspay's
        bill_no = f"GRW{tag}{i:08d}"
        bills.append(Bill(escrow_transaction=txn, method=Method.VIRTUAL_ACCOUNT, channel_code="702", bill_no=bill_no,
                          provider_trx_id=trx_id, pay_code=trx_id, amount=txn.amount_due, status=Bill.Status.PENDING,
                          expires_at=now + dt.timedelta(hours=20), next_check_at=now - dt.timedelta(seconds=30)))
        sandbox_bills.append(SandboxBill(trx_id=trx_id, merchant_id=settings.FASPAY_MERCHANT_ID, bill_no=bill_no,
                                         bill_total=txn.amount_due, payment_channel="702", channel_kind="va",
                                         pay_code=trx_id, bill_expired=now + dt.timedelta(hours=20)))
    Bill.objects.bulk_create(bills, batch_size=BATCH)
    SandboxBill.objects.bulk_create(sandbox_bills, batch_size=BATCH)


# --- disbursements: payout parts queued, or pending at SendMe ----------------------------------

def _payout_parts(party: Party, destination: PayoutDestination, n: int, tag: str, *, pending: bool) -> None:
    Disbursement.objects.filter(partner_reference_no__startswith="GRW").filter(
        status__in=[Disbursement.Status.QUEUED, Disbursement.Status.PENDING]).update(
        status=Disbursement.Status.CANCELLED, next_attempt_at=None)
    txns = _transactions(party, n, Status.CONFIRMED)
    now = timezone.now()
    # The release entry of each transaction: seller payable holds what the part will pay out.
    accounts = Account.objects.bulk_create(
        [Account(category=c, escrow_transaction=t) for t in txns
         for c in (AccountCategory.ESCROW_HOLD, AccountCategory.SELLER_PAYABLE)], batch_size=BATCH)
    entries = JournalEntry.objects.bulk_create(
        [JournalEntry(idempotency_key=f"escrow-release:{t.pk}", kind=EntryKind.ESCROW_RELEASE,
                      memo=f"{t.reference} released to seller", escrow_transaction=t) for t in txns],
        batch_size=BATCH)
    postings = []
    for i, entry in enumerate(entries):
        hold, payable = accounts[2 * i], accounts[2 * i + 1]
        postings += [Posting(entry=entry, account=hold, side=Posting.Side.DEBIT, amount=PRICE),
                     Posting(entry=entry, account=payable, side=Posting.Side.CREDIT, amount=PRICE)]
    Posting.objects.bulk_create(postings, batch_size=BATCH)
    payouts = Payout.objects.bulk_create(
        [Payout(escrow_transaction=t, purpose=Payout.Purpose.SELLER_PAYOUT, recipient=party.seller, amount=PRICE,
                status=Payout.Status.IN_PROGRESS, due_at=now + dt.timedelta(days=1)) for t in txns],
        batch_size=BATCH)
    parts, transfers = [], []
    for i, (txn, payout) in enumerate(zip(txns, payouts, strict=True)):
        reference = f"GRW{tag}{i:08d}"
        provider_reference = f"{tag}{i:010d}"
        # The status goes in with the constructor: a protected FSM field refuses assignment afterwards.
        sent = dict(status=Disbursement.Status.PENDING, attempts=1, quota_day=now.date(),
                    sent_at=now - dt.timedelta(minutes=5), next_attempt_at=now - dt.timedelta(seconds=30),
                    provider_reference_no=provider_reference, latest_transaction_status="03") if pending else {}
        part = Disbursement(
            payout=payout, sequence=1, kind=Disbursement.Kind.BANK, amount=PRICE, partner_reference_no=reference,
            destination=destination, bank_code=destination.bank_code, account_number=destination.account_number,
            account_name=destination.account_holder_name, description=f"INTRASA {txn.reference}", **sent)
        if pending:
            transfers.append(SandboxTransfer(
                kind=SandboxTransfer.Kind.BANK, partner_reference_no=reference, reference_no=provider_reference,
                fingerprint="bulk", amount=PRICE, beneficiary_account_no=destination.account_number,
                beneficiary_bank_code=destination.bank_code, beneficiary_account_name=destination.account_holder_name,
                source_account_no=settings.SENDME_SOURCE_ACCOUNT, status="03", status_changed_at=now,
                settle_at=now - dt.timedelta(seconds=1)))
        parts.append(part)
    Disbursement.objects.bulk_create(parts, batch_size=BATCH)
    SandboxTransfer.objects.bulk_create(transfers, batch_size=BATCH)


# --- the transaction page's expected payout time ----------------------------------------------

def _payout_card(table: Table, size: int) -> None:
    """What the payout card's expected time costs with ``size`` parts just queued: the queue played
    forward (``payout_schedule``, whose cost grows with the queue) on a view that finds the kept
    replay old, and the kept replay (``payout_outlooks``: one cache read) on every other view for
    ``PAYOUT_OUTLOOK_SECONDS``. The label gives what the replay really covers: every part still to
    send and every open payout (earlier sizes leave payouts open whose parts were cancelled)."""
    from django.core.cache import cache

    from disbursements import selectors

    payout = (Payout.objects.filter(status=Payout.Status.IN_PROGRESS).order_by("-pk")
              .prefetch_related("parts").first())  # with its parts, as the card loads it
    waiting = Disbursement.objects.filter(status__in=selectors.TO_SEND).count()
    open_payouts = Payout.objects.filter(status__in=selectors.OPEN_PAYOUT).count()
    cache.delete_many([selectors.OUTLOOKS_FRESH_KEY, selectors.OUTLOOKS_REPLAY_LOCK])
    with counting() as replay:
        outlooks = selectors.payout_outlooks(payouts=[payout])
    with counting() as kept:
        again = selectors.payout_outlooks(payouts=[payout])
    # Kept: the same outlook (an expected time already past reads as "now", so compare what it was
    # computed from) and no query.
    if payout.pk not in outlooks or payout.pk not in again or again[payout.pk].stamp != outlooks[payout.pk].stamp \
            or kept.queries:
        raise RuntimeError("the payout card's expected time was not computed, or not kept")
    table.add(SECTION, f"payout card's expected time, {size:,} parts queued: queue replayed", fmt_ms(replay.seconds),
              f"{replay.queries} SQL over {waiting:,} parts to send, {open_payouts:,} open payouts; then kept for "
              f"{settings.PAYOUT_OUTLOOK_SECONDS} s: {kept.seconds * 1000:.2f} ms and {kept.queries} SQL per view "
              f"(one cache read)")


# --- running one cycle ----------------------------------------------------------------------------

def _cycle(table: Table, job: str, task, size: int, results: list) -> None:
    with counting() as c:
        handled = task()
    scan_ms = c.query_log[0][1] * 1000 if c.query_log else 0.0
    per_item = (c.queries - 1) / handled if handled else 0.0
    results.append((job, size, handled, c))
    with open(VAR / "bench-statements.txt", "a") as out:  # evidence for "which statements repeat"
        out.write(f"\n== {job}, {size} due, {handled} handled: {c.queries} statements\n")
        for count, seconds, shape in statement_profile(c.query_log):
            out.write(f"{count:6d} {seconds * 1000:9.1f} ms  {shape}\n")
    table.add(SECTION, f"{job}, {size:,} due: one cycle", fmt_ms(c.seconds),
              f"handled {handled}; {c.queries:,} SQL ({per_item:.1f}/item + 1 scan of {scan_ms:.1f} ms); "
              f"{c.http} HTTP; {c.connects} new TCP connections; {c.seconds / max(handled, 1) * 1000:.1f} ms/item")


def run(table: Table, control) -> list:
    print("\n== growth: one cycle of each periodic job with 100 / 1 000 / 10 000 items due", flush=True)
    with transaction.atomic():
        party = parties(1, "g")[0]
        destination = give_bank_account(party.seller)
    # The job is measured, not the server's handling of SendMe's callbacks (a separate request).
    control("fault", kind="callback_drop", scope="callback.sendme")
    control("config", settle_delay_seconds=0)
    results = []
    (VAR / "bench-statements.txt").unlink(missing_ok=True)
    try:
        for size in SIZES:
            _pending_bills(party, size, tag=f"{size % 10**5:05d}")
            _cycle(table, "poll_pending_bills", payment_tasks.poll_pending_bills, size, results)
        for size in SIZES:
            _payout_parts(party, destination, size, tag=f"Q{size}", pending=False)
            _payout_card(table, size)
            _cycle(table, "dispatch_due_disbursements", disbursement_tasks.dispatch_due_disbursements, size, results)
        for size in SIZES:
            _payout_parts(party, destination, size, tag=f"P{size}", pending=True)
            _cycle(table, "resolve_due_disbursements", disbursement_tasks.resolve_due_disbursements, size, results)
    finally:
        control("clear_faults")
    _check_outcomes()
    return results


def _check_outcomes() -> None:
    """The cycles must have done the real work, not failed quietly."""
    verified = Disbursement.objects.filter(partner_reference_no__startswith="GRW",
                                           status=Disbursement.Status.SUCCEEDED).count()
    if not verified:
        raise RuntimeError("no payout part succeeded in the growth cycles: the benchmark measured failures")
    disbursed = EscrowTransaction.objects.filter(title="Growth benchmark", status=Status.DISBURSED).count()
    if disbursed != verified:
        raise RuntimeError(f"{verified} parts succeeded but {disbursed} transactions became disbursed")
