import importlib
import zoneinfo

from django.conf import settings
from django.db import migrations, models

# The two trigger functions whose MQL months change, copied from leads/tally.py as it was when this
# migration was written, so the migration keeps meaning the same thing if the module changes later.
# `{zone}` stands for settings.TIME_ZONE. The triggers themselves (0016's) call them unchanged.
FUNCTIONS = """
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

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    SELECT moved.campaign_id, q.day, moved.delta
      FROM (SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE o.status <> 'merged' AND (n.status = 'merged' OR n.campaign_id <> o.campaign_id)
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.status <> 'merged' AND (o.status = 'merged' OR n.campaign_id <> o.campaign_id)) moved
     CROSS JOIN LATERAL (
       SELECT MIN((e.created_at AT TIME ZONE '{zone}')::date) AS day FROM leads_leadevent e WHERE e.lead_id = moved.id AND e.kind = 'qualified'
        GROUP BY date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date) q) AS changes
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

INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    SELECT l.campaign_id, c.day, c.delta
      FROM (SELECT e.lead_id, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date AS month, MIN((e.created_at AT TIME ZONE '{zone}')::date) AS first FROM new_events e WHERE e.kind = 'qualified' GROUP BY 1, 2) q
     CROSS JOIN LATERAL (
       SELECT MIN((o.created_at AT TIME ZONE '{zone}')::date) AS first FROM leads_leadevent o
        WHERE o.lead_id = q.lead_id AND o.kind = 'qualified' AND date_trunc('month', o.created_at AT TIME ZONE '{zone}')::date = q.month
          AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)) before
      JOIN leads_lead l ON l.id = q.lead_id AND l.status <> 'merged'
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

# The months' MQLs counted again, per day: each live lead on the first day of each month (site's zone)
# it was qualified in.
RECOUNT = """
INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM (
    SELECT l.campaign_id, q.day, 1 AS delta
      FROM (SELECT e.lead_id, MIN((e.created_at AT TIME ZONE '{zone}')::date) AS day FROM leads_leadevent e
             WHERE e.kind = 'qualified' GROUP BY e.lead_id, date_trunc('month', e.created_at AT TIME ZONE '{zone}')::date) q
      JOIN leads_lead l ON l.id = q.lead_id AND l.status <> 'merged') AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
"""

months = importlib.import_module("leads.migrations.0016_campaign_months_revenue")


def _zone() -> str:
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return settings.TIME_ZONE.replace("'", "''")


def count_per_day(apps, schema_editor):
    schema_editor.execute((FUNCTIONS + RECOUNT).replace("{zone}", _zone()))


def forget_days(apps, schema_editor):
    schema_editor.execute("DELETE FROM leads_campaignmonthmqls")


def count_per_month(apps, schema_editor):
    """Back to 0016: its triggers, and the months counted again (0016's backfill without the revenue)."""
    schema_editor.execute(
        (months.TRIGGERS + months.BACKFILL.split("INSERT INTO leads_campaignrevenue")[0]).replace("{zone}", _zone())
    )


class Migration(migrations.Migration):
    """MQLs of a month kept per day (the first day each lead was qualified in the month), so any run of
    days, the dashboard's periods included, reads its MQLs from here with the months' definition."""

    dependencies = [("leads", "0017_lead_next_step")]

    operations = [
        migrations.RunSQL("DELETE FROM leads_campaignmonthmqls", migrations.RunSQL.noop),
        migrations.RunPython(migrations.RunPython.noop, count_per_month),
        migrations.RemoveConstraint(model_name="campaignmonthmqls", name="campaign_month_mqls_key"),
        migrations.RemoveField(model_name="campaignmonthmqls", name="month"),
        migrations.AddField(
            model_name="campaignmonthmqls",
            name="day",
            field=models.DateField(
                help_text="The day the leads were first qualified in their month (site's time zone)."
            ),
        ),
        migrations.AddConstraint(
            model_name="campaignmonthmqls",
            constraint=models.UniqueConstraint(fields=("campaign", "day"), name="campaign_mqls_day_key"),
        ),
        migrations.AddIndex(
            model_name="campaignmonthmqls", index=models.Index(fields=["day"], name="campaign_mqls_day_idx")
        ),
        migrations.RunPython(count_per_day, forget_days),
    ]
