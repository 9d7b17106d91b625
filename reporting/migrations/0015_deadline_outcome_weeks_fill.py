"""`DeadlineOutcomeWeek` (made by 0014) filled from the hourly outcomes and kept equal to them by a trigger
on `handoff_deadlineoutcome` (issue 25: a period's edge hours read as whole weeks of the month and a few
days of hours, not up to fifteen days of every (hour, person, campaign)). The SQL is copied from
reporting/outcomes.py as it was when this migration was written, so the migration keeps meaning the same
thing if the module changes later; `{zone}` stands for settings.TIME_ZONE."""

import zoneinfo

from django.conf import settings
from django.db import migrations

TRIGGER_AND_FILL = r"""
CREATE OR REPLACE FUNCTION handoff_count_outcome_weeks() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO reporting_deadlineoutcomeweek (week, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT (c.hour AT TIME ZONE '{zone}')::date - (EXTRACT(DAY FROM c.hour AT TIME ZONE '{zone}')::int - 1) % 7, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, on_time AS on_time, late AS late, recorded AS recorded, by_escalation AS by_escalation, late_by_escalation AS late_by_escalation FROM new_rows) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (week, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomeweek.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomeweek.late + EXCLUDED.late, recorded = reporting_deadlineoutcomeweek.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomeweek.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomeweek.late_by_escalation + EXCLUDED.late_by_escalation;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_deadlineoutcomeweek (week, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT (c.hour AT TIME ZONE '{zone}')::date - (EXTRACT(DAY FROM c.hour AT TIME ZONE '{zone}')::int - 1) % 7, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, -on_time AS on_time, -late AS late, -recorded AS recorded, -by_escalation AS by_escalation, -late_by_escalation AS late_by_escalation FROM old_rows UNION ALL SELECT hour, kind, campaign_id, owner_id, on_time AS on_time, late AS late, recorded AS recorded, by_escalation AS by_escalation, late_by_escalation AS late_by_escalation FROM new_rows) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (week, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomeweek.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomeweek.late + EXCLUDED.late, recorded = reporting_deadlineoutcomeweek.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomeweek.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomeweek.late_by_escalation + EXCLUDED.late_by_escalation;
  ELSE

INSERT INTO reporting_deadlineoutcomeweek (week, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT (c.hour AT TIME ZONE '{zone}')::date - (EXTRACT(DAY FROM c.hour AT TIME ZONE '{zone}')::int - 1) % 7, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, -on_time AS on_time, -late AS late, -recorded AS recorded, -by_escalation AS by_escalation, -late_by_escalation AS late_by_escalation FROM old_rows) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (week, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomeweek.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomeweek.late + EXCLUDED.late, recorded = reporting_deadlineoutcomeweek.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomeweek.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomeweek.late_by_escalation + EXCLUDED.late_by_escalation;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_outcome_weeks_insert ON handoff_deadlineoutcome;
CREATE TRIGGER handoff_count_outcome_weeks_insert
  AFTER INSERT ON handoff_deadlineoutcome REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_outcome_weeks();
DROP TRIGGER IF EXISTS handoff_count_outcome_weeks_update ON handoff_deadlineoutcome;
CREATE TRIGGER handoff_count_outcome_weeks_update
  AFTER UPDATE ON handoff_deadlineoutcome REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_outcome_weeks();
DROP TRIGGER IF EXISTS handoff_count_outcome_weeks_delete ON handoff_deadlineoutcome;
CREATE TRIGGER handoff_count_outcome_weeks_delete
  AFTER DELETE ON handoff_deadlineoutcome REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_outcome_weeks();
;

INSERT INTO reporting_deadlineoutcomeweek (week, per, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation, late_by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT (c.hour AT TIME ZONE '{zone}')::date - (EXTRACT(DAY FROM c.hour AT TIME ZONE '{zone}')::int - 1) % 7, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, SUM(c.on_time), SUM(c.late), SUM(c.recorded), SUM(c.by_escalation), SUM(c.late_by_escalation)
  FROM (SELECT hour, kind, campaign_id, owner_id, on_time AS on_time, late AS late, recorded AS recorded, by_escalation AS by_escalation, late_by_escalation AS late_by_escalation FROM handoff_deadlineoutcome) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING SUM(c.on_time) <> 0 OR SUM(c.late) <> 0 OR SUM(c.recorded) <> 0 OR SUM(c.by_escalation) <> 0 OR SUM(c.late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT (week, per, kind, campaign_id, owner_id, slot) DO UPDATE SET on_time = reporting_deadlineoutcomeweek.on_time + EXCLUDED.on_time, late = reporting_deadlineoutcomeweek.late + EXCLUDED.late, recorded = reporting_deadlineoutcomeweek.recorded + EXCLUDED.recorded, by_escalation = reporting_deadlineoutcomeweek.by_escalation + EXCLUDED.by_escalation, late_by_escalation = reporting_deadlineoutcomeweek.late_by_escalation + EXCLUDED.late_by_escalation;
"""

DROP = r"""DROP TRIGGER IF EXISTS handoff_count_outcome_weeks_insert ON handoff_deadlineoutcome;
DROP TRIGGER IF EXISTS handoff_count_outcome_weeks_update ON handoff_deadlineoutcome;
DROP TRIGGER IF EXISTS handoff_count_outcome_weeks_delete ON handoff_deadlineoutcome;
DROP FUNCTION IF EXISTS handoff_count_outcome_weeks();
"""


def install(apps, schema_editor):
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    # No parameters: the SQL's "%" is the modulo, not a placeholder.
    schema_editor.execute(TRIGGER_AND_FILL.replace("{zone}", settings.TIME_ZONE.replace("'", "''")), None)


def uninstall(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0014_deadline_outcome_weeks"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
