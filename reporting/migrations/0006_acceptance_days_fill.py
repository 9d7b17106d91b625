"""`AcceptanceDay` filled from the hand-offs and their claim clocks as they stand and kept equal to them by
triggers on both tables (issue 25). The SQL is copied from reporting/acceptance.py as it was when this
migration was written, so the migration keeps meaning the same thing if the module changes later;
`{zone}` stands for settings.TIME_ZONE (`rebuild_counts` installs the triggers again after a change of zone)."""

import zoneinfo

from django.conf import settings
from django.db import migrations

FILL_AND_TRIGGER = r"""
DELETE FROM reporting_acceptanceday;

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       1 * COUNT(*) AS handed_off,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM handoff_handoff h JOIN handoff_deadline d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;

CREATE OR REPLACE FUNCTION handoff_count_acceptance_handoffs() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       1 * COUNT(*) AS handed_off,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM new_rows h JOIN handoff_deadline d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       -1 * COUNT(*) AS handed_off,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       -1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.source IS DISTINCT FROM n.source OR o.handed_off_at IS DISTINCT FROM n.handed_off_at
    OR o.campaign_id IS DISTINCT FROM n.campaign_id
    OR (o.outcome = 'returned') IS DISTINCT FROM (n.outcome = 'returned')) h JOIN handoff_deadline d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
 UNION ALL
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       1 * COUNT(*) AS handed_off,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.source IS DISTINCT FROM n.source OR o.handed_off_at IS DISTINCT FROM n.handed_off_at
    OR o.campaign_id IS DISTINCT FROM n.campaign_id
    OR (o.outcome = 'returned') IS DISTINCT FROM (n.outcome = 'returned')) h JOIN handoff_deadline d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;
  ELSE

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       -1 * COUNT(*) AS handed_off,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       -1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM old_rows h JOIN handoff_deadline d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_acceptance_handoffs_insert ON handoff_handoff;
CREATE TRIGGER handoff_count_acceptance_handoffs_insert
  AFTER INSERT ON handoff_handoff REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_acceptance_handoffs();
DROP TRIGGER IF EXISTS handoff_count_acceptance_handoffs_update ON handoff_handoff;
CREATE TRIGGER handoff_count_acceptance_handoffs_update
  AFTER UPDATE ON handoff_handoff REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_acceptance_handoffs();
DROP TRIGGER IF EXISTS handoff_count_acceptance_handoffs_delete ON handoff_handoff;
CREATE TRIGGER handoff_count_acceptance_handoffs_delete
  AFTER DELETE ON handoff_handoff REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_acceptance_handoffs();

CREATE OR REPLACE FUNCTION handoff_count_acceptance_deadlines() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       1 * COUNT(*) AS handed_off,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM handoff_handoff h JOIN new_rows d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;
  ELSIF TG_OP = 'UPDATE' THEN

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       -1 * COUNT(*) AS handed_off,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       -1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM handoff_handoff h JOIN (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.kind = 'claim' OR n.kind = 'claim')
   AND (o.kind IS DISTINCT FROM n.kind OR o.handoff_id IS DISTINCT FROM n.handoff_id
        OR (o.met_at IS NULL) IS DISTINCT FROM (n.met_at IS NULL)
        OR (o.cancelled_at IS NULL) IS DISTINCT FROM (n.cancelled_at IS NULL)
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation)) d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
 UNION ALL
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       1 * COUNT(*) AS handed_off,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM handoff_handoff h JOIN (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.kind = 'claim' OR n.kind = 'claim')
   AND (o.kind IS DISTINCT FROM n.kind OR o.handoff_id IS DISTINCT FROM n.handoff_id
        OR (o.met_at IS NULL) IS DISTINCT FROM (n.met_at IS NULL)
        OR (o.cancelled_at IS NULL) IS DISTINCT FROM (n.cancelled_at IS NULL)
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation)) d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;
  ELSE

INSERT INTO reporting_acceptanceday (day, campaign_id, handed_off, closed, claimed, returned, by_escalation, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, campaign_id, SUM(handed_off), SUM(closed), SUM(claimed), SUM(returned), SUM(by_escalation)
  FROM (
SELECT (h.handed_off_at AT TIME ZONE '{zone}')::date AS day,
       h.campaign_id,
       -1 * COUNT(*) AS handed_off,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL OR d.cancelled_at IS NOT NULL) AS closed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation) AS claimed,
       -1 * COUNT(*) FILTER (WHERE d.met_at IS NOT NULL AND NOT d.met_by_escalation
                                   AND h.outcome = 'returned') AS returned,
       -1 * COUNT(*) FILTER (WHERE d.met_by_escalation) AS by_escalation
  FROM handoff_handoff h JOIN old_rows d ON d.handoff_id = h.id AND d.kind = 'claim'
 WHERE h.source = 'hand_off'
 GROUP BY 1, 2
) c
 GROUP BY 1, 2
HAVING SUM(handed_off) <> 0 OR SUM(closed) <> 0 OR SUM(claimed) <> 0 OR SUM(returned) <> 0 OR SUM(by_escalation) <> 0
 ORDER BY 1, 2) AS summed
ON CONFLICT (day, campaign_id, slot) DO UPDATE SET handed_off = reporting_acceptanceday.handed_off + EXCLUDED.handed_off, closed = reporting_acceptanceday.closed + EXCLUDED.closed, claimed = reporting_acceptanceday.claimed + EXCLUDED.claimed, returned = reporting_acceptanceday.returned + EXCLUDED.returned, by_escalation = reporting_acceptanceday.by_escalation + EXCLUDED.by_escalation;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_acceptance_deadlines_insert ON handoff_deadline;
CREATE TRIGGER handoff_count_acceptance_deadlines_insert
  AFTER INSERT ON handoff_deadline REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_acceptance_deadlines();
DROP TRIGGER IF EXISTS handoff_count_acceptance_deadlines_update ON handoff_deadline;
CREATE TRIGGER handoff_count_acceptance_deadlines_update
  AFTER UPDATE ON handoff_deadline REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_acceptance_deadlines();
DROP TRIGGER IF EXISTS handoff_count_acceptance_deadlines_delete ON handoff_deadline;
CREATE TRIGGER handoff_count_acceptance_deadlines_delete
  AFTER DELETE ON handoff_deadline REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_acceptance_deadlines();

"""

DROP_TRIGGER = r"""
DROP TRIGGER IF EXISTS handoff_count_acceptance_handoffs_insert ON handoff_handoff;
DROP TRIGGER IF EXISTS handoff_count_acceptance_handoffs_update ON handoff_handoff;
DROP TRIGGER IF EXISTS handoff_count_acceptance_handoffs_delete ON handoff_handoff;
DROP FUNCTION IF EXISTS handoff_count_acceptance_handoffs();
DROP TRIGGER IF EXISTS handoff_count_acceptance_deadlines_insert ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_count_acceptance_deadlines_update ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_count_acceptance_deadlines_delete ON handoff_deadline;
DROP FUNCTION IF EXISTS handoff_count_acceptance_deadlines();
"""


def fill_and_trigger(apps, schema_editor):
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    schema_editor.execute(FILL_AND_TRIGGER.replace("{zone}", settings.TIME_ZONE.replace("'", "''")))


def drop_trigger(apps, schema_editor):
    schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    # The count slots' function its upserts call (leads 0027).
    dependencies = [("reporting", "0005_acceptance_days"), ("leads", "0027_count_slots")]

    operations = [migrations.RunPython(fill_and_trigger, drop_trigger)]
