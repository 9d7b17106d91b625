"""Leads per campaign and status, without the owner (`CampaignTally`, issue 25): the campaign list read a
campaign's counts from `LeadTally`, a row per owner too (~1,600 per campaign with 400 reps at a million
leads), three times a campaign; this read model has a few rows per campaign. Three triggers of their own on
the leads keep it (the tallies' triggers are left as they are); it is filled from `LeadTally`'s sums. The
SQL is copied from leads/tally.py as it was when this migration was written, so the migration keeps meaning
the same thing if the module changes later. Going back drops the triggers before the table goes."""

import django.db.models.deletion
from django.db import migrations, models

TRIGGERS = r"""
CREATE OR REPLACE FUNCTION leads_campaign_tally_insert() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaigntally (campaign_id, status, slot, leads)
SELECT campaign_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM new_leads) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, status, slot) DO UPDATE SET leads = leads_campaigntally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_campaign_tally_insert ON leads_lead;
CREATE TRIGGER leads_campaign_tally_insert AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_campaign_tally_insert();

CREATE OR REPLACE FUNCTION leads_campaign_tally_update() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaigntally (campaign_id, status, slot, leads)
SELECT campaign_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, 1 AS delta FROM new_leads UNION ALL SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, status, slot) DO UPDATE SET leads = leads_campaigntally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_campaign_tally_update ON leads_lead;
CREATE TRIGGER leads_campaign_tally_update AFTER UPDATE ON leads_lead REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_campaign_tally_update();

CREATE OR REPLACE FUNCTION leads_campaign_tally_delete() RETURNS trigger AS $$
BEGIN

INSERT INTO leads_campaigntally (campaign_id, status, slot, leads)
SELECT campaign_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM (SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, status, slot) DO UPDATE SET leads = leads_campaigntally.leads + EXCLUDED.leads
;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS leads_campaign_tally_delete ON leads_lead;
CREATE TRIGGER leads_campaign_tally_delete AFTER DELETE ON leads_lead REFERENCING OLD TABLE AS old_leads
  FOR EACH STATEMENT EXECUTE FUNCTION leads_campaign_tally_delete();
"""

FILL = """
INSERT INTO leads_campaigntally (campaign_id, status, slot, leads)
SELECT campaign_id, status, 0, SUM(leads) FROM leads_leadtally GROUP BY 1, 2 HAVING SUM(leads) <> 0 ORDER BY 1, 2;
"""

DROP = """
DROP TRIGGER IF EXISTS leads_campaign_tally_insert ON leads_lead; DROP FUNCTION IF EXISTS leads_campaign_tally_insert();
DROP TRIGGER IF EXISTS leads_campaign_tally_update ON leads_lead; DROP FUNCTION IF EXISTS leads_campaign_tally_update();
DROP TRIGGER IF EXISTS leads_campaign_tally_delete ON leads_lead; DROP FUNCTION IF EXISTS leads_campaign_tally_delete();
"""


def install(apps, schema_editor):
    # Lead writes wait while the triggers come and the table is filled: none is counted twice or missed.
    schema_editor.execute("LOCK TABLE leads_lead IN SHARE MODE", None)
    schema_editor.execute(TRIGGERS + FILL, None)


def uninstall(apps, schema_editor):
    schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("leads", "0030_lead_search_words"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("mql", "MQL"),
                            ("handed_off", "Waiting in queue"),
                            ("claimed", "Claimed"),
                            ("contacted", "Contacted"),
                            ("on_hold", "On hold"),
                            ("converted", "Converted"),
                            ("returned", "Returned to marketing"),
                            ("disqualified", "Disqualified"),
                            ("merged", "Merged into another lead"),
                        ],
                        max_length=20,
                    ),
                ),
                ("leads", models.BigIntegerField(default=0)),
                (
                    "slot",
                    models.SmallIntegerField(
                        db_default=0,
                        default=0,
                        help_text="Which writer's share of the count this row is (`leads.tally.COUNT_SLOT_FUNCTION`): "
                        "read the sum.",
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="campaigns.campaign"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("campaign", "status", "slot"), name="campaign_tally_slot_key")
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
