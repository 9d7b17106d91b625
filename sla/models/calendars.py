import json
from collections import defaultdict
from datetime import time
from functools import lru_cache

from django.contrib.postgres.aggregates import ArrayAgg, JSONBAgg
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models.functions import JSONObject

from sla.calendar import WEEKDAYS, CalendarError, CalendarSpec, country_check, zone_get

# The calendar every deadline falls back to when its owner's team has none: the one the data
# migration creates, and re-created on demand if it is missing (a flushed test database).
DEFAULT_NAME = "Head office"
DEFAULT_ZONE = "Europe/Berlin"
DEFAULT_COUNTRY = "DE"
DEFAULT_HOURS = [(weekday, time(9), time(17)) for weekday in range(5)]


def validate_time_zone(value: str) -> None:
    try:
        zone_get(value)
    except CalendarError as exc:
        raise ValidationError(str(exc)) from exc


class BusinessCalendarQuerySet(models.QuerySet):
    def with_hours(self):
        return self.prefetch_related("opening_hours", "holidays")

    def _with_spec_rows(self):
        """Rows of (pk, is_default, time_zone, country, subdivision, hours, holidays): the opening
        hours and the added holidays as arrays, so a calendar's spec costs no query of its own."""
        hours = (
            OpeningHours.objects.filter(calendar=models.OuterRef("pk"))
            .order_by()
            .values("calendar")
            .annotate(
                rows=JSONBAgg(
                    JSONObject(weekday="weekday", opens="opens", closes="closes"), order_by=("weekday", "opens")
                )
            )
            .values("rows")
        )
        holidays = (
            CalendarHoliday.objects.filter(calendar=models.OuterRef("pk"))
            .order_by()
            .values("calendar")
            .annotate(dates=ArrayAgg("date"))
            .values("dates")
        )
        return self.values("pk", "is_default", "time_zone", "country", "subdivision").annotate(
            hours=models.Subquery(hours), holidays=models.Subquery(holidays)
        )

    def spec_for(self, owner) -> CalendarSpec:
        """The spec of `owner`'s calendar — their team's, else the default one (created if there is
        none) — in one query. Every clock a move sets or stops reads one."""
        team_or_default = models.Q(is_default=True)
        if owner is not None:
            team_or_default |= models.Q(teams__reps__user=owner)
        # False sorts first: the team's own calendar wins over the default.
        row = self.filter(team_or_default).order_by("is_default")._with_spec_rows().first()
        if row is None:
            return BusinessCalendar.default_create().spec()
        return spec_of_row(row)

    def specs(self, calendar_ids) -> dict[int | None, CalendarSpec]:
        """The spec of each of these calendars, and of the default one under the key None, in one
        query (the default is created if there is none)."""
        # The rows of `_with_spec_rows`, written by hand: routing reads them on every decision, and
        # the ORM takes longer to compose this statement than PostgreSQL to run it.
        with connection.cursor() as cursor:
            cursor.execute(_SPEC_ROWS_SQL, [list(calendar_ids)])
            columns = [column.name for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["hours"] = json.loads(row["hours"]) if row["hours"] else None
        specs: dict[int | None, CalendarSpec] = {row["pk"]: spec_of_row(row) for row in rows}
        default = next((row["pk"] for row in rows if row["is_default"]), None)
        specs[None] = specs[default] if default is not None else BusinessCalendar.default_create().spec()
        return specs


def spec_of_row(row: dict) -> CalendarSpec:
    """A spec from a `_with_spec_rows` row; built once per calendar content and process (building one
    checks the zone and the country's holidays, a few milliseconds)."""
    weekly = tuple(
        (hour["weekday"], time.fromisoformat(hour["opens"]), time.fromisoformat(hour["closes"]))
        for hour in row["hours"] or ()
    )
    return _spec(row["time_zone"], weekly, tuple(sorted(row["holidays"] or ())), row["country"], row["subdivision"])


@lru_cache(maxsize=256)
def _spec(zone: str, weekly: tuple, holidays: tuple, country: str, subdivision: str) -> CalendarSpec:
    by_day = defaultdict(list)
    for weekday, opens, closes in weekly:
        by_day[weekday].append((opens, closes))
    return CalendarSpec.build(zone=zone, weekly=by_day, holidays=holidays, country=country, subdivision=subdivision)


class BusinessCalendar(models.Model):
    """When a team works: opening hours per weekday in its time zone, minus public and added holidays.

    The SLA clock runs only while the calendar is open (see sla/calendar.py). Exactly one calendar
    is the default, used for teams without one and for leads no rep owns yet.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default=DEFAULT_ZONE, validators=[validate_time_zone], help_text="IANA name, e.g. Europe/Berlin."
    )
    country = models.CharField(
        max_length=2, blank=True, help_text="Public holidays of this country (ISO code such as DE); empty for none."
    )
    subdivision = models.CharField(
        max_length=10, blank=True, help_text="State or region for regional holidays, e.g. BE for Berlin."
    )
    is_default = models.BooleanField(
        "default calendar", default=False, help_text="Used for teams without a calendar of their own."
    )

    objects = BusinessCalendarQuerySet.as_manager()

    class Meta:
        db_table = "handoff_businesscalendar"  # its table from before it left handoff/
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        try:
            country_check(self.country, self.subdivision)
        except CalendarError as exc:
            raise ValidationError({"country": str(exc)}) from exc

    @classmethod
    def default_create(cls) -> "BusinessCalendar":
        """The default calendar, created with Mon–Fri 09:00–17:00 in Berlin if there is none."""
        try:
            with transaction.atomic():
                calendar, created = cls.objects.get_or_create(
                    is_default=True,
                    defaults={"name": DEFAULT_NAME, "time_zone": DEFAULT_ZONE, "country": DEFAULT_COUNTRY},
                )
                if created:
                    OpeningHours.objects.bulk_create(
                        OpeningHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
                        for weekday, opens, closes in DEFAULT_HOURS
                    )
        except IntegrityError:
            # Someone else created it at the same moment.
            calendar = cls.objects.get(is_default=True)
        return cls.objects.with_hours().get(pk=calendar.pk)

    def weekly_hours(self) -> dict[int, list[tuple[time, time]]]:
        """{weekday: [(opens, closes), …]} from the (prefetched) opening hours."""
        weekly = defaultdict(list)
        for hours in self.opening_hours.all():
            weekly[hours.weekday].append((hours.opens, hours.closes))
        return dict(weekly)

    def hours_by_day(self) -> list[tuple[str, str]]:
        """("Monday", "09:00–12:00, 13:00–17:00") for each open weekday, for display."""
        weekly = self.weekly_hours()
        return [
            (WEEKDAYS[day], ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in weekly[day]))
            for day in sorted(weekly)
        ]

    def spec(self) -> CalendarSpec:
        """The pure calendar the SLA math works on. Public holidays are looked up per year when needed
        (and cached), so one spec is right for any span of dates."""
        return CalendarSpec.build(
            zone=self.time_zone,
            weekly=self.weekly_hours(),
            holidays=(holiday.date for holiday in self.holidays.all()),
            country=self.country,
            subdivision=self.subdivision,
        )


class OpeningHours(models.Model):
    """One interval a calendar is open on one weekday; a day may have several (a lunch break)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=list(enumerate(WEEKDAYS)), validators=[MaxValueValidator(6)])
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        db_table = "handoff_openinghours"  # its table from before it left handoff/
        verbose_name_plural = "opening hours"
        ordering = ["calendar", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="opening_hours_closes_after_opens"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="opening_hours_weekday_0_to_6"),
            models.UniqueConstraint(fields=["calendar", "weekday", "opens"], name="opening_hours_one_start_per_day"),
        ]

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.opens:%H:%M}–{self.closes:%H:%M}"


class CalendarHoliday(models.Model):
    """A date a manager closed the calendar on, on top of the country's public holidays."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "handoff_calendarholiday"  # its table from before it left handoff/
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_calendar_date")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


def team_model() -> type[models.Model]:
    """The sales teams' model, reached through the foreign key teams hold to their calendar: the SLA
    sits below the leads app that keeps teams, and never imports it."""
    return BusinessCalendar._meta.get_field("teams").related_model


def calendar_save(
    *, calendar: BusinessCalendar, weekly: dict[int, list[tuple[time, time]]], teams=None
) -> BusinessCalendar:
    """Save a calendar with exactly these opening hours (checked: see CalendarSpec) and, when `teams`
    is given, make it the calendar of exactly those teams. Making it the default takes the flag from
    the old default in the same transaction; the last default cannot give it up."""
    spec = CalendarSpec.build(
        zone=calendar.time_zone, weekly=weekly, country=calendar.country, subdivision=calendar.subdivision
    )
    with transaction.atomic():
        if calendar.is_default:
            BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(is_default=False)
        elif calendar.pk and not BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).exists():
            raise CalendarError("One calendar must stay the default: make another one the default instead.")
        calendar.full_clean()
        try:
            with transaction.atomic():
                calendar.save()
        except IntegrityError as exc:
            # Two managers made different calendars the default at the same moment.
            raise CalendarError("Another calendar was just made the default; please try again.") from exc
        calendar.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
            for weekday, intervals in enumerate(spec.weekly)
            for opens, closes in intervals
        )
        if teams is not None:
            calendar.teams.exclude(pk__in=[team.pk for team in teams]).update(calendar=None)
            team_model().objects.filter(pk__in=[team.pk for team in teams]).update(calendar=calendar)
    return calendar


def calendar_holiday_add(*, calendar: BusinessCalendar, date, name: str) -> CalendarHoliday:
    """Close `calendar` on `date`; CalendarError if that date is already closed by a manager."""
    holiday = CalendarHoliday(calendar=calendar, date=date, name=name)
    try:
        with transaction.atomic():
            holiday.save()
    except IntegrityError as exc:
        raise CalendarError(f"{date:%Y-%m-%d} is already a holiday of {calendar}.") from exc
    return holiday


# Table names from the models, never from input.
_SPEC_ROWS_SQL = f"""
SELECT c.id AS pk, c.is_default, c.time_zone, c.country, c.subdivision,
       (SELECT jsonb_agg(jsonb_build_object('weekday', h.weekday, 'opens', h.opens, 'closes', h.closes)
                         ORDER BY h.weekday, h.opens)::text
          FROM {OpeningHours._meta.db_table} h WHERE h.calendar_id = c.id) AS hours,
       (SELECT array_agg(d.date) FROM {CalendarHoliday._meta.db_table} d WHERE d.calendar_id = c.id) AS holidays
  FROM {BusinessCalendar._meta.db_table} c
 WHERE c.id = ANY(%s::integer[]) OR c.is_default
"""  # noqa: S608
