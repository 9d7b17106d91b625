import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0003_calendars"),
        ("leads", "0007_merged_email_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="salesteam",
            name="calendar",
            field=models.ForeignKey(
                blank=True,
                help_text="Business hours of the team's SLA clocks; empty for the default calendar.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="teams",
                to="handoff.businesscalendar",
            ),
        ),
    ]
