from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("handoff", "0002_roles_and_default_policy")]

    operations = []
