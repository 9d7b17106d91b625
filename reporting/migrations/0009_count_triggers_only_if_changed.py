"""The acceptance's and the escalations' triggers on the deadlines and steps run their counting statement only
when the statement changed a row they count (issue 25, found by the storm drill): planned once per session
for any number of rows, the join of a whole table to the changed rows cost the sweep's breaches (which
change nothing these read models count) 43-50 s for a storm of 100,000 deadlines against 16-23 s without.
The SQL is copied from reporting/acceptance.py and reporting/escalations.py as they were when this
migration was written; `{zone}` stands for settings.TIME_ZONE. Going back leaves them: they count exactly what 0006's and 0008's count."""

import zoneinfo

from django.conf import settings
from django.db import migrations

TRIGGERS = r"""
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
IF EXISTS (SELECT 1 FROM (SELECT * FROM new_rows WHERE kind = 'claim') AS changed) THEN

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
  END IF;
  ELSIF TG_OP = 'UPDATE' THEN
IF EXISTS (SELECT 1 FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.kind = 'claim' OR n.kind = 'claim')
   AND (o.kind IS DISTINCT FROM n.kind OR o.handoff_id IS DISTINCT FROM n.handoff_id
        OR (o.met_at IS NULL) IS DISTINCT FROM (n.met_at IS NULL)
        OR (o.cancelled_at IS NULL) IS DISTINCT FROM (n.cancelled_at IS NULL)
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation)) AS changed) THEN

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
  END IF;
  ELSE
IF EXISTS (SELECT 1 FROM (SELECT * FROM old_rows WHERE kind = 'claim') AS changed) THEN

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

CREATE OR REPLACE FUNCTION handoff_count_escalation_steps() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
IF EXISTS (SELECT 1 FROM (SELECT * FROM new_rows WHERE done_at IS NOT NULL) AS changed) THEN

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM new_rows e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  END IF;
  ELSIF TG_OP = 'UPDATE' THEN
IF EXISTS (SELECT 1 FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.done_at IS NULL) IS DISTINCT FROM (n.done_at IS NULL) OR o.deadline_id IS DISTINCT FROM n.deadline_id) AS changed) THEN

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       -1 * COUNT(*) AS escalations
  FROM (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.done_at IS NULL) IS DISTINCT FROM (n.done_at IS NULL) OR o.deadline_id IS DISTINCT FROM n.deadline_id) e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
 UNION ALL
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE (o.done_at IS NULL) IS DISTINCT FROM (n.done_at IS NULL) OR o.deadline_id IS DISTINCT FROM n.deadline_id) e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  END IF;
  ELSE

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       -1 * COUNT(*) AS escalations
  FROM old_rows e JOIN handoff_deadline d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_escalation_steps_insert ON handoff_escalation;
CREATE TRIGGER handoff_count_escalation_steps_insert
  AFTER INSERT ON handoff_escalation REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_steps();
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_update ON handoff_escalation;
CREATE TRIGGER handoff_count_escalation_steps_update
  AFTER UPDATE ON handoff_escalation REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_steps();
DROP TRIGGER IF EXISTS handoff_count_escalation_steps_delete ON handoff_escalation;
CREATE TRIGGER handoff_count_escalation_steps_delete
  AFTER DELETE ON handoff_escalation REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_steps();

CREATE OR REPLACE FUNCTION handoff_count_escalation_deadlines() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
NULL;
  ELSIF TG_OP = 'UPDATE' THEN
IF EXISTS (SELECT 1 FROM (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.breached_at IS NOT NULL AND n.breached_at IS NOT NULL
   AND (o.due_at IS DISTINCT FROM n.due_at OR o.kind IS DISTINCT FROM n.kind
        OR o.owner_id IS DISTINCT FROM n.owner_id OR o.campaign_id IS DISTINCT FROM n.campaign_id)) AS changed) THEN

INSERT INTO reporting_escalationday (day, kind, owner_id, campaign_id, escalations, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, owner_id, campaign_id, SUM(escalations)
  FROM (
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       -1 * COUNT(*) AS escalations
  FROM handoff_escalation e JOIN (SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.breached_at IS NOT NULL AND n.breached_at IS NOT NULL
   AND (o.due_at IS DISTINCT FROM n.due_at OR o.kind IS DISTINCT FROM n.kind
        OR o.owner_id IS DISTINCT FROM n.owner_id OR o.campaign_id IS DISTINCT FROM n.campaign_id)) d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
 UNION ALL
SELECT (d.due_at AT TIME ZONE '{zone}')::date AS day, d.kind, d.owner_id, d.campaign_id,
       1 * COUNT(*) AS escalations
  FROM handoff_escalation e JOIN (SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE o.breached_at IS NOT NULL AND n.breached_at IS NOT NULL
   AND (o.due_at IS DISTINCT FROM n.due_at OR o.kind IS DISTINCT FROM n.kind
        OR o.owner_id IS DISTINCT FROM n.owner_id OR o.campaign_id IS DISTINCT FROM n.campaign_id)) d ON d.id = e.deadline_id
 WHERE e.done_at IS NOT NULL AND d.breached_at IS NOT NULL AND d.kind IN ('claim', 'first_contact')
 GROUP BY 1, 2, 3, 4
) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(escalations) <> 0
 ORDER BY 1, 2, 3, 4) AS summed
ON CONFLICT (day, kind, owner_id, campaign_id, slot)
DO UPDATE SET escalations = reporting_escalationday.escalations + EXCLUDED.escalations;
  END IF;
  ELSE
NULL;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_insert ON handoff_deadline;
CREATE TRIGGER handoff_count_escalation_deadlines_insert
  AFTER INSERT ON handoff_deadline REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_deadlines();
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_update ON handoff_deadline;
CREATE TRIGGER handoff_count_escalation_deadlines_update
  AFTER UPDATE ON handoff_deadline REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_deadlines();
DROP TRIGGER IF EXISTS handoff_count_escalation_deadlines_delete ON handoff_deadline;
CREATE TRIGGER handoff_count_escalation_deadlines_delete
  AFTER DELETE ON handoff_deadline REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_escalation_deadlines();
"""


def install(apps, schema_editor):
    zoneinfo.ZoneInfo(settings.TIME_ZONE)
    schema_editor.execute(TRIGGERS.replace("{zone}", settings.TIME_ZONE.replace("'", "''")))


class Migration(migrations.Migration):
    dependencies = [("reporting", "0008_escalation_days_fill")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
