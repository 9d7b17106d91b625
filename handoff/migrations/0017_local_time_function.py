from django.db import migrations

# A moment as a user reads it in their own zone: "2026-01-15 21:00 JST", exactly what
# `f"{timezone.localtime(moment, zone):%Y-%m-%d %H:%M %Z}"` gives (checked for every zone this machine
# knows). PostgreSQL names a zone's abbreviation only in the session's zone, so the function sets it
# for the call; the SET clause makes PostgreSQL restore the caller's zone when the call returns. The
# SQL-composed breach notices use it (notifications.services).
LOCAL_TIME_FUNCTION = """
CREATE OR REPLACE FUNCTION handoff_local_time(moment timestamptz, zone text) RETURNS text AS $$
BEGIN
  PERFORM set_config('TimeZone', zone, true);
  RETURN to_char(moment, 'YYYY-MM-DD HH24:MI TZ');
END;
$$ LANGUAGE plpgsql STABLE SET TimeZone = 'UTC';
"""

DROP_LOCAL_TIME_FUNCTION = "DROP FUNCTION IF EXISTS handoff_local_time(timestamptz, text);"


class Migration(migrations.Migration):
    dependencies = [("handoff", "0016_deadline_contact_running_idx")]

    operations = [migrations.RunSQL(LOCAL_TIME_FUNCTION, DROP_LOCAL_TIME_FUNCTION)]
