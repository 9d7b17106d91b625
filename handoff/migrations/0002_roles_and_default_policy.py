from django.db import migrations

ROLES = ("Marketing", "Sales", "Managers")


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    SlaPolicy = apps.get_model("handoff", "SlaPolicy")
    if not SlaPolicy.objects.exists():
        SlaPolicy.objects.create(name="Default", claim_hours=4, first_contact_hours=24)


class Migration(migrations.Migration):
    dependencies = [("handoff", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
