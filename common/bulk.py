"""Many rows in one statement. `rows_insert` inserts rows built in Python, one array per column
(`INSERT … SELECT … unnest`), without the ORM building and preparing every value one by one (about a
tenth of a second per 500 rows on the 2-core machine); the models still name the table, columns and
types, and the caller gives every column that has no database default. The rest are pieces of SQL
for rows composed in the database itself (`INSERT … SELECT`), as the sweep writes its batches."""

import json

from django.db import connection
from django.db.models import JSONField, Model


def rows_insert(model: type[Model], rows: list[dict], *, returning: tuple[str, ...] = ()) -> list[tuple]:
    """Insert `rows` (dicts of field name to value, the same fields in each) into `model`'s table in
    one statement; returns the `returning` fields of each row inserted (in no particular order)."""
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in rows[0]]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    values = [
        [json.dumps(row[field.name]) for row in rows]
        if isinstance(field, JSONField)
        else [row[field.name] for row in rows]
        for field in fields
    ]
    back = (
        f" RETURNING {', '.join(quote(model._meta.get_field(name).column) for name in returning)}" if returning else ""
    )
    # Only names and types of the model are formatted in; every value is a parameter.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays}){back}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall() if returning else []


def choice_label_sql(column: str, choices: list[tuple[str, str]], *, lower: bool = False) -> tuple[str, list]:
    """`get_<field>_display()` as an SQL expression on `column` (lower-cased with `lower`); a value
    outside the choices reads as itself, as in Django."""
    whens = " ".join("WHEN %s THEN %s" for _ in choices)
    params = [part for value, label in choices for part in (value, str(label).lower() if lower else str(label))]
    return f"CASE {column} {whens} ELSE {column} END", params


def iso_datetime_sql(column: str) -> str:
    """`datetime.isoformat()` of an aware datetime as Django reads it (in UTC) as an SQL expression:
    "2026-12-02T14:00:00+00:00", with ".123456" before the offset when it has microseconds."""
    return (
        f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN to_char({column}, 'US') <> '000000' THEN to_char({column}, '.US') ELSE '' END || '+00:00'"
    )


def round_half_even_sql(expression: str) -> str:
    """Python's `round()` of a number to an integer, as SQL: halves go to the even neighbour."""
    return (
        f"(CASE WHEN ({expression}) - floor({expression}) = 0.5 "
        f"THEN floor({expression}) + abs(mod(floor({expression})::bigint, 2)) ELSE round({expression}) END)::bigint"
    )


def plan_for_sets() -> None:
    """Plan the rest of the transaction's statements for what a set's statements are: short, on rows
    in memory, found by key. Their data-modifying CTEs, and tables whose statistics lag behind a storm's
    rows (a 100,000 storm writes 300,000 escalation steps in a minute), make the planner's costs look
    huge, past `jit_above_cost`: compiling took half of each sweep batch (187 of 372 ms at 1,000
    breaches, by `EXPLAIN ANALYZE`) and 263 of 311 ms of an escalation set's lookup of its next steps,
    for nothing. At the default `random_page_cost` the planner hashed every lead (a sequential scan of
    100,000 of them, 80-130 ms a batch) rather than look up the batch's 1,000 by primary key. For the
    transaction only (`SET LOCAL`)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1")
