from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("handoff", "0004_notifications")]

    operations = [
        migrations.CreateModel(
            name="SweepHeartbeat",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ("last_started_at", models.DateTimeField()),
                ("last_finished_at", models.DateTimeField()),
                (
                    "last_breached",
                    models.PositiveIntegerField(default=0, help_text="Breaches the last sweep recorded."),
                ),
                ("last_duration_ms", models.PositiveIntegerField(default=0)),
                (
                    "runs",
                    models.PositiveBigIntegerField(default=0, help_text="Sweeps finished since the row was created."),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="sweep_heartbeat_single_row")
                ],
            },
        ),
    ]
