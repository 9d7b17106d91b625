"""`EventWeekCount` (made by 0032) filled from the daily counts and kept equal to them by a trigger on
`handoff_eventcount` (issue 25: a period's edge days read as whole weeks of the month and at most three
days either side of each, not up to fifteen days of every (campaign, person) pair). The SQL is copied from
leads/counts.py as it was when this migration was written, so the migration keeps meaning the same
thing if the module changes later."""

from django.db import migrations

TRIGGER_AND_FILL = r"""
CREATE OR REPLACE FUNCTION handoff_count_event_weeks() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO leads_eventweekcount (week, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT c.day - (EXTRACT(DAY FROM c.day)::int - 1) % 7, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, value AS value, amount AS amount FROM new_rows) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (week, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventweekcount.value + EXCLUDED.value,
       amount = leads_eventweekcount.amount + EXCLUDED.amount
;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO leads_eventweekcount (week, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT c.day - (EXTRACT(DAY FROM c.day)::int - 1) % 7, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, -value AS value, -amount AS amount FROM old_rows UNION ALL SELECT day, kind, subgroup, campaign_id, user_id, slot, value AS value, amount AS amount FROM new_rows) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (week, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventweekcount.value + EXCLUDED.value,
       amount = leads_eventweekcount.amount + EXCLUDED.amount
;
  ELSE

INSERT INTO leads_eventweekcount (week, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT c.day - (EXTRACT(DAY FROM c.day)::int - 1) % 7, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, -value AS value, -amount AS amount FROM old_rows) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (week, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventweekcount.value + EXCLUDED.value,
       amount = leads_eventweekcount.amount + EXCLUDED.amount
;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_event_weeks_insert ON handoff_eventcount;
CREATE TRIGGER handoff_count_event_weeks_insert
  AFTER INSERT ON handoff_eventcount REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_event_weeks();
DROP TRIGGER IF EXISTS handoff_count_event_weeks_update ON handoff_eventcount;
CREATE TRIGGER handoff_count_event_weeks_update
  AFTER UPDATE ON handoff_eventcount REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_event_weeks();
DROP TRIGGER IF EXISTS handoff_count_event_weeks_delete ON handoff_eventcount;
CREATE TRIGGER handoff_count_event_weeks_delete
  AFTER DELETE ON handoff_eventcount REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_event_weeks();
;

INSERT INTO leads_eventweekcount (week, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT c.day - (EXTRACT(DAY FROM c.day)::int - 1) % 7, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM (SELECT day, kind, subgroup, campaign_id, user_id, slot, value AS value, amount AS amount FROM handoff_eventcount) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (week, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventweekcount.value + EXCLUDED.value,
       amount = leads_eventweekcount.amount + EXCLUDED.amount
;
"""

DROP = r"""DROP TRIGGER IF EXISTS handoff_count_event_weeks_insert ON handoff_eventcount;
DROP TRIGGER IF EXISTS handoff_count_event_weeks_update ON handoff_eventcount;
DROP TRIGGER IF EXISTS handoff_count_event_weeks_delete ON handoff_eventcount;
DROP FUNCTION IF EXISTS handoff_count_event_weeks();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0032_event_week_counts"),
    ]

    operations = [migrations.RunSQL(TRIGGER_AND_FILL, DROP)]
