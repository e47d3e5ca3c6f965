"""A state change, its timeline event and its notifications, written in one statement.

A step of the escrow lifecycle changes the transaction's row, appends its timeline event and tells
the parties: three writes that always go together, in the service's database transaction, with
the row locked. On PostgreSQL ``write_together`` sends them as one statement — a ``WITH`` whose
parts are the very ``UPDATE`` and ``INSERT`` statements Django would send one by one (compiled by
Django's own SQL compilers, so every field is prepared as a ``save()`` would prepare it) — and then
does what ``save()`` does after them: ids on the new rows, the FSM's concurrency check (the row
still had the state the transition started from), ``pre_save`` / ``post_save`` for the optional
listeners (the public cache, the partner API's webhooks), the notifications' emails after commit.
Elsewhere (SQLite, the development default) the same rows are saved one by one.

The parts of a ``WITH`` see the same snapshot and none sees another's writes, and PostgreSQL runs
them in an order it does not promise. So what callers must guarantee: no part needs another's
effect — a new row may refer to a new row of the same statement only by ``(SELECT id FROM …)``;
no constraint (a unique index, partial or not, a check, a trigger) may hold only if one part runs
before another (withdrawing a bill and inserting the open bill that replaces it are two
statements: ``one_open_bill_per_transaction`` would depend on the order); and no trigger on these
tables reads a row another part writes.

A refused write leaves nothing: ``write_together`` runs only inside an atomic block, and when a
row's state check fails it marks that block for rollback before raising, since the event and the
notifications went in the same statement (a caller catching ``ConcurrentTransition`` cannot commit
them).
"""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery, UpdateQuery
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin

from notifications.services import notifications_build, notifications_insert_sql, notifications_inserted, notify_many


@dataclass
class Update:
    """Save ``instance`` (``fields`` only, or all of them) if its row still has ``expected``.

    ``expected`` defaults to what ``ConcurrentTransitionMixin``'s ``save()`` checks: the FSM fields'
    state as last read or saved (nothing for a model without the mixin). A caller wanting no
    check says so with ``expected={}``."""

    instance: Model
    fields: Sequence[str] | None = None
    expected: dict | None = None

    def expected_values(self) -> dict:
        if self.expected is not None:
            return self.expected
        if not isinstance(self.instance, ConcurrentTransitionMixin):
            return {}
        # The states the mixin remembers (its _do_update filters on them, name-mangled).
        return dict(self.instance._ConcurrentTransitionMixin__initial_states)


def write_together(*, updates: Sequence[Update] = (), inserts: Sequence[Model] = (),
                   notices: Sequence[dict | None] = (), counts: dict[str, QuerySet] | None = None) -> dict[str, int]:
    """Write ``updates``, then ``inserts`` (new rows; one may point at an earlier new row of the
    list through its foreign key) and ``notices`` (``notifications.services.notify_many``'s; ``None``
    for a party that is not there), as one
    statement on PostgreSQL. Raises ``ConcurrentTransition`` when an update found its row changed,
    the enclosing atomic block then marked for rollback.

    ``notices`` announce one event of one subject (the parties of one transaction's step: their
    event keys share ``txn:<reference>``), so their emails may share a task (``notify_many``'s
    ``one_event``).

    ``counts``: querysets counted by the same statement, returned by name — as committed before it
    began, so *without* the rows it writes. A caller holding the lock that serialises a limit
    checks the limit on them after the write and raises to roll it back: the statement runs after
    the lock was granted, so it sees every row written by whoever held it before."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "write_together runs inside transaction.atomic(): a refused write must be rolled back whole")
    counts = counts or {}
    present: list[dict] = [notice for notice in notices if notice is not None]
    if len({tuple(notice["event_key"].split(":")[:2]) for notice in present}) > 1:
        raise ValueError("write_together's notices announce one event of one subject; "
                         f"not {[notice['event_key'] for notice in present]}")
    if connection.vendor != "postgresql":
        counted = {name: queryset.count() for name, queryset in counts.items()}
        _one_by_one(updates, inserts, present)
        return counted
    for update in updates:
        pre_save.send(sender=type(update.instance), instance=update.instance, raw=False, using=connection.alias,
                      update_fields=frozenset(update.fields) if update.fields is not None else None)
    for row in inserts:
        pre_save.send(sender=type(row), instance=row, raw=False, using=connection.alias, update_fields=None)
    parts: list[str] = []
    params: list = []
    selected: list[str] = []
    for n, update in enumerate(updates):
        sql, update_params = _update_sql(update)
        parts.append(f"u{n} AS ({sql} RETURNING 1)")
        params.extend(update_params)
        selected.append(f"(SELECT count(*) FROM u{n})")
    for n, row in enumerate(inserts):
        sql, insert_params = _insert_sql(row, earlier=list(inserts[:n]))
        parts.append(f"i{n} AS ({sql})")
        params.extend(insert_params)
        selected.append(f"(SELECT {connection.ops.quote_name(str(row._meta.pk.column))} FROM i{n})")
    select_params: list = []
    for queryset in counts.values():
        sql, count_params = queryset.values("pk").query.get_compiler(connection.alias).as_sql()
        selected.append(f"(SELECT count(*) FROM ({sql}) AS counted_{len(selected)})")
        select_params.extend(count_params)
    notifications = notifications_build(present)
    if notifications:
        sql, notice_params = notifications_insert_sql(notifications)
        parts.append(f"n AS ({sql})")
        params.extend(notice_params)
        tail = " FROM (VALUES (1)) AS one (x) LEFT JOIN n ON TRUE"
        selected += ["n.id", "n.event_key"]
    else:
        tail = ""
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {', '.join(selected)}{tail}", [*params, *select_params])
        rows = cursor.fetchall()
    first = rows[0]
    for n, update in enumerate(updates):
        if first[n] != 1:
            transaction.set_rollback(True)  # the event and notices of this statement go with it
            raise ConcurrentTransition(f"{update.instance._meta.label} {update.instance.pk} changed since it was locked")
    for n, row in enumerate(inserts):
        row.pk = first[len(updates) + n]
        row._state.adding = False
        row._state.db = connection.alias
        _point_at_saved(row, inserts[:n])
        if hasattr(row, "_update_initial_state"):
            row._update_initial_state()  # as save() does: the next save checks the state written here
    if notifications:
        notifications_inserted(notifications, [(row[-2], row[-1]) for row in rows if row[-2] is not None],
                               one_event=True)
    counted = {name: first[len(updates) + len(inserts) + n] for n, name in enumerate(counts)}
    for update in updates:
        if hasattr(update.instance, "_update_initial_state"):
            update.instance._update_initial_state()  # the FSM's next concurrency check starts here
        post_save.send(sender=type(update.instance), instance=update.instance, created=False, raw=False,
                       using=connection.alias,
                       update_fields=frozenset(update.fields) if update.fields is not None else None)
    for row in inserts:
        post_save.send(sender=type(row), instance=row, created=True, raw=False, using=connection.alias,
                       update_fields=None)
    return counted


def _update_sql(update: Update) -> tuple[str, tuple]:
    """The ``UPDATE`` that ``save(update_fields=…)`` sends, with the row's expected values added to
    its ``WHERE`` (what ``ConcurrentTransitionMixin`` adds for the state field)."""
    instance, meta = update.instance, update.instance._meta
    fields: list[Any]
    if update.fields is None:
        fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
    else:
        fields = [meta.get_field(name) for name in update.fields]
    values = [(f, None, f.pre_save(instance, False)) for f in fields]
    queryset = type(instance)._base_manager.using(connection.alias).filter(pk=instance.pk, **update.expected_values())
    query: Any = queryset.query.chain(UpdateQuery)
    query.add_update_fields(values)
    return query.get_compiler(connection.alias).as_sql()


def _insert_sql(row: Model, *, earlier: list[Model]) -> tuple[str, tuple]:
    """The ``INSERT … RETURNING id`` that ``save()`` sends for a new row; a foreign key to a row of
    ``earlier`` (not saved yet) becomes ``(SELECT id FROM i<n>)``."""
    meta = row._meta
    fields: list[Any] = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    pointers = {}
    for f in fields:
        if f.is_relation and f.is_cached(row):
            target = f.get_cached_value(row)
            position = next((n for n, other in enumerate(earlier) if other is target), None)
            if position is not None and target.pk is None:
                pointers[f.attname] = RawSQL(f"(SELECT {connection.ops.quote_name(target._meta.pk.column)} "
                                             f"FROM i{position})", ())
    saved = {attname: getattr(row, attname) for attname in pointers}
    try:
        for attname, pointer in pointers.items():
            row.__dict__[attname] = pointer
        query = InsertQuery(type(row))
        query.insert_values(fields, [row])
        compiler = query.get_compiler(connection.alias)
        compiler.returning_fields = [meta.pk]
        [(sql, params)] = compiler.as_sql()
    finally:
        row.__dict__.update(saved)
    return sql, params


def _point_at_saved(row: Model, earlier: Sequence[Model]) -> None:
    """A new row's foreign keys to rows saved with it take their ids, as ``save()`` would."""
    concrete: list[Any] = list(row._meta.concrete_fields)
    for f in concrete:
        if f.is_relation and f.is_cached(row):
            target = f.get_cached_value(row)
            if target is not None and any(target is other for other in earlier):
                row.__dict__[f.attname] = target.pk  # not through the descriptor: the cached object stays


def _one_by_one(updates: Sequence[Update], inserts: Sequence[Model], notices: Sequence[dict]) -> None:
    for update in updates:
        expected = update.expected_values()
        if expected:
            current = type(update.instance)._base_manager.filter(pk=update.instance.pk, **expected)
            if not current.exists():
                transaction.set_rollback(True)
                raise ConcurrentTransition(f"{update.instance._meta.label} {update.instance.pk} changed since it was locked")
        update.instance.save(update_fields=update.fields)
    for row in inserts:
        row.save(force_insert=True)  # save() takes the id of a related row saved after it was assigned
    if notices:
        notify_many(list(notices), one_event=True)
