"""`EscalationDay` filled from the escalation steps and their deadlines as they stand and kept equal to them by
triggers on both tables (issue 25). The SQL is copied from reporting/escalations.py as it was when this
migration was written, so the migration keeps meaning the same thing if the module changes later;
`{zone}` stands for settings.TIME_ZONE (`rebuild_counts` installs the triggers again after a change of zone)."""

import zoneinfo

from django.conf import settings
from django.db import migrations

FILL_AND_TRIGGER = r"""
DELETE FROM reporting_escalationday;

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM handoff_escalation e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;

CREATE OR REPLACE FUNCTION handoff_count_escalation_steps() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM new_rows e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       -1 * COUNT(*) AS escalations
  FROM (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.done_at IS NULL) IS DISTINCT FROM (n.done_at IS NULL) OR o.deadline_id IS DISTINCT FROM n.deadline_id) e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
 UNION ALL
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.done_at IS NULL) IS DISTINCT FROM (n.done_at IS NULL) OR o.deadline_id IS DISTINCT FROM n.deadline_id) e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  ELSE

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       -1 * COUNT(*) AS escalations
  FROM old_rows e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_escalation_steps_insert ON handoff_escalation;
CREATE TRIGGER handoff_count_escalation_steps_insert
  AFTER INSERT ON handoff_escalation REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_steps();
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_update ON handoff_escalation;
CREATE TRIGGER handoff_count_escalation_steps_update
  AFTER UPDATE ON handoff_escalation REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_steps();
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_delete ON handoff_escalation;
CREATE TRIGGER handoff_count_escalation_steps_delete
  AFTER DELETE ON handoff_escalation REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_steps();

CREATE OR REPLACE FUNCTION handoff_count_escalation_deadlines() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
NULL;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       -1 * COUNT(*) AS escalations
  FROM handoff_escalation e JOIN (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.breached_at IS NOT NULL AND n.breached_at IS NOT NULL
   AND (o.due_at IS DISTINCT FROM n.due_at OR o.kind IS DISTINCT FROM n.kind
        OR o.owner_id IS DISTINCT FROM n.owner_id OR o.campaign_id IS DISTINCT FROM n.campaign_id)) d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
 UNION ALL
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM handoff_escalation e JOIN (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.breached_at IS NOT NULL AND n.breached_at IS NOT NULL
   AND (o.due_at IS DISTINCT FROM n.due_at OR o.kind IS DISTINCT FROM n.kind
        OR o.owner_id IS DISTINCT FROM n.owner_id OR o.campaign_id IS DISTINCT FROM n.campaign_id)) d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  ELSE
NULL;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_insert ON handoff_deadline;
CREATE TRIGGER handoff_count_escalation_deadlines_insert
  AFTER INSERT ON handoff_deadline REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_deadlines();
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_update ON handoff_deadline;
CREATE TRIGGER handoff_count_escalation_deadlines_update
  AFTER UPDATE ON handoff_deadline REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_deadlines();
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_delete ON handoff_deadline;
CREATE TRIGGER handoff_count_escalation_deadlines_delete
  AFTER DELETE ON handoff_deadline REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_deadlines();

"""

DROP_TRIGGER = r"""
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_insert ON handoff_escalation;
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_update ON handoff_escalation;
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_delete ON handoff_escalation;
DROP FUNCTION IF EXISTS handoff_count_escalation_steps();
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_insert ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_update ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_delete ON handoff_deadline;
DROP FUNCTION IF EXISTS handoff_count_escalation_deadlines();
"""


def fill_and_trigger(apps, schema_editor):
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    schema_editor.execute(FILL_AND_TRIGGER.replace("{zone}", settings.TIME_ZONE.replace("'", "''")))


def drop_trigger(apps, schema_editor):
    schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    # The count slots' function its upserts call (leads 0027).
    dependencies = [("reporting", "0007_escalation_days"), ("leads", "0027_count_slots")]

    operations = [migrations.RunPython(fill_and_trigger, drop_trigger)]
