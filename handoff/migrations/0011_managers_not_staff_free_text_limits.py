"""The admin is for superusers only: managers seeded before that lose the staff flag and the SLA
policy permissions the seed gave them for the admin (they have Handoff's own pages). Notes get a
maximum length (checked by forms and model validation; the columns stay text)."""

from django.conf import settings
from django.db import migrations, models


def managers_are_not_staff(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Permission = apps.get_model("auth", "Permission")
    managers = User.objects.filter(groups__name="Managers", is_superuser=False)
    policy_permissions = Permission.objects.filter(codename__endswith="_slapolicy")
    User.user_permissions.through.objects.filter(user__in=managers, permission__in=policy_permissions).delete()
    User.objects.filter(pk__in=managers.filter(is_staff=True).values("pk")).update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0010_event_counts_trigger"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(managers_are_not_staff, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="handoff",
            name="note",
            field=models.TextField(blank=True, help_text="For the rep who picks the lead up.", max_length=2000),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="note",
            field=models.TextField(
                blank=True, help_text="Why this version was made; shown in the policy history.", max_length=1000
            ),
        ),
    ]
