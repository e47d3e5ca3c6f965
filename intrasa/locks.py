"""Row locks on money objects: taken here, and only here, in one fixed order (DESIGN.md §3).

Every service that changes money or state locks the rows it changes inside its
``transaction.atomic()`` block, through these functions. Within one database transaction locks are
taken in this order, and never backwards:

    payment link → milestone plan → person (user) → escrow transaction → bill → dispute → settlement offer → refund request
    → payout → payout part (disbursement) → payout destination → every other row

"Every other row" (a notification being sent, a withdrawal instruction, a personal-data export, a
batch the retention job works on…) is locked last: such rows are housekeeping, never locked before
a money object.

Two services that touch the same rows therefore queue behind each other instead of deadlocking:
whoever holds the escrow transaction's lock goes first, and nobody waits for a transaction while
holding one of its parts. Rows of the same kind are locked in primary-key order (``lock_all``).

The order is checked as locks are taken: asking for a lock that ranks *below* one already held in
the same database transaction raises ``LockOrderError``, in every environment — a wrong order is a
latent deadlock, and it is better found by the first test that runs the path than in production.
One write locks a row without this module, by design: a conditional UPDATE (``transactions.writes``,
``Update(expected=…)``) locks the one row it changes and re-checks it after any wait, in a
statement of its own with nothing else held (payments' record of Faspay's answer to Post Data);
it cannot wait on anyone holding a lock it already has.

The module names models by label, so it imports no app (it sits with the basics in the import
direction of DESIGN.md §2).
"""
from __future__ import annotations

from typing import Any, Literal, TypeVar, overload

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model, QuerySet

# Lower ranks are locked first.
LOCK_ORDER = (
    # A payment link and a milestone plan are locked before the transactions they start: creating a
    # transaction locks its seller (the daily limit), so what gates the creation comes first. A
    # payment link's start locks its buyer too (the cap of unpaid holds): both people at once, in
    # primary-key order (paylinks.services).
    "paylinks.PaymentLink",
    "milestones.MilestonePlan",
    "accounts.User",
    "transactions.EscrowTransaction",
    "payments.Bill",
    "disputes.Dispute",
    "disputes.SettlementOffer",
    "refunds.RefundRequest",
    "disbursements.Payout",
    "disbursements.Disbursement",
    "accounts.PayoutDestination",
)
RANK = {label: rank for rank, label in enumerate(LOCK_ORDER)}
LAST = len(LOCK_ORDER)  # every other row


class LockOrderError(RuntimeError):
    """A lock was asked for out of the documented order (a deadlock waiting to happen)."""


def _label(model) -> str:
    return model._meta.label


def _chain_is_live(state: dict) -> bool:
    """Whether the atomic block in which the current chain of locks began is still open."""
    if state["anchor"] is not None:
        return state["anchor"] in connection.savepoint_ids
    return state["marker"] in [entry[1] for entry in connection.run_on_commit]


def _held_rank_state() -> dict:
    """The highest rank locked in the current chain: the locks taken since the outermost atomic
    block that took the first of them (a service's own block) began.

    The chain is anchored to that block: to its savepoint when it is nested (as every service is
    inside a test's transaction), otherwise to the database transaction itself, followed through
    an on-commit callback (Django has no rollback hook: once the callback is no longer pending, the
    transaction committed or rolled back). When the anchor is gone, a new chain begins; the check
    can then only be less strict than the database, never stricter.
    """
    state = getattr(connection, "_intrasa_lock_state", None)
    if state is None or not _chain_is_live(state):
        anchor = connection.savepoint_ids[-1] if connection.savepoint_ids else None
        state = {"anchor": anchor, "marker": None, "highest": -1, "highest_label": "", "held": set(),
                 "instances": {}}
        if anchor is None:
            def marker():
                connection._intrasa_lock_state = None

            state["marker"] = marker
            transaction.on_commit(marker)
        # Our own per-connection attribute, unknown to the stubs of BaseDatabaseWrapper.
        connection._intrasa_lock_state = state  # type: ignore[attr-defined]
    return state


def _check_order(label: str, pk=None) -> None:
    """Refuse a lock below the highest one held in this chain — unless it is a row this chain
    holds already (a service called by a service locking the same transaction again: the database
    grants it at once, there is nothing to wait for)."""
    if not connection.in_atomic_block:
        raise LockOrderError(f"lock {label} inside the service's transaction.atomic() block")
    rank = RANK.get(label, LAST)
    state = _held_rank_state()
    if pk is not None and (label, str(pk)) in state["held"]:
        return
    if pk is not None:
        state["held"].add((label, str(pk)))
    if rank < state["highest"]:
        raise LockOrderError(f"{label} locked after {state['highest_label']}: the order is "
                             f"{' → '.join(LOCK_ORDER)}")
    if rank > state["highest"]:
        state["highest"], state["highest_label"] = rank, label


def _model(model_or_label) -> type[Model]:
    if isinstance(model_or_label, str):
        return apps.get_model(model_or_label)
    return model_or_label


M = TypeVar("M", bound=Model)


@overload
def lock(model_or_label: type[M], pk, *, related: tuple[str, ...] = (), skip_locked: Literal[False] = False,
         annotate: dict | None = None, **filters) -> M: ...
@overload
def lock(model_or_label: type[M], pk, *, related: tuple[str, ...] = (), skip_locked: Literal[True],
         annotate: dict | None = None, **filters) -> M | None: ...
@overload
def lock(model_or_label: str, pk, *, related: tuple[str, ...] = (), skip_locked: bool = False,
         annotate: dict | None = None, **filters) -> Any: ...
def lock(model_or_label, pk, *, related: tuple[str, ...] = (), skip_locked: bool = False, annotate: dict | None = None,
         **filters):
    """Lock one row (``SELECT … FOR UPDATE``) and return it, with ``related`` rows joined but not
    locked and ``annotate`` (scalar subqueries: values of other rows, read not locked, as committed
    when the statement began) set on it; ``filters`` must hold too (e.g. the owner). With
    ``skip_locked``, ``None`` when another worker holds it (or it does not exist); otherwise a
    missing row raises ``DoesNotExist``."""
    model = _model(model_or_label)
    _check_order(_label(model), pk)
    # _default_manager: the manager Django's generic code uses; ``objects`` on every INTRASA model.
    queryset = model._default_manager.select_for_update(of=("self",), skip_locked=skip_locked).filter(pk=pk, **filters)
    if related:
        queryset = queryset.select_related(*related)
    if annotate:
        queryset = queryset.annotate(**annotate)
    row = queryset.first() if skip_locked else queryset.get()
    if row is not None:
        _held_rank_state()["instances"][(_label(model), str(pk))] = row
    return row


def lock_with_owners(model_or_label, pk, *, owners: tuple[str, ...], related: tuple[str, ...] = ()) -> Any:
    """Lock row ``pk`` and the rows it belongs to in one statement, and return it with them joined
    (``owners``: their paths, outermost first, e.g. a payout part's
    ``("payout__escrow_transaction", "payout")``; ``related``: more rows joined, not locked).

    The order is this module's: PostgreSQL locks the tables of a joined row in the order of its
    ``FOR UPDATE OF`` list, which is ``owners`` then the row — the locks ``lock`` would take one
    by one, owner first, and each owner must rank before what it owns (checked here). One row only:
    the rows of several would be locked owner, row, owner, row."""
    model = _model(model_or_label)
    chain = []
    for path in owners:
        owner: Any = model
        for name in path.split("__"):
            owner = owner._meta.get_field(name).related_model
        chain.append((path, owner))
        _check_order(_label(owner))
    _check_order(_label(model), pk)
    queryset = (model._default_manager.filter(pk=pk).select_related(*owners, *related)
                .select_for_update(of=(*owners, "self")))
    row = queryset.get()
    state = _held_rank_state()
    state["instances"][(_label(model), str(pk))] = row
    for path, owner in chain:
        held = row
        for name in path.split("__"):
            held = getattr(held, name)
        state["held"].add((_label(owner), str(held.pk)))
        state["instances"][(_label(owner), str(held.pk))] = held
    return row


def lock_first(queryset: QuerySet[M]) -> M | None:
    """Lock the first row of ``queryset`` (in its own order) and return it, or ``None``."""
    _check_order(_label(queryset.model))
    row = queryset.select_for_update(of=("self",)).first()
    if row is not None:
        _held_rank_state()["held"].add((_label(queryset.model), str(row.pk)))
    return row


def lock_all(queryset: QuerySet[M], *, skip_locked: bool = False, limit: int | None = None) -> list[M]:
    """Lock every row of ``queryset`` (one kind of model), in primary-key order — at most
    ``limit``, and with ``skip_locked`` only those no other worker holds (batch jobs that run
    side by side, each taking its own rows)."""
    _check_order(_label(queryset.model))
    queryset = queryset.select_for_update(of=("self",), skip_locked=skip_locked).order_by("pk")
    rows = list(queryset[:limit] if limit is not None else queryset)
    _held_rank_state()["held"].update((_label(queryset.model), str(row.pk)) for row in rows)
    return rows


def is_held(label: str, pk) -> bool:
    """Whether this database transaction's chain of locks holds row ``pk`` of model ``label``
    (services that work on rows their caller locked check it; no query)."""
    if not connection.in_atomic_block:
        return False
    return (label, str(pk)) in _held_rank_state()["held"]


def is_locked_instance(row: Model) -> bool:
    """Whether ``row`` is the very object ``lock`` returned for its row in this chain of locks: a
    step of a flow handed the transaction its flow locked a moment ago. Its fields are the
    row's as locked (nobody else can change a row we hold; this transaction's own changes went
    through this object), so the step need not read it again. No query."""
    if not connection.in_atomic_block:
        return False
    return _held_rank_state()["instances"].get((_label(type(row)), str(row.pk))) is row


def lock_transaction(escrow_transaction, *, annotate: dict | None = None) -> Any:
    """The escrow transaction, locked first of all, with its parties joined and its partner
    binding, if any (joined, not locked: the timeline's partner listener needs it at every
    transition, and a transaction is bound to a partner only in the database transaction that
    creates it, so the joined answer holds until commit); ``annotate`` as for ``lock``. The very
    object the caller locked in this chain is returned as it is (``is_locked_instance``, without
    ``annotate``): a flow's steps do not read it again."""
    if isinstance(escrow_transaction, Model) and is_locked_instance(escrow_transaction):
        return escrow_transaction
    pk = escrow_transaction.pk if isinstance(escrow_transaction, Model) else escrow_transaction
    return lock("transactions.EscrowTransaction", pk, related=("seller", "buyer", "partner_transaction"),
                annotate=annotate)
