"""Database helpers the ORM does not have."""

import orjson
from django.db import connection
from django.db.models.expressions import RawSQL


def values_in(values, *, kind: str = "text") -> RawSQL:
    """A subquery yielding `values`, for `field__in=values_in(...)`: one bound parameter
    however many values (a JSON array on SQLite, an array on PostgreSQL), where a plain
    `__in=list` compiles and binds one parameter per value (10,000 of them on a manifest)."""
    values = list(values)
    if connection.vendor == "postgresql":
        cast = {"text": "text[]", "int": "bigint[]"}[kind]
        return RawSQL(f"SELECT unnest(%s::{cast})", [values])  # noqa: S611 (cast from the fixed map)
    # orjson: a tenth of json.dumps's time on 10,000 sha256 (a manifest check's, bench/manifest_check.py)
    return RawSQL("SELECT value FROM json_each(%s)", [orjson.dumps(values).decode()])  # noqa: S611 (bound)


def insert_pairs_ignoring_conflicts(model, fields: tuple[str, str], first, seconds) -> None:
    """INSERT (first, s) for each s in `seconds` into `model`'s table, skipping rows its unique
    constraint already holds: one statement and one array parameter, however many rows."""
    seconds = list(seconds)
    if not seconds:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    a, b = (connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    if connection.vendor == "postgresql":
        source, param = "SELECT %s, unnest(%s::bigint[])", seconds
    else:
        source, param = "SELECT %s, value FROM json_each(%s) WHERE true", orjson.dumps(seconds).decode()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({a}, {b}) {source} ON CONFLICT DO NOTHING",  # noqa: S608 (quoted names)
            [first, param],
        )


def raw_rows(queryset) -> list[tuple]:
    """The rows of a `values_list` queryset as the database driver returns them, fetched in one
    call: no per-value converters and no chunked fetching. For hot reads of many rows whose
    columns the caller converts itself (on SQLite a WeiField arrives as its stored text: convert it
    with the field's `from_db_value`); 10,000 rows come back in about half the ORM's time."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
