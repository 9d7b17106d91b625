"""Monthly sums of the timeline's daily counts, per campaign and per person apart (issue 25: the dashboard
flat in the period): the table. 0029 fills it and installs its trigger (after this migration has made
the unique index its upserts need)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("leads", "0027_count_slots"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EventMonthCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "month",
                    models.DateField(
                        help_text="The first day of the month, in the site's time zone (as EventCount.day)."
                    ),
                ),
                ("side", models.CharField(choices=[("campaign", "Campaign"), ("user", "User")], max_length=8)),
                ("kind", models.CharField(max_length=20)),
                ("subgroup", models.CharField(blank=True, max_length=100)),
                ("slot", models.SmallIntegerField(db_default=0, default=0)),
                ("value", models.BigIntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                (
                    "campaign",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="campaigns.campaign",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "side", "kind", "subgroup", "campaign", "user", "slot"),
                        name="event_month_count_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
    ]
