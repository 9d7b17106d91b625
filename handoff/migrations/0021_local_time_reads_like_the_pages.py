from django.db import migrations

# A moment as a user reads it in their own zone, written as the pages write it (DATETIME_FORMAT,
# handoff/formats/en_GB): "15 Jan 2026 21:00 JST", exactly what common.localtime.moment_text gives
# (handoff/tests/test_date_formats.py compares them). Month abbreviations are English whatever the
# server's locale: to_char's "Mon" without the TM prefix is not localised.
FUNCTION = """
CREATE OR REPLACE FUNCTION handoff_local_time(moment timestamptz, zone text) RETURNS text AS $$
BEGIN
  PERFORM set_config('TimeZone', zone, true);
  RETURN to_char(moment, '{format}');
END;
$$ LANGUAGE plpgsql STABLE SET TimeZone = 'UTC';
"""
LOCAL_TIME_FUNCTION = FUNCTION.format(format="FMDD Mon YYYY HH24:MI TZ")
# Migration 0017's, for going back.
BEFORE = FUNCTION.format(format="YYYY-MM-DD HH24:MI TZ")


class Migration(migrations.Migration):
    dependencies = [("handoff", "0020_models_moved_to_their_apps")]

    operations = [migrations.RunSQL(LOCAL_TIME_FUNCTION, BEFORE)]
