"""Count rows per writer's slot (issue 25): concurrent posts of one campaign no longer wait on each other.

`LeadTally` and `EventCount` get a `slot` in their keys, and their triggers add to the slot their transaction
holds (`handoff_count_slot()`, see leads/tally.py): a key's count is the sum over its slots. The existing rows
are slot 0. The SQL is copied from leads/tally.py and leads/counts.py as it was when this migration was
written, so the migration keeps meaning the same thing if the modules change later; `{zone}` stands for
settings.TIME_ZONE. Going back sums each key's slots into one row first (the old keys are unique again)."""

import zoneinfo

from django.conf import settings
from django.db import migrations, models

SLOT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION handoff_count_slot() RETURNS smallint AS $$
DECLARE
  taken text := current_setting('handoff.count_slot', true);
BEGIN
  IF taken IS NOT NULL AND taken <> '' THEN
    RETURN taken::smallint;
  END IF;
  FOR candidate IN 0..31 LOOP
    IF pg_try_advisory_xact_lock(108465, candidate) THEN
      PERFORM set_config('handoff.count_slot', candidate::text, true);
      RETURN candidate;
    END IF;
  END LOOP;
  RETURN (pg_backend_pid() % 32)::smallint;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

TRIGGERS = r"""
CREATE OR REPLACE FUNCTION handoff_count_events() RETURNS trigger AS $$
BEGIN

INSERT INTO handoff_eventcount (day, kind, subgroup, campaign_id, user_id, value, amount, slot)
SELECT counted.*, (SELECT handoff_count_slot()) FROM (
SELECT (e.created_at AT TIME ZONE '{zone}')::date AS day,
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
) AS counted
ON CONFLICT (day, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
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



CREATE OR REPLACE FUNCTION handoff_lead_root(lead bigint, moved bigint[] DEFAULT '{}', parents bigint[] DEFAULT '{}')
RETURNS bigint AS $$
DECLARE
  current bigint := lead;
  parent bigint;
  position int;
BEGIN
  LOOP
    position := array_position(moved, current);
    IF position IS NULL THEN
      SELECT merged_into_id INTO parent FROM leads_lead WHERE id = current;
    ELSE
      parent := parents[position];
    END IF;
    IF parent IS NULL THEN
      RETURN current;
    END IF;
    current := parent;
  END LOOP;
END;
$$ LANGUAGE plpgsql STABLE;

CREATE OR REPLACE FUNCTION handoff_lead_family(root bigint) RETURNS bigint[] AS $$
  WITH RECURSIVE family(id) AS (
    SELECT root
    UNION ALL
    SELECT l.id FROM leads_lead l JOIN family f ON l.merged_into_id = f.id
  )
  SELECT array_agg(id) FROM family
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION leads_tally_insert() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_leadtally (campaign_id, owner_id, status, slot, leads)
SELECT campaign_id, owner_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM new_leads) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status, slot) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_tally_insert ON leads_lead;
CREATE TRIGGER leads_tally_insert AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_insert();

CREATE OR REPLACE FUNCTION leads_tally_update() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_leadtally (campaign_id, owner_id, status, slot, leads)
SELECT campaign_id, owner_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM new_leads UNION ALL SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status, slot) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM (
    SELECT moved.campaign_id, reached.bits, moved.delta
      FROM (SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE o.status <> 'merged' AND (n.status = 'merged' OR n.campaign_id <> o.campaign_id)
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.status <> 'merged' AND (o.status = 'merged' OR n.campaign_id <> o.campaign_id)) moved
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or(CASE
  WHEN e.kind = 'qualified' THEN 1
  WHEN e.to_status = 'handed_off' THEN 2
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' AND NOT e.data ? 'escalation' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END), 0) AS bits
         FROM leads_leadevent e WHERE e.lead_id = moved.id) reached
     WHERE reached.bits <> 0) AS changes
  JOIN (VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit) ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    WITH moved AS (
      SELECT o.id, o.merged_into_id AS old_parent, n.merged_into_id AS new_parent
        FROM old_leads o JOIN new_leads n ON n.id = o.id
       WHERE o.merged_into_id IS DISTINCT FROM n.merged_into_id OR o.campaign_id <> n.campaign_id
          OR (o.status = 'merged') <> (n.status = 'merged')),
    before AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(merged_into_id ORDER BY id) AS parents
                 FROM old_leads),
    roots AS (SELECT DISTINCT handoff_lead_root(x) AS root
                FROM moved CROSS JOIN LATERAL (VALUES (moved.id), (moved.old_parent), (moved.new_parent)) v(x)
               WHERE x IS NOT NULL),
    members AS (SELECT DISTINCT unnest(handoff_lead_family(root)) AS id FROM roots),
    mapped AS (SELECT m.id, 1 AS delta, handoff_lead_root(m.id) AS root FROM members m
               UNION ALL
               SELECT m.id, -1, handoff_lead_root(m.id, b.ids, b.parents) FROM members m CROSS JOIN before b),
    firsts AS (SELECT mp.root, mp.delta, MIN((e.created_at AT TIME ZONE '{zone}')::date) AS day
                 FROM mapped mp JOIN leads_leadevent e ON e.lead_id = mp.id AND e.kind = 'qualified'
                GROUP BY mp.root, mp.delta, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date)
    SELECT CASE WHEN f.delta < 0 THEN COALESCE(o.campaign_id, r.campaign_id) ELSE r.campaign_id END AS campaign_id,
           f.day, f.delta
      FROM firsts f
      JOIN leads_lead r ON r.id = f.root
      LEFT JOIN old_leads o ON o.id = f.root
     WHERE CASE WHEN f.delta < 0 THEN COALESCE(o.status, r.status) ELSE r.status END <> 'merged') AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (
    SELECT moved.campaign_id, moved.delta AS deals, moved.delta * d.value AS revenue
      FROM (SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.campaign_id <> o.campaign_id
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.campaign_id <> o.campaign_id) moved
      JOIN leads_deal d ON d.lead_id = moved.id AND d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_tally_update ON leads_lead;
CREATE TRIGGER leads_tally_update AFTER UPDATE ON leads_lead REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_update();

CREATE OR REPLACE FUNCTION leads_tally_delete() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_leadtally (campaign_id, owner_id, status, slot, leads)
SELECT campaign_id, owner_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status, slot) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_tally_delete ON leads_lead;
CREATE TRIGGER leads_tally_delete AFTER DELETE ON leads_lead REFERENCING OLD TABLE AS old_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_delete();

CREATE OR REPLACE FUNCTION leads_milestones_reached() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM (
    SELECT l.campaign_id, reached.bits & ~before.bits AS bits, 1 AS delta
      FROM (SELECT e.lead_id, bit_or(CASE
  WHEN e.kind = 'qualified' THEN 1
  WHEN e.to_status = 'handed_off' THEN 2
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' AND NOT e.data ? 'escalation' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END) AS bits
              FROM new_events e GROUP BY e.lead_id) reached
      JOIN leads_lead l ON l.id = reached.lead_id AND l.status <> 'merged'
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or(CASE
  WHEN o.kind = 'qualified' THEN 1
  WHEN o.to_status = 'handed_off' THEN 2
  WHEN o.from_status = 'handed_off' AND o.to_status = 'claimed' AND NOT o.data ? 'escalation' THEN 4
  WHEN o.to_status = 'returned' THEN 8
  WHEN o.kind = 'breach' THEN 16
  ELSE 0 END), 0) AS bits
         FROM leads_leadevent o
        WHERE o.lead_id = reached.lead_id AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)
     ) before
     WHERE reached.bits <> 0) AS changes
  JOIN (VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit) ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    SELECT r.campaign_id, c.day, c.delta
      FROM (SELECT handoff_lead_root(e.lead_id) AS root, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date AS month, MIN((e.created_at AT TIME ZONE '{zone}')::date) AS first FROM new_events e WHERE e.kind = 'qualified' GROUP BY 1, 2) q
     CROSS JOIN LATERAL (
       SELECT MIN((o.created_at AT TIME ZONE '{zone}')::date) AS first FROM leads_leadevent o
        WHERE o.lead_id = ANY(handoff_lead_family(q.root)) AND o.kind = 'qualified' AND date_trunc('month', o.created_at AT TIME ZONE '{zone}')::date = q.month
          AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)) before
      JOIN leads_lead r ON r.id = q.root AND r.status <> 'merged'
     CROSS JOIN LATERAL (VALUES (q.first, 1), (before.first, -1)) AS c(day, delta)
     WHERE (before.first IS NULL OR q.first < before.first) AND c.day IS NOT NULL) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_milestones_reached ON leads_leadevent;
CREATE TRIGGER leads_milestones_reached AFTER INSERT ON leads_leadevent REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION leads_milestones_reached();

CREATE OR REPLACE FUNCTION leads_revenue_insert() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (SELECT l.campaign_id, 1 AS deals, 1 * d.value AS revenue
  FROM new_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_revenue_insert ON leads_deal;
CREATE TRIGGER leads_revenue_insert AFTER INSERT ON leads_deal REFERENCING NEW TABLE AS new_deals
  FOR EACH STATEMENT EXECUTE FUNCTION leads_revenue_insert();

CREATE OR REPLACE FUNCTION leads_revenue_update() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (SELECT l.campaign_id, 1 AS deals, 1 * d.value AS revenue
  FROM new_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won' UNION ALL SELECT l.campaign_id, -1 AS deals, -1 * d.value AS revenue
  FROM old_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_revenue_update ON leads_deal;
CREATE TRIGGER leads_revenue_update AFTER UPDATE ON leads_deal REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals
  FOR EACH STATEMENT EXECUTE FUNCTION leads_revenue_update();

CREATE OR REPLACE FUNCTION leads_revenue_delete() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (SELECT l.campaign_id, -1 AS deals, -1 * d.value AS revenue
  FROM old_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_revenue_delete ON leads_deal;
CREATE TRIGGER leads_revenue_delete AFTER DELETE ON leads_deal REFERENCING OLD TABLE AS old_deals
  FOR EACH STATEMENT EXECUTE FUNCTION leads_revenue_delete();
"""

PREVIOUS_TRIGGERS = r"""
CREATE OR REPLACE FUNCTION handoff_count_events() RETURNS trigger AS $$
BEGIN

INSERT INTO handoff_eventcount (day, kind, subgroup, campaign_id, user_id, value, amount)

SELECT (e.created_at AT TIME ZONE '{zone}')::date AS day,
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

ON CONFLICT (day, kind, subgroup, campaign_id, user_id) DO UPDATE
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

CREATE OR REPLACE FUNCTION handoff_lead_root(lead bigint, moved bigint[] DEFAULT '{}', parents bigint[] DEFAULT '{}')
RETURNS bigint AS $$
DECLARE
  current bigint := lead;
  parent bigint;
  position int;
BEGIN
  LOOP
    position := array_position(moved, current);
    IF position IS NULL THEN
      SELECT merged_into_id INTO parent FROM leads_lead WHERE id = current;
    ELSE
      parent := parents[position];
    END IF;
    IF parent IS NULL THEN
      RETURN current;
    END IF;
    current := parent;
  END LOOP;
END;
$$ LANGUAGE plpgsql STABLE;

CREATE OR REPLACE FUNCTION handoff_lead_family(root bigint) RETURNS bigint[] AS $$
  WITH RECURSIVE family(id) AS (
    SELECT root
    UNION ALL
    SELECT l.id FROM leads_lead l JOIN family f ON l.merged_into_id = f.id
  )
  SELECT array_agg(id) FROM family
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION leads_tally_insert() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads)
SELECT campaign_id, owner_id, status, SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM new_leads) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_tally_insert ON leads_lead;
CREATE TRIGGER leads_tally_insert AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_insert();

CREATE OR REPLACE FUNCTION leads_tally_update() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads)
SELECT campaign_id, owner_id, status, SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM new_leads UNION ALL SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM (
    SELECT moved.campaign_id, reached.bits, moved.delta
      FROM (SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE o.status <> 'merged' AND (n.status = 'merged' OR n.campaign_id <> o.campaign_id)
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.status <> 'merged' AND (o.status = 'merged' OR n.campaign_id <> o.campaign_id)) moved
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or(CASE
  WHEN e.kind = 'qualified' THEN 1
  WHEN e.to_status = 'handed_off' THEN 2
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' AND NOT e.data ? 'escalation' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END), 0) AS bits
         FROM leads_leadevent e WHERE e.lead_id = moved.id) reached
     WHERE reached.bits <> 0) AS changes
  JOIN (VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit) ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    WITH moved AS (
      SELECT o.id, o.merged_into_id AS old_parent, n.merged_into_id AS new_parent
        FROM old_leads o JOIN new_leads n ON n.id = o.id
       WHERE o.merged_into_id IS DISTINCT FROM n.merged_into_id OR o.campaign_id <> n.campaign_id
          OR (o.status = 'merged') <> (n.status = 'merged')),
    before AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(merged_into_id ORDER BY id) AS parents
                 FROM old_leads),
    roots AS (SELECT DISTINCT handoff_lead_root(x) AS root
                FROM moved CROSS JOIN LATERAL (VALUES (moved.id), (moved.old_parent), (moved.new_parent)) v(x)
               WHERE x IS NOT NULL),
    members AS (SELECT DISTINCT unnest(handoff_lead_family(root)) AS id FROM roots),
    mapped AS (SELECT m.id, 1 AS delta, handoff_lead_root(m.id) AS root FROM members m
               UNION ALL
               SELECT m.id, -1, handoff_lead_root(m.id, b.ids, b.parents) FROM members m CROSS JOIN before b),
    firsts AS (SELECT mp.root, mp.delta, MIN((e.created_at AT TIME ZONE '{zone}')::date) AS day
                 FROM mapped mp JOIN leads_leadevent e ON e.lead_id = mp.id AND e.kind = 'qualified'
                GROUP BY mp.root, mp.delta, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date)
    SELECT CASE WHEN f.delta < 0 THEN COALESCE(o.campaign_id, r.campaign_id) ELSE r.campaign_id END AS campaign_id,
           f.day, f.delta
      FROM firsts f
      JOIN leads_lead r ON r.id = f.root
      LEFT JOIN old_leads o ON o.id = f.root
     WHERE CASE WHEN f.delta < 0 THEN COALESCE(o.status, r.status) ELSE r.status END <> 'merged') AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (
    SELECT moved.campaign_id, moved.delta AS deals, moved.delta * d.value AS revenue
      FROM (SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.campaign_id <> o.campaign_id
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.campaign_id <> o.campaign_id) moved
      JOIN leads_deal d ON d.lead_id = moved.id AND d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_tally_update ON leads_lead;
CREATE TRIGGER leads_tally_update AFTER UPDATE ON leads_lead REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_update();

CREATE OR REPLACE FUNCTION leads_tally_delete() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads)
SELECT campaign_id, owner_id, status, SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_tally_delete ON leads_lead;
CREATE TRIGGER leads_tally_delete AFTER DELETE ON leads_lead REFERENCING OLD TABLE AS old_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_tally_delete();

CREATE OR REPLACE FUNCTION leads_milestones_reached() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM (
    SELECT l.campaign_id, reached.bits & ~before.bits AS bits, 1 AS delta
      FROM (SELECT e.lead_id, bit_or(CASE
  WHEN e.kind = 'qualified' THEN 1
  WHEN e.to_status = 'handed_off' THEN 2
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' AND NOT e.data ? 'escalation' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END) AS bits
              FROM new_events e GROUP BY e.lead_id) reached
      JOIN leads_lead l ON l.id = reached.lead_id AND l.status <> 'merged'
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or(CASE
  WHEN o.kind = 'qualified' THEN 1
  WHEN o.to_status = 'handed_off' THEN 2
  WHEN o.from_status = 'handed_off' AND o.to_status = 'claimed' AND NOT o.data ? 'escalation' THEN 4
  WHEN o.to_status = 'returned' THEN 8
  WHEN o.kind = 'breach' THEN 16
  ELSE 0 END), 0) AS bits
         FROM leads_leadevent o
        WHERE o.lead_id = reached.lead_id AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)
     ) before
     WHERE reached.bits <> 0) AS changes
  JOIN (VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit) ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
;

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    SELECT r.campaign_id, c.day, c.delta
      FROM (SELECT handoff_lead_root(e.lead_id) AS root, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date AS month, MIN((e.created_at AT TIME ZONE '{zone}')::date) AS first FROM new_events e WHERE e.kind = 'qualified' GROUP BY 1, 2) q
     CROSS JOIN LATERAL (
       SELECT MIN((o.created_at AT TIME ZONE '{zone}')::date) AS first FROM leads_leadevent o
        WHERE o.lead_id = ANY(handoff_lead_family(q.root)) AND o.kind = 'qualified' AND date_trunc('month', o.created_at AT TIME ZONE '{zone}')::date = q.month
          AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)) before
      JOIN leads_lead r ON r.id = q.root AND r.status <> 'merged'
     CROSS JOIN LATERAL (VALUES (q.first, 1), (before.first, -1)) AS c(day, delta)
     WHERE (before.first IS NULL OR q.first < before.first) AND c.day IS NOT NULL) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_milestones_reached ON leads_leadevent;
CREATE TRIGGER leads_milestones_reached AFTER INSERT ON leads_leadevent REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION leads_milestones_reached();

CREATE OR REPLACE FUNCTION leads_revenue_insert() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (SELECT l.campaign_id, 1 AS deals, 1 * d.value AS revenue
  FROM new_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_revenue_insert ON leads_deal;
CREATE TRIGGER leads_revenue_insert AFTER INSERT ON leads_deal REFERENCING NEW TABLE AS new_deals
  FOR EACH STATEMENT EXECUTE FUNCTION leads_revenue_insert();

CREATE OR REPLACE FUNCTION leads_revenue_update() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (SELECT l.campaign_id, 1 AS deals, 1 * d.value AS revenue
  FROM new_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won' UNION ALL SELECT l.campaign_id, -1 AS deals, -1 * d.value AS revenue
  FROM old_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_revenue_update ON leads_deal;
CREATE TRIGGER leads_revenue_update AFTER UPDATE ON leads_deal REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals
  FOR EACH STATEMENT EXECUTE FUNCTION leads_revenue_update();

CREATE OR REPLACE FUNCTION leads_revenue_delete() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM (SELECT l.campaign_id, -1 AS deals, -1 * d.value AS revenue
  FROM old_deals d JOIN leads_lead l ON l.id = d.lead_id WHERE d.stage = 'won') AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_revenue_delete ON leads_deal;
CREATE TRIGGER leads_revenue_delete AFTER DELETE ON leads_deal REFERENCING OLD TABLE AS old_deals
  FOR EACH STATEMENT EXECUTE FUNCTION leads_revenue_delete();
"""

# Each key's slots summed into one row (slot 0), for going back to one row per key.
FOLD = """
CREATE TEMPORARY TABLE folded_counts ON COMMIT DROP AS
SELECT day, kind, subgroup, campaign_id, user_id, SUM(value) AS value, SUM(amount) AS amount
  FROM handoff_eventcount GROUP BY 1, 2, 3, 4, 5;
DELETE FROM handoff_eventcount;
INSERT INTO handoff_eventcount (day, kind, subgroup, campaign_id, user_id, value, amount, slot)
SELECT *, 0 FROM folded_counts;
CREATE TEMPORARY TABLE folded_tallies ON COMMIT DROP AS
SELECT campaign_id, owner_id, status, SUM(leads) AS leads FROM leads_leadtally GROUP BY 1, 2, 3;
DELETE FROM leads_leadtally;
INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads, slot) SELECT *, 0 FROM folded_tallies;
DROP FUNCTION IF EXISTS handoff_count_slot();
-- The rows just written have deferred foreign-key checks queued; run them now, or dropping `slot`
-- next in this transaction fails ("pending trigger events").
SET CONSTRAINTS ALL IMMEDIATE;
"""


def _zone() -> str:
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return settings.TIME_ZONE.replace("'", "''")


def install(apps, schema_editor):
    schema_editor.execute(SLOT_FUNCTION + TRIGGERS.replace("{zone}", _zone()), None)


def uninstall(apps, schema_editor):
    schema_editor.execute(PREVIOUS_TRIGGERS.replace("{zone}", _zone()) + FOLD, None)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("leads", "0026_appeal_events"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="eventcount", name="event_count_day_key"),
        migrations.RemoveConstraint(model_name="leadtally", name="lead_tally_key"),
        migrations.AddField(
            model_name="eventcount",
            name="slot",
            field=models.SmallIntegerField(
                db_default=0,
                default=0,
                help_text="Which writer's share of the count this row is (`leads.tally.COUNT_SLOT_FUNCTION`): "
                "read the sum.",
            ),
        ),
        migrations.AddField(
            model_name="leadtally",
            name="slot",
            field=models.SmallIntegerField(
                db_default=0,
                default=0,
                help_text="Which writer's share of the count this row is (`leads.tally.COUNT_SLOT_FUNCTION`): "
                "read the sum.",
            ),
        ),
        # Going back: the previous triggers, and each key's slots folded into one row while `slot` still exists.
        migrations.RunPython(migrations.RunPython.noop, uninstall),
        migrations.AddConstraint(
            model_name="eventcount",
            constraint=models.UniqueConstraint(
                fields=("day", "kind", "subgroup", "campaign", "user", "slot"),
                name="event_count_day_slot_key",
                nulls_distinct=False,
            ),
        ),
        migrations.AddConstraint(
            model_name="leadtally",
            constraint=models.UniqueConstraint(
                fields=("campaign", "owner", "status", "slot"), name="lead_tally_slot_key", nulls_distinct=False
            ),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
