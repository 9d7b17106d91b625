from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("handoff", "0004_notifications")]

    operations = []
