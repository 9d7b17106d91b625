import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import notifications.models


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0003_calendars"),
        ("leads", "0007_merged_email_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("warning", "SLA warning"),
                            ("breach", "SLA breach"),
                            ("returned", "Lead returned"),
                            ("assigned", "Lead assigned"),
                        ],
                        max_length=20,
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
                (
                    "url",
                    models.CharField(
                        blank=True, help_text="Path inside Handoff, usually the lead's page.", max_length=500
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        blank=True,
                        help_text="What the notification is about, so the same event never notifies twice.",
                        max_length=100,
                    ),
                ),
                (
                    "delivery",
                    models.CharField(
                        choices=[
                            ("in_app", "In the app only"),
                            ("email", "Email now"),
                            ("digest", "In the next digest"),
                        ],
                        default="in_app",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "lead",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to="leads.lead",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["user", "read_at", "-created_at"], name="notification_unread_idx"),
                    models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox_idx"),
                    models.Index(
                        condition=models.Q(("delivery", "digest"), ("emailed_at__isnull", True)),
                        fields=["user", "created_at"],
                        name="notification_digest_due_idx",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("key", ""), _negated=True),
                        fields=("user", "key"),
                        name="one_notification_per_user_and_key",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["warning", "breach", "returned", "assigned"])),
                        name="notification_kind_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="UserPreferences",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "time_zone",
                    models.CharField(
                        default=notifications.models.default_time_zone,
                        max_length=64,
                        validators=[notifications.models.validate_time_zone],
                    ),
                ),
                ("email_warnings", models.BooleanField(default=True, verbose_name="email SLA warnings")),
                ("email_breaches", models.BooleanField(default=True, verbose_name="email SLA breaches")),
                ("email_returned", models.BooleanField(default=True, verbose_name="email leads returned by sales")),
                ("email_assigned", models.BooleanField(default=True, verbose_name="email leads assigned to me")),
                (
                    "email_mode",
                    models.CharField(
                        choices=[
                            ("each", "One email per notification"),
                            ("hourly", "An hourly digest"),
                            ("daily", "A daily digest"),
                        ],
                        default="each",
                        max_length=10,
                        verbose_name="how emails arrive",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="preferences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "user preferences",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("email_mode__in", ["each", "hourly", "daily"])),
                        name="preferences_email_mode_valid",
                    )
                ],
            },
        ),
    ]
