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
"""

# Count the leads that already exist.
BACKFILL = """
INSERT INTO leads_leadtally (campaign_id, owner_id, status, leads)
SELECT campaign_id, owner_id, status, SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM leads_lead) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
"""

DROP_TRIGGERS = """DROP TRIGGER IF EXISTS leads_tally_insert ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_insert();
DROP TRIGGER IF EXISTS leads_tally_update ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_update();
DROP TRIGGER IF EXISTS leads_tally_delete ON leads_lead; DROP FUNCTION IF EXISTS leads_tally_delete();
"""


class Migration(migrations.Migration):
    """Installs the triggers that keep the lead tallies current (after 0010 has made their unique index);
    the queue-by-score index."""

    dependencies = [("leads", "0010_lead_tally")]

    operations = [
        migrations.RunSQL(TALLY_TRIGGERS + BACKFILL, DROP_TRIGGERS),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("status", "handed_off")), fields=["-score"], name="lead_waiting_score_idx"
            ),
        ),
    ]
