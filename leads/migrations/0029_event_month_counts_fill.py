"""`EventMonthCount` filled from `handoff_eventcount` as it stands and kept equal to it by a trigger on that
table (issue 25). The SQL is copied from leads/counts.py as it was when this migration was written, so the
migration keeps meaning the same thing if the module changes later."""

from django.db import migrations

FILL_AND_TRIGGER = r"""
DELETE FROM leads_eventmonthcount;

INSERT INTO leads_eventmonthcount (month, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT date_trunc('month', c.day)::date, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, value AS value, amount AS amount FROM handoff_eventcount) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (month, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventmonthcount.value + EXCLUDED.value,
       amount = leads_eventmonthcount.amount + EXCLUDED.amount;

CREATE OR REPLACE FUNCTION handoff_count_event_months() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO leads_eventmonthcount (month, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT date_trunc('month', c.day)::date, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, value AS value, amount AS amount FROM new_rows) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (month, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventmonthcount.value + EXCLUDED.value,
       amount = leads_eventmonthcount.amount + EXCLUDED.amount
;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO leads_eventmonthcount (month, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT date_trunc('month', c.day)::date, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, -value AS value, -amount AS amount FROM old_rows UNION ALL SELECT day, kind, subgroup, campaign_id, user_id, slot, value AS value, amount AS amount FROM new_rows) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (month, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventmonthcount.value + EXCLUDED.value,
       amount = leads_eventmonthcount.amount + EXCLUDED.amount
;
  ELSE

INSERT INTO leads_eventmonthcount (month, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT date_trunc('month', c.day)::date, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, -value AS value, -amount AS amount FROM old_rows) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (month, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventmonthcount.value + EXCLUDED.value,
       amount = leads_eventmonthcount.amount + EXCLUDED.amount
;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_event_months_insert ON handoff_eventcount;
CREATE TRIGGER handoff_count_event_months_insert
  AFTER INSERT ON handoff_eventcount REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_event_months();
DROP TRIGGER IF EXISTS handoff_count_event_months_update ON handoff_eventcount;
CREATE TRIGGER handoff_count_event_months_update
  AFTER UPDATE ON handoff_eventcount REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_event_months();
DROP TRIGGER IF EXISTS handoff_count_event_months_delete ON handoff_eventcount;
CREATE TRIGGER handoff_count_event_months_delete
  AFTER DELETE ON handoff_eventcount REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_event_months();
"""

DROP_TRIGGER = r"""
DROP TRIGGER IF EXISTS handoff_count_event_months_insert ON handoff_eventcount;
DROP TRIGGER IF EXISTS handoff_count_event_months_update ON handoff_eventcount;
DROP TRIGGER IF EXISTS handoff_count_event_months_delete ON handoff_eventcount;
DROP FUNCTION IF EXISTS handoff_count_event_months();
"""


class Migration(migrations.Migration):
    dependencies = [("leads", "0028_event_month_counts")]

    operations = [migrations.RunSQL(FILL_AND_TRIGGER, DROP_TRIGGER)]
