"""Posting to the ledger. The only code that writes journal entries.

Call these inside the caller's ``transaction.atomic()`` block, in the same database transaction as
the state change that moved the money (DESIGN.md §4.2). Every entry has an idempotency key:
posting the same key twice returns the first entry (and refuses if the lines differ), so a retried
task never counts money twice.
"""
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from .models import PER_TRANSACTION, Account, AccountCategory, EntryKind, JournalEntry, Posting

# ``AccountCategory.values`` builds a new list on every access; entry_post checks every line against it.
CATEGORIES = frozenset(AccountCategory.values)
SIDES = frozenset(Posting.Side.values)


class LedgerError(Exception):
    """A posting that would break the books; nothing was written."""


@dataclass(frozen=True)
class Line:
    category: str
    side: str  # Posting.Side.DEBIT / CREDIT
    amount: int


def debit(category: str, amount: int) -> Line:
    return Line(category, Posting.Side.DEBIT, amount)


def credit(category: str, amount: int) -> Line:
    return Line(category, Posting.Side.CREDIT, amount)


def account_get(*, category: str, escrow_transaction=None) -> Account:
    """The account of ``category`` (for ``escrow_transaction`` when the category is per transaction)."""
    if category in PER_TRANSACTION and escrow_transaction is None:
        raise LedgerError(f"{category} is kept per transaction")
    if category not in PER_TRANSACTION:
        escrow_transaction = None
    account, _ = Account.objects.get_or_create(category=category, escrow_transaction=escrow_transaction)
    return account


def _validate(lines: list[Line]) -> None:
    if len(lines) < 2:
        raise LedgerError("an entry needs at least two postings")
    totals: defaultdict[str, int] = defaultdict(int)
    for line in lines:
        if not isinstance(line.amount, int) or isinstance(line.amount, bool):
            raise LedgerError(f"amounts are whole Rupiah integers, got {line.amount!r}")
        if line.amount <= 0:
            raise LedgerError(f"posting amounts must be positive, got {line.amount}")
        if line.category not in CATEGORIES:
            raise LedgerError(f"unknown account category {line.category!r}")
        if line.side not in SIDES:
            raise LedgerError(f"a posting is a debit or a credit, got side {line.side!r}")
        totals[line.side] += line.amount
    if totals[Posting.Side.DEBIT] != totals[Posting.Side.CREDIT]:
        raise LedgerError(
            f"entry does not balance: debits {totals['D']} != credits {totals['C']}"
        )


def _signature(lines) -> list[tuple[str, str, int]]:
    return sorted((line.category, line.side, line.amount) for line in lines)


def entry_post(
    *,
    idempotency_key: str,
    kind: str,
    memo: str,
    lines: list[Line],
    escrow_transaction=None,
    actor=None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry; per-transaction accounts are those of ``escrow_transaction``."""
    _validate(lines)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise LedgerError("post ledger entries inside the service's transaction.atomic() block")
    if connection.vendor == "postgresql":
        entry = _post_in_one_statement(idempotency_key=idempotency_key, kind=kind, memo=memo[:255], lines=lines,
                                       escrow_transaction=escrow_transaction, actor=actor, reverses=reverses)
        if entry is not None:
            return entry
    existing = (
        JournalEntry.objects.filter(idempotency_key=idempotency_key)
        .prefetch_related("postings__account").first()
    )
    if existing is not None:
        posted = [Line(p.account.category, p.side, p.amount) for p in existing.postings.all()]
        if existing.kind != kind or _signature(posted) != _signature(lines):
            raise LedgerError(f"idempotency key {idempotency_key!r} was used for a different entry")
        return existing
    entry = JournalEntry(
        idempotency_key=idempotency_key, kind=kind, memo=memo[:255],
        escrow_transaction=escrow_transaction, created_by=actor, reverses=reverses,
    )
    entry.posted_categories = frozenset(line.category for line in lines)
    entry.save(force_insert=True)
    accounts = _accounts_for({line.category for line in lines}, escrow_transaction)
    Posting.objects.bulk_create([
        Posting(entry=entry, account=accounts[line.category], side=line.side, amount=line.amount)
        for line in lines
    ])
    return entry


# One statement for a new entry: a call of ``ledger_entry_post`` (migration 0007), which inserts the
# entry (unless its idempotency key exists), the accounts its lines need that do not exist yet (the
# first entry of a transaction on an account creates it), and its postings. PostgreSQL keeps the
# plans of the function's statements, so only the call is planned per entry. A line that still
# finds no account (a concurrent writer had not committed it yet) is completed by the caller; the
# deferred balance trigger only looks at COMMIT.
_POST_SQL = (
    "SELECT posted_entry, posted_lines FROM ledger_entry_post("
    "%s, %s, %s, %s, %s, %s, %s, %s::varchar[], %s::varchar[], %s::bigint[], %s::boolean[])"
)


def _array_literal(items) -> str:
    """``items`` as PostgreSQL's text form of an array (each element double-quoted, with ``\\`` and
    ``"`` escaped), sent as one string and cast in the statement. psycopg's dumping of a Python list
    cost more client time than the rest of the call (issue 18); a string is dumped as it is."""
    return "{" + ",".join('"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"


def _post_in_one_statement(*, idempotency_key, kind, memo, lines, escrow_transaction, actor,
                           reverses) -> JournalEntry | None:
    """Post a new entry in one statement; ``None`` when its idempotency key is taken (the caller
    then compares with the existing entry)."""
    txn_id = escrow_transaction.pk if escrow_transaction is not None else None
    per_transaction = [line.category in PER_TRANSACTION for line in lines]
    if txn_id is None and any(per_transaction):
        raise LedgerError(f"{next(line.category for line in lines if line.category in PER_TRANSACTION)} "
                          "is kept per transaction")
    posted_at = timezone.now()
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        cursor.execute(_POST_SQL, [
            idempotency_key, kind, memo, txn_id, reverses.pk if reverses is not None else None,
            actor.pk if actor is not None else None, posted_at, _array_literal(line.category for line in lines),
            _array_literal(line.side for line in lines), _array_literal(line.amount for line in lines),
            _array_literal("t" if flag else "f" for flag in per_transaction)])
        entry_id, posted_lines = cursor.fetchone()
    if entry_id is None:
        return None
    entry = JournalEntry(pk=entry_id, idempotency_key=idempotency_key, kind=kind, memo=memo,
                         escrow_transaction=escrow_transaction, created_by=actor, reverses=reverses, posted_at=posted_at)
    entry._state.adding = False
    entry._state.db = connection.alias
    entry.posted_categories = frozenset(line.category for line in lines)
    posted = set(posted_lines)
    missing = [line for n, line in enumerate(lines) if n not in posted]
    if missing:  # an account a concurrent writer was creating when the function looked for it
        accounts = _accounts_for({line.category for line in missing}, escrow_transaction)
        Posting.objects.bulk_create([Posting(entry=entry, account=accounts[line.category], side=line.side,
                                             amount=line.amount) for line in missing])
    # What ``JournalEntry.objects.create`` would have announced (e.g. the public status cache).
    post_save.send(sender=JournalEntry, instance=entry, created=True, update_fields=None, raw=False,
                   using=connection.alias)
    return entry


def _accounts_for(categories: set[str], escrow_transaction) -> dict[str, Account]:
    """The accounts of ``categories`` in one query; the missing ones are created."""
    per_transaction = {c for c in categories if c in PER_TRANSACTION}
    found: dict[str, Account] = {}
    if per_transaction and escrow_transaction is not None:
        found.update((a.category, a) for a in Account.objects.filter(category__in=per_transaction,
                                                                     escrow_transaction=escrow_transaction))
    shared = categories - per_transaction
    if shared:
        found.update((a.category, a) for a in Account.objects.filter(category__in=shared,
                                                                     escrow_transaction__isnull=True))
    for category in categories - set(found):
        found[category] = account_get(category=category, escrow_transaction=escrow_transaction)
    return found


def entry_reverse(*, entry: JournalEntry, reason: str, actor=None) -> JournalEntry:
    """Correct a posted entry with its mirror image; the original stays as it was."""
    postings = list(entry.postings.select_related("account"))
    opposite: dict[str, str] = {Posting.Side.DEBIT: Posting.Side.CREDIT, Posting.Side.CREDIT: Posting.Side.DEBIT}
    return entry_post(
        idempotency_key=f"reversal:{entry.idempotency_key}",
        kind=EntryKind.REVERSAL,
        memo=f"Reversal of #{entry.pk}: {reason}",
        lines=[Line(p.account.category, opposite[p.side], p.amount) for p in postings],
        escrow_transaction=entry.escrow_transaction,
        actor=actor,
        reverses=entry,
    )
