"""`MetTimeMonth` (made by 0012) filled from `MetTimeDay` and kept equal to it by a trigger on it (issue 25:
a quarter's percentiles read three months' sums, not ~11,000 daily rows). The SQL is copied from
reporting/met_times.py as it was when this migration was written, so the migration keeps meaning the
same thing if the module changes later."""

from django.db import migrations

TRIGGER_AND_FILL = r"""
CREATE OR REPLACE FUNCTION handoff_count_met_time_months() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO reporting_mettimemonth (month, kind, bucket, slot, deadlines)
SELECT date_trunc('month', c.day)::date, c.kind, c.bucket, c.slot, SUM(c.deadlines)
  FROM (SELECT day, kind, bucket, slot, deadlines AS deadlines FROM new_rows) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(c.deadlines) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (month, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimemonth.deadlines + EXCLUDED.deadlines;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_mettimemonth (month, kind, bucket, slot, deadlines)
SELECT date_trunc('month', c.day)::date, c.kind, c.bucket, c.slot, SUM(c.deadlines)
  FROM (SELECT day, kind, bucket, slot, -deadlines AS deadlines FROM old_rows UNION ALL SELECT day, kind, bucket, slot, deadlines AS deadlines FROM new_rows) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(c.deadlines) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (month, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimemonth.deadlines + EXCLUDED.deadlines;
  ELSE

INSERT INTO reporting_mettimemonth (month, kind, bucket, slot, deadlines)
SELECT date_trunc('month', c.day)::date, c.kind, c.bucket, c.slot, SUM(c.deadlines)
  FROM (SELECT day, kind, bucket, slot, -deadlines AS deadlines FROM old_rows) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(c.deadlines) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (month, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimemonth.deadlines + EXCLUDED.deadlines;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_met_time_months_insert ON reporting_mettimeday;
CREATE TRIGGER handoff_count_met_time_months_insert
  AFTER INSERT ON reporting_mettimeday REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_met_time_months();
DROP TRIGGER IF EXISTS handoff_count_met_time_months_update ON reporting_mettimeday;
CREATE TRIGGER handoff_count_met_time_months_update
  AFTER UPDATE ON reporting_mettimeday REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_met_time_months();
DROP TRIGGER IF EXISTS handoff_count_met_time_months_delete ON reporting_mettimeday;
CREATE TRIGGER handoff_count_met_time_months_delete
  AFTER DELETE ON reporting_mettimeday REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_met_time_months();
;

INSERT INTO reporting_mettimemonth (month, kind, bucket, slot, deadlines)
SELECT date_trunc('month', c.day)::date, c.kind, c.bucket, c.slot, SUM(c.deadlines)
  FROM (SELECT day, kind, bucket, slot, deadlines AS deadlines FROM reporting_mettimeday) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(c.deadlines) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (month, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimemonth.deadlines + EXCLUDED.deadlines;
"""

DROP = r"""DROP TRIGGER IF EXISTS handoff_count_met_time_months_insert ON reporting_mettimeday;
DROP TRIGGER IF EXISTS handoff_count_met_time_months_update ON reporting_mettimeday;
DROP TRIGGER IF EXISTS handoff_count_met_time_months_delete ON reporting_mettimeday;
DROP FUNCTION IF EXISTS handoff_count_met_time_months();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0012_met_time_months"),
    ]

    operations = [migrations.RunSQL(TRIGGER_AND_FILL, DROP)]
