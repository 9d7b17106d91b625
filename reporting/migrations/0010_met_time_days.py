"""`MetTimeDay`, the met deadlines' business times per day, kind and bucket (issue 25); 0011 fills it and
installs its triggers and the refinement's index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0009_count_triggers_only_if_changed"),
    ]

    operations = [
        migrations.CreateModel(
            name="MetTimeDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(help_text="The local day (settings.TIME_ZONE) the deadline was decided.")),
                ("kind", models.CharField(max_length=20)),
                (
                    "bucket",
                    models.SmallIntegerField(help_text="floor(12 × ln(business seconds + 1)): 0 is no time at all."),
                ),
                ("deadlines", models.BigIntegerField(default=0)),
                (
                    "slot",
                    models.SmallIntegerField(
                        db_default=0,
                        default=0,
                        help_text="Which writer's share of the sums this row is: read the sum over slots.",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("day", "kind", "bucket", "slot"), name="met_time_day_key")
                ],
            },
        ),
    ]
