"""One-row ORM lookups compiled once per thread and database connection.

Building and compiling an ORM query costs more CPU than PostgreSQL spends running it. For the
lookups every device request makes (its enrollment, its tenant), ``CompiledRow`` keeps the SQL:
the queryset is built once with marker values in place of the real ones, and each call sends
the same SQL with the real values put where the markers were. Rows come back converted as the
ORM converts them; ``instances`` turns a row of joined models into linked model objects.
"""

import threading

from django.db import DEFAULT_DB_ALIAS, connections


class CompiledRow:
    """``build()`` returns the queryset (``values_list(...)[:1]``) with marker values;
    ``markers`` names them: ``{name: (model field, marker value)}``. Every value that changes
    between calls (the current time too) must be a marker: everything else is sent as it was
    at compile time. A marker must differ from the query's constants and be valid for its
    field (Django drops a lookup with an out-of-range integer). Only lookups that send the
    value as given (exact, comparisons): LIKE-based ones (iexact on SQLite, contains, ...)
    escape it, which a compiled query would not."""

    def __init__(self, build, **markers):
        self._build, self._markers, self._local = build, markers, threading.local()

    def _compiled(self):
        connection = connections[DEFAULT_DB_ALIAS]
        cached = getattr(self._local, "value", None)
        if cached is None or cached[0] is not connection:
            compiler = self._build().query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            columns = [column[0] for column in compiler.select[: compiler.col_count]]
            converters = compiler.get_converters(columns)
            prepared = {
                name: field.get_db_prep_value(marker, connection)
                for name, (field, marker) in self._markers.items()
            }
            # Each parameter: the name of the value it takes, or the constant to send.
            slots = [
                next((name for name, value in prepared.items() if value == p), None)
                if p is not None
                else None
                for p in params
            ]
            template = [(slot, p) for slot, p in zip(slots, params, strict=True)]
            cached = (connection, compiler, converters, sql, template)
            self._local.value = cached
        return cached

    def row(self, **values) -> tuple | None:
        """The row (converted as the ORM would) or None; None too, as the ORM's lookup finds
        nothing, for an integer out of its column's range."""
        connection, compiler, converters, sql, template = self._compiled()
        for name, value in values.items():
            if isinstance(value, int) and not _in_range(self._markers[name][0], value, connection):
                return None
        params = [
            p
            if slot is None
            else self._markers[slot][0].get_db_prep_value(values[slot], connection)
            for slot, p in template
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        return next(compiler.apply_converters(rows, converters)) if converters else rows[0]


class CompiledObject(CompiledRow):
    """A ``CompiledRow`` of one model's every column: ``build()`` returns the filtered and
    ordered queryset (no ``values_list``), ``get(**values)`` the model object or None."""

    def __init__(self, build, **markers):
        self.model = build().model
        self.names = attnames(self.model)
        super().__init__(lambda: build().values_list(*self.names)[:1], **markers)

    def get(self, **values):
        row = self.row(**values)
        return None if row is None else self.model.from_db(DEFAULT_DB_ALIAS, self.names, row)


def _in_range(field, value: int, connection) -> bool:
    column = getattr(field, "target_field", None) or field
    low, high = connection.ops.integer_field_ranges.get(column.get_internal_type(), (None, None))
    return (low is None or value >= low) and (high is None or value <= high)


def attnames(model, only=None) -> tuple[str, ...]:
    """The column attributes of ``model`` (those in ``only``, when given), in field order."""
    return tuple(
        f.attname for f in model._meta.concrete_fields if only is None or f.attname in only
    )


def instances(row, *parts) -> list:
    """Model objects from consecutive slices of ``row``; ``parts``: ``(model, attnames)``."""
    objects, start = [], 0
    for model, names in parts:
        objects.append(model.from_db(DEFAULT_DB_ALIAS, names, row[start : start + len(names)]))
        start += len(names)
    return objects
