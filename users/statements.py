"""Several ORM writes sent as one statement on PostgreSQL.

A device message that stores a few rows would otherwise cost BEGIN, one round trip per write and
COMMIT. ``write_together`` sends the writes as data-modifying parts of one ``WITH`` statement,
which PostgreSQL runs atomically on its own; other databases run them one by one in a
transaction. Field preparation, ``auto_now_add`` and defaults are what ``save()`` and
``update()`` do (Django's ``pre_save`` and ``get_db_prep_save``); the SQL of an INSERT or a
one-row UPDATE is built once per model and fields (``insert``, ``update_row``: building it was
most of a device message's CPU in the ORM), the rest is Django's compilers'. ``create`` is one
INSERT of a new object without signals.

Parts must not depend on each other's effects: in one statement every part sees the rows as
they were before it (PostgreSQL's rule for data-modifying ``WITH``), so a part may refer to
another only through its ``RETURNING`` (``returned``).
"""

from typing import NamedTuple

from django.db import connection, models, transaction
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


def update_row(model, pk, **values) -> Part:
    """``model.objects.filter(pk=pk).update(**values)`` as SQL, built once per model and set of
    fields; values are prepared as ``update()`` prepares them. An expression (``F()``), a
    model object or a field with its own placeholder goes through Django's update compiler."""
    fields = [model._meta.get_field(name) for name in values]
    if not _plain_placeholders(fields) or any(
        hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save")
        for value in values.values()
    ):
        return update(model.objects.filter(pk=pk), **values)
    key = (connection.vendor, model, tuple(values))
    sql = _UPDATES.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {quote(model._meta.pk.column)} = %s"
        _UPDATES[key] = sql
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    return Part(sql, [*params, model._meta.pk.get_db_prep_value(pk, connection)])


_UPDATES: dict[tuple, str] = {}


def _plain_placeholders(fields) -> bool:
    """Whether Django's placeholder for every one of ``fields`` is ``%s``: on PostgreSQL and
    SQLite, for fields without their own (BinaryField's binary_placeholder_sql is ``%s``
    there). Other fields and databases go through Django's compilers."""
    return connection.vendor in ("postgresql", "sqlite") and not any(
        getattr(f, "get_placeholder", None) and f.get_internal_type() != "BinaryField"
        for f in fields
    )


def insert(objects, *, returning: str | None = None) -> Part:
    """``bulk_create(objects)`` (one model; an auto primary key comes from the database) as one
    INSERT; ``returning``: a column to return (for ``returned``). Each field's value is
    prepared as ``save()`` prepares it (``pre_save``, ``get_db_prep_save``); the SQL, the same
    for every call with as many rows, is built once (``_insert_sql``). A value from
    ``returned`` puts its SQL in its place; any other expression goes through Django's insert
    compiler."""
    model = type(objects[0])
    fields = _insert_fields(model)
    rows = [[field.pre_save(obj, True) for field in fields] for obj in objects]
    sql = _insert_sql(model, len(rows), returning)
    expressions = [v for row in rows for v in row if hasattr(v, "resolve_expression")]
    if sql is None or not all(isinstance(v, _ReturnedSQL) for v in expressions):
        return _compiled_insert(model, fields, objects, returning)
    plain = _plain_types(model)
    params = [
        value
        if type(value) is kind
        or (value is None and kind is not _Prepared)
        or isinstance(value, _ReturnedSQL)
        else field.get_db_prep_save(value, connection)
        for row in rows
        for field, kind, value in zip(fields, plain, row, strict=True)
    ]
    if expressions:
        sql, params = _inline_returned(sql, params)
    return Part(sql, params, returning is not None)


def create(obj):
    """``obj.save()`` of a new row as one INSERT … RETURNING its primary key, without the
    ORM's compiler or ``pre_save``/``post_save`` signals (for models no receiver listens to)."""
    part = insert([obj], returning=obj._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(part.sql, part.params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


def _insert_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]


# Django's own fields whose get_db_prep_save returns a value of this exact type, and None, as
# they are, on every database: such values skip the call (most of an INSERT's preparing).
_PLAIN = {
    models.CharField: str,
    models.TextField: str,
    models.SlugField: str,
    models.EmailField: str,
    models.URLField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.BooleanField: bool,
}
_PLAIN_TYPES: dict = {}


class _Prepared:
    """The "type" of a field whose every value goes through get_db_prep_save."""


def _plain_types(model) -> list:
    """Per insert field: the type whose values (and None) need no preparing, or ``_Prepared``."""
    kinds = _PLAIN_TYPES.get(model)
    if kinds is None:
        kinds = []
        for field in _insert_fields(model):
            target = field.target_field if isinstance(field, models.ForeignKey) else field
            if isinstance(target, models.AutoField | models.BigAutoField):
                kinds.append(int)  # a foreign key's value: the other row's integer key
            else:
                kinds.append(_PLAIN.get(type(target), _Prepared))
        _PLAIN_TYPES[model] = kinds
    return kinds


_INSERTS: dict[tuple, str | None] = {}


def _insert_sql(model, rows: int, returning: str | None) -> str | None:
    """The INSERT of ``rows`` rows, built once per model and row count (up to 32 rows); None
    where a field needs a placeholder other than ``%s``."""
    key = (connection.vendor, model, rows, returning)
    if key in _INSERTS:
        return _INSERTS[key]
    fields = _insert_fields(model)
    sql = None
    if _plain_placeholders(fields):
        quote = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) VALUES {', '.join([row] * rows)}"
        )
        if returning is not None:
            sql += f" RETURNING {quote(returning)}"
    if rows <= 32:
        _INSERTS[key] = sql
    return sql


def _compiled_insert(model, fields, objects, returning) -> Part:
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


class _ReturnedSQL(RawSQL):
    """The value ``returned`` gives: SQL that ``insert`` puts in the value's placeholder."""


def returned(part: int, column: str) -> RawSQL:
    """A value for a field of a later part: ``column`` of the one row that part ``part`` (an
    ``insert`` with ``returning=column``) wrote."""
    if connection.vendor == "postgresql":
        return _ReturnedSQL(f"(SELECT {connection.ops.quote_name(column)} FROM part{part})", [])
    return _ReturnedSQL("%s", [_Returned(part)])


def _inline_returned(sql: str, params: list) -> tuple[str, list]:
    """The INSERT with each ``returned`` value's SQL in its placeholder, its params in place
    (the placeholders of ``_insert_sql`` are the only ``%s`` after ``VALUES``)."""
    head, values = sql.split(" VALUES ", 1)
    pieces = values.split("%s")
    out, flat = [pieces[0]], []
    for piece, value in zip(pieces[1:], params, strict=True):
        if isinstance(value, _ReturnedSQL):
            out.append(value.sql)
            flat.extend(value.params)
        else:
            out.append("%s")
            flat.append(value)
        out.append(piece)
    return f"{head} VALUES {''.join(out)}", flat


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
