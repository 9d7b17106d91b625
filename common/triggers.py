"""Statement triggers with transition tables, the way every read model here is kept."""

from collections.abc import Callable

from django.db import connection, transaction


def transition_triggers(function: str, table: str, *, insert: str, update: str, delete: str) -> str:
    """A PL/pgSQL function `function` running `insert`, `update` or `delete` (each a statement reading the
    transition tables `new_rows` and/or `old_rows`) after each INSERT, UPDATE or DELETE statement on
    `table`: one trigger per operation, as PostgreSQL allows transition tables on a trigger for one
    event only. An INSERT ... ON CONFLICT DO UPDATE fires the INSERT one for the rows it inserted and the
    UPDATE one for those it updated."""
    triggers = "".join(
        f"""
DROP TRIGGER IF EXISTS {function}_{operation} ON {table};
CREATE TRIGGER {function}_{operation}
  AFTER {operation.upper()} ON {table} REFERENCING {referencing}
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();"""
        for operation, referencing in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
        )
    )
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
{insert};
  ELSIF TG_OP = 'UPDATE' THEN
{update};
  ELSE
{delete};
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
{triggers}
"""


def rollup_triggers(function: str, table: str, upsert) -> str:
    """`transition_triggers` keeping a sum of `table`'s rows (its months, say) equal to them: `upsert(*parts)`
    is the statement adding each (relation, sign) part's rows, "" adding and "-" taking out."""
    return transition_triggers(
        function,
        table,
        insert=upsert(("new_rows", "")),
        update=upsert(("old_rows", "-"), ("new_rows", "")),
        delete=upsert(("old_rows", "-")),
    )


def only_if_any(rows: str, statement: str) -> str:
    """`statement` run only when relation `rows` (a part of a transition table) holds a row. A trigger
    whose statement joins a whole table to the rows that changed is planned once per session, for any
    number of rows: without this guard the sweep's breaches (which change nothing such a read model
    counts) paid a join to every deadline or step a statement, 43-50 s for a storm of 100,000 against 16-23."""
    return f"IF EXISTS (SELECT 1 FROM {rows} AS changed) THEN\n{statement};\n  END IF"  # noqa: S608 - our relations


def drop_transition_triggers(function: str, table: str) -> str:
    """What undoes `transition_triggers`."""
    drops = "".join(
        f"DROP TRIGGER IF EXISTS {function}_{operation} ON {table};\n" for operation in ("insert", "update", "delete")
    )
    return drops + f"DROP FUNCTION IF EXISTS {function}();\n"


def read_model_rebuild(*, sources: str, table: str, triggers: str, fill: Callable) -> int:
    """Recount read model `table` from its `sources` (tables, comma-separated): a SHARE lock on them
    meanwhile (writers wait, then count themselves as usual), `triggers` installed again (for the site's
    zone as configured now), the rows wiped and `fill(cursor)` run. Returns the number of rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {sources} IN SHARE MODE")
        cursor.execute(triggers)
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our tables
        fill(cursor)
        return cursor.rowcount
