"""People's actions, and a merged duplicate's MQLs to the survivor (issue 19).

- A lead and every lead merged into it are one family, counted once a month in the campaign of the live
  lead at its top: MQLs of a merged duplicate go to the survivor.
- A campaign's "accepted" milestone is a person's move from the queue to a rep, not an escalation's
  (whose assignment event says so from now on; older ones cannot be told apart and keep counting).

Installs the family functions and the two trigger functions that change, and counts the months and the
milestones again, in place (every row to zero, then added up: no row goes away). The SQL is copied from leads/tally.py as it was when this migration was written, so the
migration keeps meaning the same thing if the module changes later. `{zone}` stands for
settings.TIME_ZONE; the triggers themselves (0016's) call the functions unchanged."""

import importlib
import zoneinfo

from django.conf import settings
from django.db import migrations

FUNCTIONS = r"""
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
"""

RECOUNT = r"""
UPDATE leads_campaignmonthmqls SET leads = 0;

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    SELECT r.campaign_id, q.day, 1 AS delta
      FROM (SELECT CASE WHEN m.merged_into_id IS NULL THEN m.id ELSE handoff_lead_root(m.id) END AS root,
                   MIN((e.created_at AT TIME ZONE '{zone}')::date) AS day
              FROM leads_leadevent e JOIN leads_lead m ON m.id = e.lead_id
             WHERE e.kind = 'qualified' GROUP BY 1, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date) q
      JOIN leads_lead r ON r.id = q.root AND r.status <> 'merged') AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
;
UPDATE leads_campaignmilestone SET leads = 0;

INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM (
    SELECT l.campaign_id, reached.bits, 1 AS delta
      FROM (SELECT e.lead_id, bit_or(CASE
  WHEN e.kind = 'qualified' THEN 1
  WHEN e.to_status = 'handed_off' THEN 2
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' AND NOT e.data ? 'escalation' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END) AS bits
              FROM leads_leadevent e GROUP BY e.lead_id) reached
      JOIN leads_lead l ON l.id = reached.lead_id AND l.status <> 'merged'
     WHERE reached.bits <> 0) AS changes
  JOIN (VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit) ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
;
"""

# Back: the milestones as 0016 counted them (every move from the queue to a rep).
PREVIOUS_MILESTONES = r"""
UPDATE leads_campaignmilestone SET leads = 0;

INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM (
    SELECT l.campaign_id, reached.bits, 1 AS delta
      FROM (SELECT e.lead_id, bit_or(CASE
  WHEN e.kind = 'qualified' THEN 1
  WHEN e.to_status = 'handed_off' THEN 2
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END) AS bits
              FROM leads_leadevent e GROUP BY e.lead_id) reached
      JOIN leads_lead l ON l.id = reached.lead_id AND l.status <> 'merged'
     WHERE reached.bits <> 0) AS changes
  JOIN (VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit) ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
;
"""

DROP_FAMILY_FUNCTIONS = """
DROP FUNCTION IF EXISTS handoff_lead_family(bigint);
DROP FUNCTION IF EXISTS handoff_lead_root(bigint, bigint[], bigint[]);
"""

previous = importlib.import_module("leads.migrations.0018_campaign_mqls_per_day")


def _zone() -> str:
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return settings.TIME_ZONE.replace("'", "''")


def count_families(apps, schema_editor):
    schema_editor.execute((FUNCTIONS + RECOUNT).replace("{zone}", _zone()))


def count_leads(apps, schema_editor):
    """Back to 0018's functions (a merged duplicate's MQLs dropped), the months and milestones counted again."""
    zeros = "UPDATE leads_campaignmonthmqls SET leads = 0;"
    back = "".join([previous.FUNCTIONS, zeros, previous.RECOUNT, ";", PREVIOUS_MILESTONES])
    schema_editor.execute((back + DROP_FAMILY_FUNCTIONS).replace("{zone}", _zone()))


class Migration(migrations.Migration):
    dependencies = [("leads", "0023_lead_country")]

    operations = [migrations.RunPython(count_families, count_leads)]
