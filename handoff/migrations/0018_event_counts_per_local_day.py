import importlib
import zoneinfo

from django.conf import settings
from django.db import migrations, models

# The trigger's SQL is copied from handoff/counts.py as it was when this migration was written, so the
# migration keeps meaning the same thing if the module changes later. `{events}` is the relation
# counted, `{zone}` settings.TIME_ZONE: events are counted per day of the site's zone.
COUNTS_SELECT = """
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
  FROM {events} e
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
"""

COUNTS_UPSERT = """
INSERT INTO handoff_eventcount (day, kind, subgroup, campaign_id, user_id, value, amount)
{select}
ON CONFLICT (day, kind, subgroup, campaign_id, user_id) DO UPDATE
   SET value = handoff_eventcount.value + EXCLUDED.value,
       amount = handoff_eventcount.amount + EXCLUDED.amount
"""

TRIGGER = """
CREATE OR REPLACE FUNCTION handoff_count_events() RETURNS trigger AS $$
BEGIN
{upsert};
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_events ON leads_leadevent;
CREATE TRIGGER handoff_count_events
  AFTER INSERT ON leads_leadevent
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_events();
"""

# The hourly counts go (with the hourly trigger) before the table changes shape; going back, 0010's
# trigger and backfill count the timeline again per UTC hour.
DROP_HOURLY = """
DROP TRIGGER IF EXISTS handoff_count_events ON leads_leadevent;
DROP FUNCTION IF EXISTS handoff_count_events();
DELETE FROM handoff_eventcount;
"""
hourly = importlib.import_module("handoff.migrations.0010_event_counts_trigger")


def _zone() -> str:
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return settings.TIME_ZONE.replace("'", "''")


def count_per_day(apps, schema_editor):
    """The daily trigger for the site's zone, and the timeline that exists counted per day."""
    select = COUNTS_SELECT.replace("{zone}", _zone())
    schema_editor.execute(TRIGGER.format(upsert=COUNTS_UPSERT.format(select=select.format(events="new_events"))))
    schema_editor.execute(COUNTS_UPSERT.format(select=select.format(events="leads_leadevent")))


def drop_daily(apps, schema_editor):
    schema_editor.execute(DROP_HOURLY)


class Migration(migrations.Migration):
    """Events counted per day of the site's zone instead of per UTC hour: a month of the dashboard
    sums a few thousand rows per kind instead of tens of thousands."""

    dependencies = [("handoff", "0017_local_time_function")]

    operations = [
        migrations.RunSQL(DROP_HOURLY, hourly.COUNT_EVENTS_TRIGGER + hourly.BACKFILL),
        migrations.RemoveConstraint(model_name="eventcount", name="event_count_key"),
        migrations.RemoveIndex(model_name="eventcount", name="event_count_kind_hour_idx"),
        migrations.RemoveField(model_name="eventcount", name="hour"),
        migrations.AddField(
            model_name="eventcount",
            name="day",
            field=models.DateField(help_text="The day the events happened on, in the site's time zone (TIME_ZONE)."),
        ),
        migrations.AddConstraint(
            model_name="eventcount",
            constraint=models.UniqueConstraint(
                fields=("day", "kind", "subgroup", "campaign", "user"),
                name="event_count_day_key",
                nulls_distinct=False,
            ),
        ),
        migrations.AddIndex(
            model_name="eventcount",
            index=models.Index(fields=["kind", "day"], name="event_count_kind_day_idx"),
        ),
        migrations.RunPython(count_per_day, drop_daily),
    ]
