"""The SLA's models moved in from the handoff app, which held them until the project package was left only the project."""

import datetime
from decimal import Decimal

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.comparison
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import sla.models.calendars
import sla.models.sla


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("handoff", "0019_handoff_campaign"),
        ("leads", "0019_deal_campaign"),
        ("campaigns", "0006_user_dates_in_range"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist (created by handoff's migrations 0001-0019) and keep their names and rows: only
    # Django's idea of which app holds the models changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BusinessCalendar",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        (
                            "time_zone",
                            models.CharField(
                                default="Europe/Berlin",
                                help_text="IANA name, e.g. Europe/Berlin.",
                                max_length=64,
                                validators=[sla.models.calendars.validate_time_zone],
                            ),
                        ),
                        (
                            "country",
                            models.CharField(
                                blank=True,
                                help_text="Public holidays of this country (ISO code such as DE); empty for none.",
                                max_length=2,
                            ),
                        ),
                        (
                            "subdivision",
                            models.CharField(
                                blank=True,
                                help_text="State or region for regional holidays, e.g. BE for Berlin.",
                                max_length=10,
                            ),
                        ),
                        (
                            "is_default",
                            models.BooleanField(
                                default=False,
                                help_text="Used for teams without a calendar of their own.",
                                verbose_name="default calendar",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_businesscalendar",
                        "ordering": ["name"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("is_default", True)),
                                fields=("is_default",),
                                name="one_default_calendar",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SlaPolicy",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("version", models.PositiveIntegerField(unique=True)),
                        ("name", models.CharField(default="Default", max_length=100)),
                        (
                            "note",
                            models.TextField(
                                blank=True,
                                help_text="Why this version was made; shown in the policy history.",
                                max_length=1000,
                            ),
                        ),
                        (
                            "claim_hours_hot",
                            models.DecimalField(
                                decimal_places=2,
                                default=1,
                                help_text="Business hours sales has to claim a hot lead after it is handed off.",
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                            ),
                        ),
                        (
                            "claim_hours_warm",
                            models.DecimalField(
                                decimal_places=2,
                                default=4,
                                help_text="Business hours sales has to claim a warm lead after it is handed off.",
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                            ),
                        ),
                        (
                            "claim_hours_cold",
                            models.DecimalField(
                                decimal_places=2,
                                default=8,
                                help_text="Business hours sales has to claim a cold lead after it is handed off.",
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                            ),
                        ),
                        (
                            "first_contact_hours_hot",
                            models.DecimalField(
                                decimal_places=2,
                                default=4,
                                help_text="Business hours the rep has to contact a hot lead after claiming it.",
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                            ),
                        ),
                        (
                            "first_contact_hours_warm",
                            models.DecimalField(
                                decimal_places=2,
                                default=8,
                                help_text="Business hours the rep has to contact a warm lead after claiming it.",
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                            ),
                        ),
                        (
                            "first_contact_hours_cold",
                            models.DecimalField(
                                decimal_places=2,
                                default=24,
                                help_text="Business hours the rep has to contact a cold lead after claiming it.",
                                max_digits=6,
                                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                            ),
                        ),
                        (
                            "follow_up_days",
                            models.PositiveSmallIntegerField(
                                default=5,
                                help_text="Business days marketing has to re-nurture or disqualify a lead sales returned.",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(60),
                                ],
                                verbose_name="returned-lead follow-up (business days)",
                            ),
                        ),
                        (
                            "acceptance_target_percent",
                            models.PositiveSmallIntegerField(
                                default=70,
                                help_text="Share of each campaign's handed-off leads sales should accept (claim and keep).",
                                validators=[django.core.validators.MaxValueValidator(100)],
                                verbose_name="acceptance rate target (%)",
                            ),
                        ),
                        (
                            "warning_percent",
                            models.PositiveSmallIntegerField(
                                default=75,
                                help_text="The owner is warned once this share of the allowed business time has passed.",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(99),
                                ],
                                verbose_name="warn at (% of the allowed time)",
                            ),
                        ),
                        (
                            "escalation_steps",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(
                                    choices=[
                                        ("notify_manager", "Notify the rep's manager"),
                                        ("return_to_queue", "Return the lead to the queue"),
                                        ("reassign", "Reassign to the next available rep"),
                                    ],
                                    max_length=20,
                                ),
                                blank=True,
                                default=sla.models.sla.default_escalation_steps,
                                help_text="What happens after a sales deadline is breached, in this order.",
                                size=3,
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "SLA policy",
                        "verbose_name_plural": "SLA policies",
                        "db_table": "handoff_slapolicy",
                        "get_latest_by": "version",
                    },
                ),
                migrations.CreateModel(
                    name="Handoff",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("handed_off_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "note",
                            models.TextField(
                                blank=True, help_text="For the rep who picks the lead up.", max_length=2000
                            ),
                        ),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("closed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "outcome",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("converted", "Converted"),
                                    ("returned", "Returned to marketing"),
                                    ("disqualified", "Disqualified"),
                                    ("requeued", "Back to the queue after a breach"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("return_reason", models.CharField(blank=True, max_length=200)),
                        (
                            "campaign",
                            models.ForeignKey(
                                blank=True,
                                db_index=False,
                                help_text="The lead's campaign, copied so the dashboard's acceptance needs no join (read by handoff_returned_idx).",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="campaigns.campaign",
                            ),
                        ),
                        (
                            "claimed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="claimed_handoffs",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "handed_off_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "lead",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="handoffs", to="leads.lead"
                            ),
                        ),
                        (
                            "policy",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="handoffs", to="sla.slapolicy"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_handoff",
                    },
                ),
                migrations.CreateModel(
                    name="Deadline",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("claim", "Claim"),
                                    ("first_contact", "First contact"),
                                    ("follow_up", "Returned-lead follow-up"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "priority",
                            models.CharField(
                                blank=True,
                                help_text="The lead's priority tier when the clock started (sales deadlines).",
                                max_length=10,
                            ),
                        ),
                        ("starts_at", models.DateTimeField()),
                        ("allowed", models.DurationField()),
                        (
                            "given_due_at",
                            models.DateTimeField(help_text="The due time the deadline was given when it was set."),
                        ),
                        (
                            "due_at",
                            models.DateTimeField(
                                help_text="The due time now: the given one, moved by any time on hold."
                            ),
                        ),
                        ("warn_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "warned_at",
                            models.DateTimeField(
                                blank=True, help_text="When the sweep recorded the warning.", null=True
                            ),
                        ),
                        (
                            "paused_at",
                            models.DateTimeField(blank=True, help_text="Set while the lead is on hold.", null=True),
                        ),
                        (
                            "paused_for",
                            models.DurationField(
                                default=datetime.timedelta(0), help_text="Business time spent on hold so far."
                            ),
                        ),
                        ("met_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "breached_at",
                            models.DateTimeField(
                                blank=True, help_text="When the sweep recorded the breach.", null=True
                            ),
                        ),
                        ("breach_notified_at", models.DateTimeField(blank=True, null=True)),
                        ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "business_seconds",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="Business time from the start to when it was met, time on hold left out; set when it is met.",
                                null=True,
                            ),
                        ),
                        (
                            "campaign",
                            models.ForeignKey(
                                blank=True,
                                db_index=False,
                                help_text="The lead's campaign, copied so the dashboard's figures need no join (read by deadline_decided_idx).",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="campaigns.campaign",
                            ),
                        ),
                        (
                            "lead",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="deadlines", to="leads.lead"
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                blank=True,
                                help_text="Who must act: empty while the lead waits in the queue for any rep; a met claim names the rep who claimed the lead.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="deadlines",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "handoff",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="deadlines", to="sla.handoff"
                            ),
                        ),
                        (
                            "policy",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="deadlines",
                                to="sla.slapolicy",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_deadline",
                    },
                ),
                migrations.CreateModel(
                    name="CalendarHoliday",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("date", models.DateField()),
                        ("name", models.CharField(max_length=100)),
                        (
                            "calendar",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="holidays",
                                to="sla.businesscalendar",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_calendarholiday",
                        "ordering": ["calendar", "date"],
                        "constraints": [
                            models.UniqueConstraint(fields=("calendar", "date"), name="one_holiday_per_calendar_date")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Escalation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "step",
                            models.CharField(
                                choices=[
                                    ("notify_manager", "Notify the rep's manager"),
                                    ("return_to_queue", "Return the lead to the queue"),
                                    ("reassign", "Reassign to the next available rep"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField()),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("done_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "outcome",
                            models.CharField(
                                blank=True, help_text="What the step did, or why it did nothing.", max_length=300
                            ),
                        ),
                        (
                            "deadline",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="escalations",
                                to="sla.deadline",
                            ),
                        ),
                        (
                            "lead",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="escalations", to="leads.lead"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "handoff_escalation",
                        "ordering": ["deadline", "position"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("done_at__isnull", True)),
                                fields=["created_at"],
                                name="escalation_pending_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("deadline", "step"), name="one_escalation_step_per_deadline"
                            ),
                            models.UniqueConstraint(
                                fields=("deadline", "position"), name="one_escalation_position_per_deadline"
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OpeningHours",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "weekday",
                            models.PositiveSmallIntegerField(
                                choices=[
                                    (0, "Monday"),
                                    (1, "Tuesday"),
                                    (2, "Wednesday"),
                                    (3, "Thursday"),
                                    (4, "Friday"),
                                    (5, "Saturday"),
                                    (6, "Sunday"),
                                ],
                                validators=[django.core.validators.MaxValueValidator(6)],
                            ),
                        ),
                        ("opens", models.TimeField()),
                        ("closes", models.TimeField()),
                        (
                            "calendar",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="opening_hours",
                                to="sla.businesscalendar",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "opening hours",
                        "db_table": "handoff_openinghours",
                        "ordering": ["calendar", "weekday", "opens"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("closes__gt", models.F("opens"))),
                                name="opening_hours_closes_after_opens",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("weekday__lte", 6)), name="opening_hours_weekday_0_to_6"
                            ),
                            models.UniqueConstraint(
                                fields=("calendar", "weekday", "opens"), name="opening_hours_one_start_per_day"
                            ),
                        ],
                    },
                ),
                migrations.AddConstraint(
                    model_name="slapolicy",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("acceptance_target_percent__lte", 100),
                            ("claim_hours_cold__gt", 0),
                            ("claim_hours_hot__gt", 0),
                            ("claim_hours_warm__gt", 0),
                            ("first_contact_hours_cold__gt", 0),
                            ("first_contact_hours_hot__gt", 0),
                            ("first_contact_hours_warm__gt", 0),
                            ("follow_up_days__gt", 0),
                            ("warning_percent__gt", 0),
                            ("warning_percent__lt", 100),
                        ),
                        name="sla_policy_values_in_range",
                    ),
                ),
                migrations.AddIndex(
                    model_name="handoff",
                    index=models.Index(fields=["claimed_by", "claimed_at"], name="handoff_han_claimed_671f65_idx"),
                ),
                migrations.AddIndex(
                    model_name="handoff",
                    index=models.Index(fields=["handed_off_at"], name="handoff_handed_off_at_idx"),
                ),
                migrations.AddIndex(
                    model_name="handoff",
                    index=models.Index(
                        condition=models.Q(("outcome", "returned")),
                        fields=["handed_off_at"],
                        include=("campaign",),
                        name="handoff_returned_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="handoff",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("closed_at__isnull", True)),
                        fields=("lead",),
                        name="one_open_handoff_per_lead",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(
                            ("breached_at__isnull", True),
                            ("cancelled_at__isnull", True),
                            ("met_at__isnull", True),
                            ("paused_at__isnull", True),
                        ),
                        fields=["due_at"],
                        name="deadline_open_due_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(
                            ("breached_at__isnull", True),
                            ("cancelled_at__isnull", True),
                            ("met_at__isnull", True),
                            ("paused_at__isnull", True),
                            ("warn_at__isnull", False),
                            ("warned_at__isnull", True),
                        ),
                        fields=["warn_at"],
                        name="deadline_warn_due_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(
                            ("breached_at__isnull", True),
                            ("cancelled_at__isnull", True),
                            ("met_at__isnull", True),
                            ("paused_at__isnull", True),
                            ("warned_at__isnull", False),
                        ),
                        fields=["due_at"],
                        name="deadline_warned_open_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(("breach_notified_at__isnull", True), ("breached_at__isnull", False)),
                        fields=["breached_at"],
                        name="deadline_breach_unnotified_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(("cancelled_at__isnull", True), ("kind", "claim"), ("met_at__isnull", True)),
                        fields=["due_at"],
                        name="deadline_unclaimed_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(fields=["owner", "kind", "due_at"], name="handoff_dea_owner_i_2a9876_idx"),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(fields=["lead", "kind"], name="handoff_dea_lead_id_1399e8_idx"),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(
                            ("cancelled_at__isnull", True), ("kind", "first_contact"), ("met_at__isnull", True)
                        ),
                        fields=["lead"],
                        include=("due_at", "paused_at"),
                        name="deadline_contact_running_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(
                            ("breached_at__isnull", False), ("cancelled_at__isnull", True), ("met_at__isnull", True)
                        ),
                        fields=["due_at"],
                        name="deadline_breached_running_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(("breached_at__isnull", False)),
                        fields=["breached_at"],
                        name="deadline_breached_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        models.F("kind"),
                        django.db.models.functions.comparison.Least("met_at", "due_at"),
                        include=(
                            "owner",
                            "campaign",
                            "met_at",
                            "due_at",
                            "breached_at",
                            "cancelled_at",
                            "paused_at",
                            "business_seconds",
                        ),
                        name="deadline_decided_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        models.F("kind"),
                        django.db.models.functions.comparison.Least("met_at", "due_at"),
                        condition=models.Q(("business_seconds__isnull", False)),
                        include=("business_seconds", "owner", "campaign"),
                        name="deadline_met_seconds_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="deadline",
                    index=models.Index(
                        condition=models.Q(("kind", "claim")),
                        fields=["starts_at"],
                        include=("campaign", "lead", "met_at", "due_at", "cancelled_at"),
                        name="deadline_claim_started_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="deadline",
                    constraint=models.UniqueConstraint(
                        fields=("handoff", "kind"), name="one_deadline_per_kind_per_handoff"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="deadline",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("due_at__gte", models.F("starts_at"))), name="deadline_due_after_start"
                    ),
                ),
            ],
        ),
    ]
