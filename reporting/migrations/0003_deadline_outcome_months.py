"""Monthly sums of the deadlines' hourly outcomes, per owner and per campaign apart (issue 25): the table.
0004 fills it and installs its trigger (after this migration has made the unique index its upserts need)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("reporting", "0002_escalation_apart"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DeadlineOutcomeMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(help_text="The first day of the month, in the site's time zone.")),
                (
                    "per",
                    models.CharField(help_text='"owner" or "campaign": the side of the hours summed.', max_length=8),
                ),
                ("kind", models.CharField(max_length=20)),
                ("on_time", models.BigIntegerField(default=0)),
                ("late", models.BigIntegerField(default=0)),
                ("recorded", models.BigIntegerField(default=0)),
                ("by_escalation", models.BigIntegerField(default=0)),
                ("late_by_escalation", models.BigIntegerField(default=0)),
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
                        fields=("month", "per", "kind", "campaign", "owner", "slot"),
                        name="deadline_outcome_month_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
    ]
