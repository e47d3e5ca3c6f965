"""A read that the ORM builds and compiles once per process, then runs with each call's values.

Django builds and compiles a queryset on every call. For the transaction page's one query (four
joined tables, ~95 columns, three subqueries) that is ~2.5 ms of Python per request before
PostgreSQL sees the statement, more than the database spends on it (``benchmarks/flames.py --only detail``).
``Prepared`` builds the queryset once, with a stand-in value for each placeholder, keeps its SQL and
what the compiler knows of its columns, and per call sends that SQL with the call's values and turns
the rows into model instances exactly as the ORM does (``django.db.models.query.ModelIterable``):
the model, its ``select_related`` objects, deferred fields and annotations, converters applied.

    PAGE = Prepared(lambda *, user_pk, reference: Thing.objects.filter(...), user_pk=int, reference=str)
    PAGE.rows(user_pk=user.pk, reference=reference)   # a list of Thing

Each placeholder is declared with its type (``int`` or ``str``; a call's value of another type, ``None``
included, is refused) and must reach the SQL as a parameter, as given (a lookup value, not a table or
column name, not changed on the way): the build is compiled twice, with two sets of stand-in values, and
every parameter that differs between the two must be a placeholder's stand-in, found there and replaced
by each call's value. A placeholder not found, a changed one, or a statement whose text depends on a
value is refused. A build must not read the clock or the settings: what it reads is kept with the SQL.
Queries are still counted and logged (the connection's own cursor runs it).

PostgreSQL still plans the statement on every call (0.87 ms for the transaction page's read, more than
running it). Running it as a server-side prepared statement (psycopg's ``prepare=True``) saved 1.6 ms a
page and was reverted (commit bf2c54b): a column-type migration then fails every prepared read of a
pooled connection until it is recycled ("cached plan must not change result type"), PgBouncer needs
1.22 and ``max_prepared_statements`` to carry them, and turning prepared statements on for Django's
connection keeps the text of its recent queries, values included, in memory. Doing it again needs a
retry after that error outside a transaction, a threshold set only around this cursor's own execute,
placeholders of one integer size, and a default that follows the pooler.
"""
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

# Two sets of values no caller sends; the build is compiled with each. A value the build changes on the way
# (``lower()``, ``strip()``, ``+ 1``, a LIKE pattern) then shows as a parameter that differs between the two
# statements without being either stand-in, and is refused. Strings in mixed case with blanks around them (so
# case and blank changes show); ints positive and small (Django compiles a value outside a field's range
# away, and a small positive field would refuse a large one).
_STAND_INS: dict[type, tuple[Callable[[int], Any], Callable[[int], Any]]] = {
    int: (lambda n: 30_011 + n, lambda n: 30_517 + n),
    str: (lambda n: f" Prepared Stand-In {n} A ", lambda n: f" Prepared Stand-In {n} B "),
}


class _Compiled:
    def __init__(self, queryset: Any):  # its private state is read: how ModelIterable reads it
        if (queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups
                or queryset._known_related_objects):
            raise TypeError("Prepared reads only model rows (no values(), prefetch_related() or related managers)")
        if any(getattr(type(queryset), name) is not getattr(QuerySet, name)
               for name in ("__iter__", "iterator", "_fetch_all")):
            # A queryset class that reads its rows its own way would be bypassed here.
            raise TypeError(f"{type(queryset).__name__} changes how rows are read: not prepared")
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        sql, params = compiler.as_sql()
        self.sql, self.params = sql, list(params)
        self.select, klass_info = compiler.select, compiler.klass_info
        self.annotation_col_map = compiler.annotation_col_map or {}
        self.model: type[Model] = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in self.select[self.start:self.end]]
        # Django 5.2's signature (the stubs already have a later version's ``fetch_mode``).
        self.related_populators = get_related_populators(klass_info, self.select, self.db)  # type: ignore[call-arg]
        self.converters = compiler.get_converters([column[0] for column in self.select[:compiler.col_count]])


def _same(value, stand_in) -> bool:
    """``value`` (a compiled parameter) is ``stand_in`` as given. An int may come wrapped in the
    driver's sized type (``Int2(30012)`` for a small integer field): a subclass of int."""
    if isinstance(stand_in, str):
        return type(value) is str and value == stand_in
    return isinstance(value, int) and not isinstance(value, bool) and value == stand_in


def _as_compiled(compiled_param, value):
    """A call's value in the type the compiler gave the stand-in (``Int2``, ``Int8``…, or plain)."""
    kind = type(compiled_param)
    return kind(value) if isinstance(compiled_param, int) and kind is not int else value


class Prepared:
    def __init__(self, build: Callable[..., QuerySet], **placeholders: type):
        unknown = [name for name, kind in placeholders.items() if kind not in _STAND_INS]
        if unknown:
            raise TypeError(f"placeholders must be int or str: {unknown}")
        self.build, self.placeholders = build, placeholders
        self._compiled: _Compiled | None = None
        self._positions: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def _compile(self) -> _Compiled:
        with self._lock:
            if self._compiled is None:
                names = list(self.placeholders)
                first = {name: _STAND_INS[self.placeholders[name]][0](n) for n, name in enumerate(names, 1)}
                second = {name: _STAND_INS[self.placeholders[name]][1](n) for n, name in enumerate(names, 1)}
                compiled = _Compiled(self.build(**first))
                other = self.build(**second)
                other_sql, other_params = other.query.get_compiler(using=other.db).as_sql()
                if other_sql != compiled.sql or len(other_params) != len(compiled.params):
                    raise ValueError("the statement's text depends on a placeholder's value: not prepared")
                positions: dict[str, list[int]] = {name: [] for name in names}
                for n, (one, two) in enumerate(zip(compiled.params, other_params, strict=True)):
                    if type(one) is type(two) and one == two:
                        continue  # a constant of the statement
                    owner = next((name for name in names
                                  if _same(one, first[name]) and _same(two, second[name])), None)
                    if owner is None:
                        raise ValueError(f"parameter {n} follows a placeholder but is not its value as given "
                                         "(the build changes it): not prepared")
                    positions[owner].append(n)
                missing = [name for name, found in positions.items() if not found]
                if missing:
                    raise ValueError(f"placeholders not among the statement's parameters: {missing}")
                self._positions, self._compiled = positions, compiled
        return self._compiled

    def rows(self, **values) -> list:
        """The model instances of the statement run with ``values`` (one query)."""
        if values.keys() != self.placeholders.keys():
            raise TypeError(f"expected the values of {sorted(self.placeholders)}, got {sorted(values)}")
        wrong = [name for name, value in values.items() if type(value) is not self.placeholders[name]]
        if wrong:  # None would be ``= NULL`` (the ORM says ``IS NULL``); another type may fail in the database
            raise TypeError(f"values not of their declared type: {wrong}")
        compiled = self._compiled or self._compile()
        params = list(compiled.params)
        for name, positions in self._positions.items():
            for n in positions:
                params[n] = _as_compiled(compiled.params[n], values[name])
        connection = connections[compiled.db]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        objects = []
        for row in fetched:
            if compiled.converters:
                row = list(row)
                for position, (converters, expression) in compiled.converters.items():
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
            obj = compiled.model.from_db(compiled.db, compiled.init_list, row[compiled.start:compiled.end])
            for populator in compiled.related_populators:
                populator.populate(row, obj)
            for name, position in compiled.annotation_col_map.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects
