"""The timeline's counts (EventCount) moved in from the handoff app, and a team's calendar now lives in sla."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0019_deal_campaign"),
        ("handoff", "0019_handoff_campaign"),
        ("sla", "0001_initial"),
        ("campaigns", "0006_user_dates_in_range"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist (created by handoff's migrations 0001-0019) and keep their names and rows: only
    # Django's idea of which app holds the models changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EventCount",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "day",
                            models.DateField(
                                help_text="The day the events happened on, in the site's time zone (TIME_ZONE)."
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(help_text="The timeline event kind (LeadEvent.Kind).", max_length=20),
                        ),
                        (
                            "subgroup",
                            models.CharField(
                                blank=True,
                                help_text="What the kind is split by: deadline kind for breaches and warnings, reason for returns, stage for deal moves, activity kind, capture source.",
                                max_length=100,
                            ),
                        ),
                        ("value", models.BigIntegerField(default=0)),
                        (
                            "amount",
                            models.DecimalField(
                                decimal_places=2,
                                default=0,
                                help_text="Money the events carry: converted or won value.",
                                max_digits=18,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_eventcount",
                    },
                ),
                migrations.AlterField(
                    model_name="salesteam",
                    name="calendar",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="Business hours of the team's SLA clocks; empty for the default calendar.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="teams",
                        to="sla.businesscalendar",
                    ),
                ),
                migrations.AddField(
                    model_name="eventcount",
                    name="campaign",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="campaigns.campaign"
                    ),
                ),
                migrations.AddField(
                    model_name="eventcount",
                    name="user",
                    field=models.ForeignKey(
                        help_text="Whom the event is about: the rep or deadline owner named in it, else its actor.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddIndex(
                    model_name="eventcount",
                    index=models.Index(fields=["kind", "day"], name="event_count_kind_day_idx"),
                ),
                migrations.AddIndex(
                    model_name="eventcount",
                    index=models.Index(fields=["campaign", "kind"], name="event_count_campaign_kind_idx"),
                ),
                migrations.AddConstraint(
                    model_name="eventcount",
                    constraint=models.UniqueConstraint(
                        fields=("day", "kind", "subgroup", "campaign", "user"),
                        name="event_count_day_key",
                        nulls_distinct=False,
                    ),
                ),
            ],
        ),
    ]
