from django.db import migrations

# The trigger's SQL is copied from handoff/counts.py as it was when this migration was written, so
# the migration keeps meaning the same thing if the module changes later (a later migration then
# installs the new version).
COUNT_EVENTS_TRIGGER = """
CREATE OR REPLACE FUNCTION handoff_count_events() RETURNS trigger AS $$
BEGIN

INSERT INTO handoff_eventcount (hour, kind, subgroup, campaign_id, user_id, value, amount)

SELECT date_trunc('hour', e.created_at, 'UTC') AS hour,
       e.kind,
       LEFT(CASE
         WHEN e.kind IN ('breach', 'warning', 'escalated', 'activity') THEN COALESCE(e.data->>'kind', '')
         WHEN e.kind = 'returned' THEN COALESCE(e.data->>'reason', '')
         WHEN e.kind = 'deal_stage' THEN COALESCE(e.data->>'to', '')
         WHEN e.kind = 'captured' THEN COALESCE(e.data->>'source', '')
         ELSE ''
       END, 100) AS subgroup,
       l.campaign_id,
       w.user_id,
       COUNT(*) AS value,
       COALESCE(SUM(CASE
         WHEN e.kind = 'converted' THEN (e.data->>'value')::numeric
         WHEN e.kind = 'deal_stage' AND e.data->>'to' = 'won' THEN COALESCE((e.data->>'value')::numeric, d.value)
       END), 0) AS amount
  FROM new_events e
  JOIN leads_lead l ON l.id = e.lead_id
  CROSS JOIN LATERAL (
    SELECT COALESCE(
      CASE WHEN e.data->>'rep' ~ '^[0-9]+$' THEN (e.data->>'rep')::integer END,
      CASE WHEN e.data->>'owner' ~ '^[0-9]+$' THEN (e.data->>'owner')::integer END,
      e.actor_id
    ) AS user_id
  ) w
  LEFT JOIN leads_deal d ON d.lead_id = e.lead_id AND e.kind = 'deal_stage'
 GROUP BY 1, 2, 3, 4, 5
 ORDER BY 1, 2, 3, 4, 5

ON CONFLICT (hour, kind, subgroup, campaign_id, user_id) DO UPDATE
   SET value = handoff_eventcount.value + EXCLUDED.value,
       amount = handoff_eventcount.amount + EXCLUDED.amount
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_events ON leads_leadevent;
CREATE TRIGGER handoff_count_events
  AFTER INSERT ON leads_leadevent
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_events();
"""

# Count the timeline that already exists.
BACKFILL = """
INSERT INTO handoff_eventcount (hour, kind, subgroup, campaign_id, user_id, value, amount)

SELECT date_trunc('hour', e.created_at, 'UTC') AS hour,
       e.kind,
       LEFT(CASE
         WHEN e.kind IN ('breach', 'warning', 'escalated', 'activity') THEN COALESCE(e.data->>'kind', '')
         WHEN e.kind = 'returned' THEN COALESCE(e.data->>'reason', '')
         WHEN e.kind = 'deal_stage' THEN COALESCE(e.data->>'to', '')
         WHEN e.kind = 'captured' THEN COALESCE(e.data->>'source', '')
         ELSE ''
       END, 100) AS subgroup,
       l.campaign_id,
       w.user_id,
       COUNT(*) AS value,
       COALESCE(SUM(CASE
         WHEN e.kind = 'converted' THEN (e.data->>'value')::numeric
         WHEN e.kind = 'deal_stage' AND e.data->>'to' = 'won' THEN COALESCE((e.data->>'value')::numeric, d.value)
       END), 0) AS amount
  FROM leads_leadevent e
  JOIN leads_lead l ON l.id = e.lead_id
  CROSS JOIN LATERAL (
    SELECT COALESCE(
      CASE WHEN e.data->>'rep' ~ '^[0-9]+$' THEN (e.data->>'rep')::integer END,
      CASE WHEN e.data->>'owner' ~ '^[0-9]+$' THEN (e.data->>'owner')::integer END,
      e.actor_id
    ) AS user_id
  ) w
  LEFT JOIN leads_deal d ON d.lead_id = e.lead_id AND e.kind = 'deal_stage'
 GROUP BY 1, 2, 3, 4, 5
 ORDER BY 1, 2, 3, 4, 5

ON CONFLICT (hour, kind, subgroup, campaign_id, user_id) DO UPDATE
   SET value = handoff_eventcount.value + EXCLUDED.value,
       amount = handoff_eventcount.amount + EXCLUDED.amount
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS handoff_count_events ON leads_leadevent;
DROP FUNCTION IF EXISTS handoff_count_events();
"""


class Migration(migrations.Migration):
    """Installs the trigger that keeps the counts current (after 0009 has made their unique index)."""

    dependencies = [("handoff", "0009_event_counts")]

    operations = [migrations.RunSQL(COUNT_EVENTS_TRIGGER + BACKFILL, DROP_TRIGGER)]
