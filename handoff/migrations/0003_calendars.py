import datetime

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import sla.models.calendars


def create_head_office(apps, schema_editor):
    """The default calendar: Mon–Fri 09:00–17:00 in Berlin, German public holidays."""
    BusinessCalendar = apps.get_model("handoff", "BusinessCalendar")
    OpeningHours = apps.get_model("handoff", "OpeningHours")
    if BusinessCalendar.objects.filter(is_default=True).exists():
        return
    calendar = BusinessCalendar.objects.create(
        name="Head office", time_zone="Europe/Berlin", country="DE", is_default=True
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=weekday, opens=datetime.time(9), closes=datetime.time(17))
        for weekday in range(5)
    )


class Migration(migrations.Migration):
    dependencies = [("handoff", "0002_roles_and_default_policy")]

    operations = [
        migrations.CreateModel(
            name="BusinessCalendar",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_default", True)), fields=("is_default",), name="one_default_calendar"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CalendarHoliday",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                ("name", models.CharField(max_length=100)),
                (
                    "calendar",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="holidays",
                        to="handoff.businesscalendar",
                    ),
                ),
            ],
            options={
                "ordering": ["calendar", "date"],
                "constraints": [
                    models.UniqueConstraint(fields=("calendar", "date"), name="one_holiday_per_calendar_date")
                ],
            },
        ),
        migrations.CreateModel(
            name="OpeningHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                        to="handoff.businesscalendar",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "opening hours",
                "ordering": ["calendar", "weekday", "opens"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("closes__gt", models.F("opens"))), name="opening_hours_closes_after_opens"
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
        migrations.RunPython(create_head_office, migrations.RunPython.noop),
    ]
