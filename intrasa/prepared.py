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

Each placeholder is declared with its type (``int`` or ``str``) and must reach the SQL as a parameter
(a lookup value, not a table or column name): the stand-in values are found among the compiled
parameters and replaced there, and a placeholder that is not found is refused. The statement is the
same for every value, so only what ``build`` does with a value as a *parameter* may depend on it.
Queries are still counted and logged (the connection's own cursor runs it).
"""
import itertools
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

_STAND_INS: dict[type, Callable[[int], Any]] = {
    # Values no caller sends: a negative key and a string PostgreSQL would not even accept.
    int: lambda n: -2_000_000_000 + n,
    str: lambda n: f"\x00prepared-placeholder-{n}\x00",
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
                counter = itertools.count(1)
                stand_ins = {name: _STAND_INS[kind](next(counter)) for name, kind in self.placeholders.items()}
                compiled = _Compiled(self.build(**stand_ins))
                positions = {name: [n for n, param in enumerate(compiled.params)
                                    if type(param) is type(value) and param == value]
                             for name, value in stand_ins.items()}
                missing = [name for name, found in positions.items() if not found]
                if missing:
                    raise ValueError(f"placeholders not among the statement's parameters: {missing}")
                self._positions, self._compiled = positions, compiled
        return self._compiled

    def rows(self, **values) -> list:
        """The model instances of the statement run with ``values`` (one query)."""
        if values.keys() != self.placeholders.keys():
            raise TypeError(f"expected the values of {sorted(self.placeholders)}, got {sorted(values)}")
        compiled = self._compiled or self._compile()
        params = list(compiled.params)
        for name, positions in self._positions.items():
            for n in positions:
                params[n] = values[name]
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
