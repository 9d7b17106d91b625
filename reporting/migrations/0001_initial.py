"""The deadlines' read model moved in from the handoff app, which held them until the project package was left only the project."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("handoff", "0019_handoff_campaign"),
        ("campaigns", "0006_user_dates_in_range"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist (created by handoff's migrations 0001-0019) and keep their names and rows: only
    # Django's idea of which app holds the models changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DeadlineOutcome",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "hour",
                            models.DateTimeField(help_text="Start of the UTC hour the deadlines were decided in."),
                        ),
                        ("kind", models.CharField(help_text="The deadline kind (Deadline.Kind).", max_length=20)),
                        ("on_time", models.BigIntegerField(default=0)),
                        ("late", models.BigIntegerField(default=0)),
                        (
                            "recorded",
                            models.BigIntegerField(default=0, help_text="Late ones whose breach the sweep recorded."),
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
                                help_text="Who held the deadline; empty for a claim left in the queue.",
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_deadlineoutcome",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("hour", "kind", "campaign", "owner"),
                                name="deadline_outcome_key",
                                nulls_distinct=False,
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
