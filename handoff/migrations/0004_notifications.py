from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("handoff", "0003_calendars")]

    operations = []
