"""`DeadlineOutcomeMonth` filled from `handoff_deadlineoutcome` as it stands and kept equal to it by a trigger
on that table (issue 25). The SQL is copied from reporting/outcomes.py as it was when this migration was
written, so the migration keeps meaning the same thing if the module changes later; `{zone}` stands for
settings.TIME_ZONE (`rebuild_counts` installs the trigger again after a change of zone)."""

import zoneinfo

from django.conf import settings
from django.db import migrations

FILL_AND_TRIGGER = r"""
DELETE FROM reporting_deadlineoutcomemonth;

INSERT INTO reporting_deadlineoutcomemonth (month, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT date_trunc('month', c.hour AT TIME ZONE '{zone}')::date, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, on_time AS on_time, late AS late, recorded AS recorded, by_escalation AS by_escalation, late_by_escalation AS late_by_escalation FROM handoff_deadlineoutcome) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (month, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomemonth.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomemonth.late + EXCLUDED.late, recorded = reporting_deadlineoutcomemonth.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomemonth.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomemonth.late_by_escalation + EXCLUDED.late_by_escalation;

CREATE OR REPLACE FUNCTION handoff_count_outcome_months() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO reporting_deadlineoutcomemonth (month, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT date_trunc('month', c.hour AT TIME ZONE '{zone}')::date, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, on_time AS on_time, late AS late, recorded AS recorded, by_escalation AS by_escalation, late_by_escalation AS late_by_escalation FROM new_rows) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (month, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomemonth.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomemonth.late + EXCLUDED.late, recorded = reporting_deadlineoutcomemonth.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomemonth.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomemonth.late_by_escalation + EXCLUDED.late_by_escalation;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_deadlineoutcomemonth (month, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT date_trunc('month', c.hour AT TIME ZONE '{zone}')::date, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, -on_time AS on_time, -late AS late, -recorded AS recorded, -by_escalation AS by_escalation, -late_by_escalation AS late_by_escalation FROM old_rows UNION ALL SELECT hour, kind, campaign_id, owner_id, on_time AS on_time, late AS late, recorded AS recorded, by_escalation AS by_escalation, late_by_escalation AS late_by_escalation FROM new_rows) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (month, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomemonth.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomemonth.late + EXCLUDED.late, recorded = reporting_deadlineoutcomemonth.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomemonth.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomemonth.late_by_escalation + EXCLUDED.late_by_escalation;
  ELSE

INSERT INTO reporting_deadlineoutcomemonth (month, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT date_trunc('month', c.hour AT TIME ZONE '{zone}')::date, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, -on_time AS on_time, -late AS late, -recorded AS recorded, -by_escalation AS by_escalation, -late_by_escalation AS late_by_escalation FROM old_rows) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (month, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomemonth.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomemonth.late + EXCLUDED.late, recorded = reporting_deadlineoutcomemonth.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomemonth.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomemonth.late_by_escalation + EXCLUDED.late_by_escalation;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_outcome_months_insert ON handoff_deadlineoutcome;
CREATE TRIGGER handoff_count_outcome_months_insert
  AFTER INSERT ON handoff_deadlineoutcome REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_outcome_months();
DROP TRIGGER IF EXISTS handoff_count_outcome_months_update ON handoff_deadlineoutcome;
CREATE TRIGGER handoff_count_outcome_months_update
  AFTER UPDATE ON handoff_deadlineoutcome REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_outcome_months();
DROP TRIGGER IF EXISTS handoff_count_outcome_months_delete ON handoff_deadlineoutcome;
CREATE TRIGGER handoff_count_outcome_months_delete
  AFTER DELETE ON handoff_deadlineoutcome REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_outcome_months();
"""

DROP_TRIGGER = r"""
DROP TRIGGER IF EXISTS handoff_count_outcome_months_insert ON handoff_deadlineoutcome;
DROP TRIGGER IF EXISTS handoff_count_outcome_months_update ON handoff_deadlineoutcome;
DROP TRIGGER IF EXISTS handoff_count_outcome_months_delete ON handoff_deadlineoutcome;
DROP FUNCTION IF EXISTS handoff_count_outcome_months();
"""


def fill_and_trigger(apps, schema_editor):
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    schema_editor.execute(FILL_AND_TRIGGER.replace("{zone}", settings.TIME_ZONE.replace("'", "''")))


def drop_trigger(apps, schema_editor):
    schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0003_deadline_outcome_months")]

    operations = [migrations.RunPython(fill_and_trigger, drop_trigger)]
