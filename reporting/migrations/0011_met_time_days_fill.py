"""`MetTimeDay` (made by 0010): the business times of met deadlines counted per day, kind and bucket, filled from
the deadlines as they stand and kept equal to them by triggers (issue 25: the dashboard's percentiles without
sorting a period's every deadline), and `deadline_met_bucket_idx`, which holds a bucket's deadlines in
order of their decision for the refinement (`reporting.met_times`), read alone: it carries what
LEAST(met_at, due_at) is made of, or PostgreSQL visits the table for each deadline. The SQL is copied from
reporting/met_times.py as it was when this migration was written, so the migration keeps meaning the
same thing if the module changes later; `{zone}` stands for settings.TIME_ZONE."""

import zoneinfo

from django.conf import settings
from django.db import migrations

INDEX = """
CREATE INDEX deadline_met_bucket_idx ON handoff_deadline
  (kind, (floor(ln(business_seconds::float8 + 1) * 12)::int), (LEAST(met_at, due_at)))
  INCLUDE (business_seconds, met_at, due_at) WHERE business_seconds IS NOT NULL AND NOT met_by_escalation"""

FILL_AND_TRIGGER = r"""
INSERT INTO reporting_mettimeday (day, kind, bucket, deadlines, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, bucket, SUM(deadlines)
  FROM (
SELECT (LEAST(d.met_at, d.due_at) AT TIME ZONE '{zone}')::date AS day, d.kind, (floor(ln(d.business_seconds::float8 + 1) * 12)::int) AS bucket, 1 * COUNT(*) AS deadlines
  FROM handoff_deadline d
 WHERE d.business_seconds IS NOT NULL AND NOT d.met_by_escalation
 GROUP BY 1, 2, 3
) c
 GROUP BY 1, 2, 3
HAVING SUM(deadlines) <> 0
 ORDER BY 1, 2, 3) AS summed
ON CONFLICT (day, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimeday.deadlines + EXCLUDED.deadlines;

CREATE OR REPLACE FUNCTION handoff_count_met_times() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
IF EXISTS (SELECT 1 FROM (SELECT * FROM new_rows WHERE business_seconds IS NOT NULL) AS changed) THEN

INSERT INTO reporting_mettimeday (day, kind, bucket, deadlines, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, bucket, SUM(deadlines)
  FROM (
SELECT (LEAST(d.met_at, d.due_at) AT TIME ZONE '{zone}')::date AS day, d.kind, (floor(ln(d.business_seconds::float8 + 1) * 12)::int) AS bucket, 1 * COUNT(*) AS deadlines
  FROM new_rows d
 WHERE d.business_seconds IS NOT NULL AND NOT d.met_by_escalation
 GROUP BY 1, 2, 3
) c
 GROUP BY 1, 2, 3
HAVING SUM(deadlines) <> 0
 ORDER BY 1, 2, 3) AS summed
ON CONFLICT (day, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimeday.deadlines + EXCLUDED.deadlines;
  END IF;
  ELSIF TG_OP = 'UPDATE' THEN
IF EXISTS (SELECT 1 FROM ((SELECT * FROM new_rows WHERE business_seconds IS NOT NULL) UNION ALL (SELECT * FROM old_rows WHERE business_seconds IS NOT NULL)) AS changed) THEN

INSERT INTO reporting_mettimeday (day, kind, bucket, deadlines, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, bucket, SUM(deadlines)
  FROM (
SELECT (LEAST(d.met_at, d.due_at) AT TIME ZONE '{zone}')::date AS day, d.kind, (floor(ln(d.business_seconds::float8 + 1) * 12)::int) AS bucket, -1 * COUNT(*) AS deadlines
  FROM (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE ((o.business_seconds IS NOT NULL AND NOT o.met_by_escalation)
        OR (n.business_seconds IS NOT NULL AND NOT n.met_by_escalation))
   AND (o.business_seconds IS DISTINCT FROM n.business_seconds
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation OR o.kind IS DISTINCT FROM n.kind
        OR LEAST(o.met_at, o.due_at) IS DISTINCT FROM LEAST(n.met_at, n.due_at))) d
 WHERE d.business_seconds IS NOT NULL AND NOT d.met_by_escalation
 GROUP BY 1, 2, 3
 UNION ALL
SELECT (LEAST(d.met_at, d.due_at) AT TIME ZONE '{zone}')::date AS day, d.kind, (floor(ln(d.business_seconds::float8 + 1) * 12)::int) AS bucket, 1 * COUNT(*) AS deadlines
  FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE ((o.business_seconds IS NOT NULL AND NOT o.met_by_escalation)
        OR (n.business_seconds IS NOT NULL AND NOT n.met_by_escalation))
   AND (o.business_seconds IS DISTINCT FROM n.business_seconds
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation OR o.kind IS DISTINCT FROM n.kind
        OR LEAST(o.met_at, o.due_at) IS DISTINCT FROM LEAST(n.met_at, n.due_at))) d
 WHERE d.business_seconds IS NOT NULL AND NOT d.met_by_escalation
 GROUP BY 1, 2, 3
) c
 GROUP BY 1, 2, 3
HAVING SUM(deadlines) <> 0
 ORDER BY 1, 2, 3) AS summed
ON CONFLICT (day, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimeday.deadlines + EXCLUDED.deadlines;
  END IF;
  ELSE
IF EXISTS (SELECT 1 FROM (SELECT * FROM old_rows WHERE business_seconds IS NOT NULL) AS changed) THEN

INSERT INTO reporting_mettimeday (day, kind, bucket, deadlines, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, bucket, SUM(deadlines)
  FROM (
SELECT (LEAST(d.met_at, d.due_at) AT TIME ZONE '{zone}')::date AS day, d.kind, (floor(ln(d.business_seconds::float8 + 1) * 12)::int) AS bucket, -1 * COUNT(*) AS deadlines
  FROM old_rows d
 WHERE d.business_seconds IS NOT NULL AND NOT d.met_by_escalation
 GROUP BY 1, 2, 3
) c
 GROUP BY 1, 2, 3
HAVING SUM(deadlines) <> 0
 ORDER BY 1, 2, 3) AS summed
ON CONFLICT (day, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimeday.deadlines + EXCLUDED.deadlines;
  END IF;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_met_times_insert ON handoff_deadline;
CREATE TRIGGER handoff_count_met_times_insert
  AFTER INSERT ON handoff_deadline REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_met_times();
DROP TRIGGER IF EXISTS handoff_count_met_times_update ON handoff_deadline;
CREATE TRIGGER handoff_count_met_times_update
  AFTER UPDATE ON handoff_deadline REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_met_times();
DROP TRIGGER IF EXISTS handoff_count_met_times_delete ON handoff_deadline;
CREATE TRIGGER handoff_count_met_times_delete
  AFTER DELETE ON handoff_deadline REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_met_times();
"""

UNDO = """
DROP TRIGGER IF EXISTS handoff_count_met_times_insert ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_count_met_times_update ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_count_met_times_delete ON handoff_deadline;
DROP FUNCTION IF EXISTS handoff_count_met_times();
DROP INDEX IF EXISTS deadline_met_bucket_idx;"""


def install(apps, schema_editor):
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    schema_editor.execute(INDEX)
    schema_editor.execute(FILL_AND_TRIGGER.replace("{zone}", settings.TIME_ZONE.replace("'", "''")))


def uninstall(apps, schema_editor):
    schema_editor.execute(UNDO)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0010_met_time_days")]

    operations = [migrations.RunPython(install, uninstall)]
