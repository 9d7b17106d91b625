"""The deadlines' read model counts the escalation's claims apart (`by_escalation`, `late_by_escalation`);
the trigger is installed again with the new definition and the table recounted from the deadlines.

The SQL is copied from reporting/outcomes.py as it was when this migration was written, so the migration
keeps meaning the same thing if the module changes later."""

import importlib

from django.db import migrations, models

OUTCOMES_SELECT = """
SELECT date_trunc('hour', LEAST(d.met_at, d.due_at), 'UTC') AS hour,
       d.kind,
       d.campaign_id,
       d.owner_id,
       {sign} * COUNT(*) FILTER (WHERE d.met_at <= d.due_at AND NOT d.met_by_escalation) AS on_time,
       {sign} * COUNT(*) FILTER (WHERE d.met_at IS NULL OR d.met_at > d.due_at) AS late,
       {sign} * COUNT(*) FILTER (WHERE d.breached_at IS NOT NULL) AS recorded,
       {sign} * COUNT(*) FILTER (WHERE d.met_at <= d.due_at AND d.met_by_escalation) AS by_escalation,
       {sign} * COUNT(*) FILTER (WHERE d.met_at > d.due_at AND d.met_by_escalation) AS late_by_escalation
  FROM {rows} d
 WHERE d.met_at IS NOT NULL OR (d.paused_at IS NULL AND (d.cancelled_at IS NULL OR d.cancelled_at > d.due_at))
 GROUP BY 1, 2, 3, 4
"""

OUTCOMES_UPSERT = """
INSERT INTO handoff_deadlineoutcome (hour, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation,
                                     late_by_escalation)
SELECT hour, kind, campaign_id, owner_id, SUM(on_time), SUM(late), SUM(recorded), SUM(by_escalation),
       SUM(late_by_escalation)
  FROM ({changes}) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(on_time) <> 0 OR SUM(late) <> 0 OR SUM(recorded) <> 0 OR SUM(by_escalation) <> 0
    OR SUM(late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (hour, kind, campaign_id, owner_id) DO UPDATE
   SET on_time = handoff_deadlineoutcome.on_time + EXCLUDED.on_time,
       late = handoff_deadlineoutcome.late + EXCLUDED.late,
       recorded = handoff_deadlineoutcome.recorded + EXCLUDED.recorded,
       by_escalation = handoff_deadlineoutcome.by_escalation + EXCLUDED.by_escalation,
       late_by_escalation = handoff_deadlineoutcome.late_by_escalation + EXCLUDED.late_by_escalation
"""


def _upsert(*parts: tuple[str, int]) -> str:
    changes = " UNION ALL\n".join(OUTCOMES_SELECT.format(rows=rows, sign=sign) for rows, sign in parts)
    return OUTCOMES_UPSERT.format(changes=changes)


def trigger_sql() -> str:
    """The trigger function and its three triggers (PostgreSQL allows transition tables on a trigger
    for one event only), for the migration that installs them."""
    return f"""
CREATE OR REPLACE FUNCTION handoff_count_deadline_outcomes() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
{_upsert(("new_deadlines", 1))};
  ELSIF TG_OP = 'UPDATE' THEN
{_upsert(("old_deadlines", -1), ("new_deadlines", 1))};
  ELSE
{_upsert(("old_deadlines", -1))};
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_deadline_outcomes_insert ON handoff_deadline;
CREATE TRIGGER handoff_deadline_outcomes_insert
  AFTER INSERT ON handoff_deadline REFERENCING NEW TABLE AS new_deadlines
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_deadline_outcomes();
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_update ON handoff_deadline;
CREATE TRIGGER handoff_deadline_outcomes_update
  AFTER UPDATE ON handoff_deadline REFERENCING OLD TABLE AS old_deadlines NEW TABLE AS new_deadlines
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_deadline_outcomes();
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_delete ON handoff_deadline;
CREATE TRIGGER handoff_deadline_outcomes_delete
  AFTER DELETE ON handoff_deadline REFERENCING OLD TABLE AS old_deadlines
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_deadline_outcomes();
"""


# Counted again in place: every row to zero, then the deadlines added up, so no row goes away (a row the
# trigger left at zero stays; readers skip zeros).
ZEROS = (
    "UPDATE handoff_deadlineoutcome SET on_time = 0, late = 0, recorded = 0, by_escalation = 0, late_by_escalation = 0;"
)
RECOUNT = ZEROS + _upsert(("handoff_deadline", 1))
previous = importlib.import_module("handoff.migrations.0015_deadline_outcomes")
RECOUNT_AS_BEFORE = previous._upsert(("handoff_deadline", 1))
# The new rows' foreign keys are checked now, not at the commit: the table is altered next.
CHECKED = ";\nSET CONSTRAINTS ALL IMMEDIATE;"


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("sla", "0002_escalation_apart"),
    ]

    operations = [
        migrations.AddField(
            model_name="deadlineoutcome",
            name="by_escalation",
            field=models.BigIntegerField(
                db_default=0,
                default=0,
                help_text="Met by an escalation by the due time: neither on time nor late (nobody's action).",
            ),
        ),
        migrations.AddField(
            model_name="deadlineoutcome",
            name="late_by_escalation",
            field=models.BigIntegerField(
                db_default=0,
                default=0,
                help_text="Late ones an escalation met after the due time (counted in late too).",
            ),
        ),
        # Back: the trigger of before, which counts no escalation columns (they are dropped after it),
        # and the rows counted again its way (the same keys: only the figures change).
        migrations.RunSQL(trigger_sql() + RECOUNT, previous.OUTCOMES_TRIGGER + ZEROS + RECOUNT_AS_BEFORE + CHECKED),
    ]
