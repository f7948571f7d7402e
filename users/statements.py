"""Several ORM writes sent as one statement on PostgreSQL.

A device message that stores a few rows would otherwise cost BEGIN, one round trip per write and
COMMIT. ``write_together`` sends the writes as data-modifying parts of one ``WITH`` statement,
which PostgreSQL runs atomically on its own; other databases run them one by one in a
transaction. The SQL of each part is Django's own (its insert and update compilers), so field
preparation, ``auto_now_add`` and defaults are exactly what ``save()`` and ``update()`` do.

Parts must not depend on each other's effects: in one statement every part sees the rows as
they were before it (PostgreSQL's rule for data-modifying ``WITH``), so a part may refer to
another only through its ``RETURNING`` (``returned``).
"""

from typing import NamedTuple

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery, UpdateQuery


class Part(NamedTuple):
    sql: str
    params: list
    returns: bool = False  # it ends in RETURNING one column


def update(queryset, **values) -> Part:
    """``queryset.update(**values)`` as SQL."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(connection=connection).as_sql()
    return Part(sql, list(params))


def insert(objects, *, returning: str | None = None) -> Part:
    """``bulk_create(objects)`` (one model; an auto primary key comes from the database) as one
    INSERT; ``returning``: a column to return (for ``returned``)."""
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    query = InsertQuery(model)
    query.insert_values(fields, objects)
    statements = query.get_compiler(connection=connection).as_sql()
    if len(statements) != 1:
        raise ValueError("this database cannot insert these rows in one statement")
    sql, params = statements[0]
    if returning is not None:
        sql += f" RETURNING {connection.ops.quote_name(returning)}"
    return Part(sql, list(params), returning is not None)


class _Returned:
    """Where a later part uses what an earlier one returned (databases without ``WITH``)."""

    def __init__(self, part: int):
        self.part = part


def returned(part: int, column: str) -> RawSQL:
    """A value for a field of a later part: ``column`` of the one row that part ``part`` (an
    ``insert`` with ``returning=column``) wrote."""
    if connection.vendor == "postgresql":
        return RawSQL(f"(SELECT {connection.ops.quote_name(column)} FROM part{part})", [])
    return RawSQL("%s", [_Returned(part)])


def write_together(parts: list[Part]) -> list:
    """Run the parts atomically: as one statement on PostgreSQL, else one by one in a
    transaction. Returns what each part returned (None for a part without RETURNING)."""
    if connection.vendor == "postgresql":
        if connection.in_atomic_block:
            # In the caller's transaction: a savepoint, so a failed statement leaves it usable.
            with transaction.atomic():
                return _one_statement(parts)
        return _one_statement(parts)
    results = []
    with transaction.atomic(), connection.cursor() as cursor:
        for part in parts:
            params = [results[p.part] if isinstance(p, _Returned) else p for p in part.params]
            cursor.execute(part.sql, params)
            results.append(cursor.fetchone()[0] if part.returns else None)
    return results


def _one_statement(parts: list[Part]) -> list:
    names = ", ".join(f"part{index} AS ({part.sql})" for index, part in enumerate(parts))
    values = ", ".join(
        f"(SELECT * FROM part{index} LIMIT 1)" if part.returns else "NULL"
        for index, part in enumerate(parts)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {names} SELECT {values}", [p for part in parts for p in part.params])
        return list(cursor.fetchone())
