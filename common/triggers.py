"""Statement triggers with transition tables, the way every read model here is kept."""


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


def drop_transition_triggers(function: str, table: str) -> str:
    """What undoes `transition_triggers`."""
    drops = "".join(
        f"DROP TRIGGER IF EXISTS {function}_{operation} ON {table};\n" for operation in ("insert", "update", "delete")
    )
    return drops + f"DROP FUNCTION IF EXISTS {function}();\n"
