from django.db import migrations

# The timeline is evidence in the marketing-vs-sales argument: the database itself refuses to edit
# or delete an event, whatever code (or admin, or shell) tries.
FORWARD = """
CREATE FUNCTION leads_leadevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'lead timeline events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER leads_leadevent_append_only
    BEFORE UPDATE OR DELETE ON leads_leadevent
    FOR EACH ROW EXECUTE FUNCTION leads_leadevent_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS leads_leadevent_append_only ON leads_leadevent;
DROP FUNCTION IF EXISTS leads_leadevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
