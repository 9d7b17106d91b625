"""The sweep's heartbeat moved in from the handoff app, which held them until the project package was left only the project."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("handoff", "0019_handoff_campaign"),
    ]

    # The tables exist (created by handoff's migrations 0001-0019) and keep their names and rows: only
    # Django's idea of which app holds the models changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SweepHeartbeat",
                    fields=[
                        (
                            "id",
                            models.PositiveSmallIntegerField(
                                default=1, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("last_started_at", models.DateTimeField()),
                        ("last_finished_at", models.DateTimeField()),
                        (
                            "last_breached",
                            models.PositiveIntegerField(default=0, help_text="Breaches the last sweep recorded."),
                        ),
                        ("last_duration_ms", models.PositiveIntegerField(default=0)),
                        (
                            "runs",
                            models.PositiveBigIntegerField(
                                default=0, help_text="Sweeps finished since the row was created."
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_sweepheartbeat",
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("id", 1)), name="sweep_heartbeat_single_row")
                        ],
                    },
                ),
            ],
        ),
    ]
