"""The escalations caused per local day of the breached deadline's due time, kind, owner and campaign
(issue 25): the table. 0008 fills it and installs its triggers (after this migration has made the unique
index their upserts need)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("reporting", "0006_acceptance_days_fill"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EscalationDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "day",
                    models.DateField(help_text="The local day (settings.TIME_ZONE) the breached deadline was due."),
                ),
                ("kind", models.CharField(max_length=20)),
                ("escalations", models.BigIntegerField(default=0)),
                (
                    "slot",
                    models.SmallIntegerField(
                        db_default=0,
                        default=0,
                        help_text="Which writer's share of the sums this row is: read the sum over slots.",
                    ),
                ),
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
                    "owner",
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
                        fields=("day", "kind", "owner", "campaign", "slot"),
                        name="escalation_day_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
    ]
