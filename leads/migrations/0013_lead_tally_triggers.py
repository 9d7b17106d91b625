from django.db import migrations, models

# The triggers' SQL is copied from leads/tally.py as it was when this migration was written, so the
# migration keeps meaning the same thing if the module changes later.
TALLY_TRIGGERS = """
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
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' THEN 4
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
  WHEN e.from_status = 'handed_off' AND e.to_status = 'claimed' THEN 4
  WHEN e.to_status = 'returned' THEN 8
  WHEN e.kind = 'breach' THEN 16
  ELSE 0 END) AS bits
              FROM new_events e GROUP BY e.lead_id) reached
      JOIN leads_lead l ON l.id = reached.lead_id AND l.status <> 'merged'
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or(CASE
  WHEN o.kind = 'qualified' THEN 1
  WHEN o.to_status = 'handed_off' THEN 2
  WHEN o.from_status = 'handed_off' AND o.to_status = 'claimed' THEN 4
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
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_milestones_reached ON leads_leadevent;
CREATE TRIGGER leads_milestones_reached AFTER INSERT ON leads_leadevent REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION leads_milestones_reached();
"""

# Count the leads and the timeline that already exist.
BACKFILL = """
INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads)
SELECT campaign_id, owner_id, status, SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM leads_lead) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
;

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
"""

DROP_TRIGGERS = """DROP TRIGGER IF EXISTS leads_tally_insert ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_insert();
DROP TRIGGER IF EXISTS leads_tally_update ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_update();
DROP TRIGGER IF EXISTS leads_tally_delete ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_delete();
DROP TRIGGER IF EXISTS leads_milestones_reached ON leads_leadevent; DROP FUNCTION IF EXISTS leads_milestones_reached();
"""


class Migration(migrations.Migration):
    """Installs the triggers that keep the lead tallies and the campaigns' milestones current (after
    0010 has made their unique indexes); the queue-by-score index."""

    dependencies = [("leads", "0012_lead_tally")]

    operations = [
        migrations.RunSQL(TALLY_TRIGGERS + BACKFILL, DROP_TRIGGERS),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("status", "handed_off")), fields=["-score"], name="lead_waiting_score_idx"
            ),
        ),
    ]
