"""Marketing's hand-offs per local day and campaign with their claim clocks (issue 25): the table. 0006 fills it
and installs its triggers (after this migration has made the unique index their upserts need)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_user_dates_in_range"),
        ("reporting", "0004_deadline_outcome_months_fill"),
    ]

    operations = [
        migrations.CreateModel(
            name="AcceptanceDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(help_text="The local day (settings.TIME_ZONE) the lead was handed off.")),
                ("handed_off", models.BigIntegerField(default=0)),
                (
                    "closed",
                    models.BigIntegerField(
                        default=0, help_text="Claim clock met or cancelled (not: its due time passed)."
                    ),
                ),
                ("claimed", models.BigIntegerField(default=0, help_text="Claimed by a person (not by an escalation).")),
                (
                    "returned",
                    models.BigIntegerField(default=0, help_text="Claimed by a person, then returned to marketing."),
                ),
                ("by_escalation", models.BigIntegerField(default=0, help_text="Claim clock met by an escalation.")),
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
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "campaign", "slot"), name="acceptance_day_key", nulls_distinct=False
                    )
                ],
            },
        ),
    ]
