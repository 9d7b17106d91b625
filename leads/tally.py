"""Leads per campaign, owner and status, kept current by a trigger on `leads_lead` (`LeadTally`).

The one definition of how a change is counted is `TALLY_DELTA`: the trigger runs it over each
statement's old and new rows (an insert adds one, a delete takes one away, an update moves one from
its old key to its new one), and `lead_tally_rebuild` recounts the table from the leads. A test
checks the two agree on a random history.

Counts of what leads *are now* (open leads per rep, leads per campaign and status) come from here;
counts of what *happened* (MQLs per month, claims per rep) from `handoff.counts`.
"""

from django.db import connection, transaction
from django.db.models import F, Func, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce

from .models import LeadTally

# `{changes}`: rows (campaign_id, owner_id, status, delta) to add up.
TALLY_UPSERT = """
INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads)
SELECT campaign_id, owner_id, status, SUM(delta)
  FROM ({changes}) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
"""

NEW_ROWS = "SELECT campaign_id, owner_id, status, 1 AS delta FROM {table}"
OLD_ROWS = "SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads"

# Per statement kind: the transition tables it has and how they change the tallies.
TRIGGERS = {
    "INSERT": ("REFERENCING NEW TABLE AS new_leads", NEW_ROWS.format(table="new_leads")),
    "UPDATE": (
        "REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads",
        f"{NEW_ROWS.format(table='new_leads')} UNION ALL {OLD_ROWS}",
    ),
    "DELETE": ("REFERENCING OLD TABLE AS old_leads", OLD_ROWS),
}


def trigger_sql() -> str:
    """The trigger functions and triggers, for the migration that installs them."""
    sql = []
    for operation, (referencing, changes) in TRIGGERS.items():
        name = f"leads_tally_{operation.lower()}"
        sql.append(f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
{TALLY_UPSERT.format(changes=changes)};
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS {name} ON leads_lead;
CREATE TRIGGER {name} AFTER {operation} ON leads_lead {referencing}
  FOR EACH STATEMENT EXECUTE FUNCTION {name}();
""")
    return "".join(sql)


DROP_TRIGGER_SQL = "".join(
    f"DROP TRIGGER IF EXISTS leads_tally_{op} ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_{op}();\n"
    for op in ("insert", "update", "delete")
)


def lead_tally_rebuild() -> int:
    """Recount every tally from the leads; returns the number of rows written. Locks the leads
    against changes meanwhile (they wait, then count themselves through the trigger)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE leads_lead IN SHARE MODE")
        cursor.execute("DELETE FROM leads_leadtally")
        cursor.execute(TALLY_UPSERT.format(changes=NEW_ROWS.format(table="leads_lead")))
        return cursor.rowcount


def tally_of(*, where: Q, statuses=None) -> Subquery:
    """A subquery summing the tallies that match `where` (with OuterRef), optionally only `statuses`;
    0 when there are none. For annotating campaigns or reps."""
    rows = LeadTally.objects.filter(where)
    if statuses is not None:
        rows = rows.filter(status__in=statuses)
    # SUM without GROUP BY: one number for the outer row.
    total = rows.order_by().annotate(n=Func(F("leads"), function="SUM")).values("n")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)
