from django.db import migrations

# The outbox is written by the database, in the transaction of the change, whoever makes it: the lead
# services (`leads.transitions.transition`, the deal moves) and the SLA sweep's set-based SQL alike,
# so no event is lost when the broker or a worker is down, and the apps below never import this one.
# Statement-level triggers with a transition table: a sweep batch that inserts 1,000 breach events runs
# the trigger once, one `INSERT … SELECT`. With no enabled endpoint or channel wanting anything, the
# trigger reads two small tables and writes nothing.
FORWARD = """
CREATE FUNCTION integrations_wanted_events() RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT array_agg(DISTINCT wanted) FROM (
        SELECT unnest(events) FROM integrations_endpoint WHERE enabled
        UNION ALL
        SELECT unnest(events) FROM integrations_channel WHERE enabled
    ) AS subscribed(wanted)
$$;

-- The event type of a timeline event (integrations.models.EVENT_OF_TIMELINE_KIND, and a deal's stage
-- change by the stage it went to); NULL for kinds no one can subscribe to.
CREATE FUNCTION integrations_event_type(kind text, data jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind
        WHEN 'captured' THEN 'lead.captured'
        WHEN 'qualified' THEN 'lead.qualified'
        WHEN 'handed_off' THEN 'lead.handed_off'
        WHEN 'claimed' THEN 'lead.claimed'
        WHEN 'assigned' THEN 'lead.assigned'
        WHEN 'contacted' THEN 'lead.contacted'
        WHEN 'returned' THEN 'lead.returned'
        WHEN 'converted' THEN 'lead.converted'
        WHEN 'warning' THEN 'deadline.warned'
        WHEN 'breach' THEN 'deadline.breached'
        WHEN 'deal_stage' THEN CASE data->>'to'
            WHEN 'won' THEN 'deal.won' WHEN 'lost' THEN 'deal.lost' ELSE 'deal.stage_changed' END
    END
$$;

CREATE FUNCTION integrations_outbox_from_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted text[] := integrations_wanted_events();
BEGIN
    IF wanted IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO integrations_outboxevent (event_type, lead_event_id, policy_id, occurred_at)
    SELECT typed.event_type, event.id, NULL, event.created_at
      FROM new_events AS event
     CROSS JOIN LATERAL (SELECT integrations_event_type(event.kind, event.data) AS event_type) AS typed
     WHERE typed.event_type = ANY (wanted)
     ORDER BY event.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER integrations_outbox_from_timeline
    AFTER INSERT ON leads_leadevent REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION integrations_outbox_from_timeline();

CREATE FUNCTION integrations_outbox_from_policy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT 'policy.started' = ANY (COALESCE(integrations_wanted_events(), '{}')) THEN
        RETURN NULL;
    END IF;
    INSERT INTO integrations_outboxevent (event_type, lead_event_id, policy_id, occurred_at)
    SELECT 'policy.started', NULL, policy.id, policy.created_at FROM new_policies AS policy ORDER BY policy.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER integrations_outbox_from_policy
    AFTER INSERT ON handoff_slapolicy REFERENCING NEW TABLE AS new_policies
    FOR EACH STATEMENT EXECUTE FUNCTION integrations_outbox_from_policy();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS integrations_outbox_from_policy ON handoff_slapolicy;
DROP FUNCTION IF EXISTS integrations_outbox_from_policy();
DROP TRIGGER IF EXISTS integrations_outbox_from_timeline ON leads_leadevent;
DROP FUNCTION IF EXISTS integrations_outbox_from_timeline();
DROP FUNCTION IF EXISTS integrations_event_type(text, jsonb);
DROP FUNCTION IF EXISTS integrations_wanted_events();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("leads", "0023_lead_country"),
        ("sla", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
