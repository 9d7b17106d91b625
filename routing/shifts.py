"""Who is working now: a rep is on shift when their team's calendar (else the default one) is open,
they are not out of office, and no time off of theirs covers today in that calendar's zone.

`shifts_at` answers for a set of reps at once, in a fixed number of queries however many reps,
calendars or days off there are; the calendar math is the SLA's own (`sla.calendar`), so a shift and
the clocks it serves always agree on when a team works, across DST changes and holidays.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.db.models import Q

from sla.calendar import CalendarSpec, next_opening, open_until
from sla.models import BusinessCalendar

from .models import TimeOff


class Verdict:
    """Why a rep can or cannot take a lead now (the words routing writes on the record)."""

    ON_SHIFT = "on_shift"
    AWAY = "away"
    TIME_OFF = "time_off"
    OFF_SHIFT = "off_shift"


@dataclass(frozen=True)
class Shift:
    verdict: str
    # On shift: when the shift ends. Off shift or on time off: when the rep is next expected (a shift
    # start); None when out of office (nobody knows when they are back).
    until: datetime | None = None
    back: datetime | None = None

    @property
    def on(self) -> bool:
        return self.verdict == Verdict.ON_SHIFT


@lru_cache(maxsize=64)
def _spec(zone: str, weekly: tuple, holidays: tuple, country: str, subdivision: str) -> CalendarSpec:
    # Building a spec checks the zone and the country's holidays (a few ms); a calendar's content is
    # the key, so an edited calendar gets a new spec and an unchanged one costs nothing.
    return CalendarSpec.build(
        zone=zone, weekly=dict(weekly), holidays=holidays, country=country, subdivision=subdivision
    )


def calendar_specs(calendar_ids: Iterable[int | None]) -> dict[int | None, CalendarSpec]:
    """The spec of each calendar id, and of the default calendar under the key None: three queries."""
    wanted = {pk for pk in calendar_ids if pk is not None}
    calendars = list(BusinessCalendar.objects.with_hours().filter(Q(pk__in=wanted) | Q(is_default=True)))
    specs: dict[int | None, CalendarSpec] = {
        calendar.pk: _spec(
            calendar.time_zone,
            tuple(sorted((day, tuple(hours)) for day, hours in calendar.weekly_hours().items())),
            tuple(sorted(holiday.date for holiday in calendar.holidays.all())),
            calendar.country,
            calendar.subdivision,
        )
        for calendar in calendars
    }
    default = next((calendar for calendar in calendars if calendar.is_default), None)
    specs[None] = specs[default.pk] if default else BusinessCalendar.default_create().spec()
    return specs


def _first_working_day(spans: list[tuple[date, date]], day: date) -> date:
    """The first day from `day` on that none of the (start, end) spans of time off covers."""
    moved = True
    while moved:
        moved = False
        for starts_on, ends_on in spans:
            if starts_on <= day <= ends_on:
                day = ends_on + timedelta(days=1)
                moved = True
    return day


def shifts_at(reps: list, now: datetime) -> dict[int, Shift]:
    """Each rep's shift at `now`, by user id. A rep has `user_id`, `calendar_id` (their team's) and
    `is_away`."""

    specs = calendar_specs(rep.calendar_id for rep in reps)
    off = {}
    for rep_id, starts_on, ends_on in (
        # A day of slack: `now`'s date differs from zone to zone; each rep's is checked below.
        TimeOff.objects.filter(rep_id__in=[rep.user_id for rep in reps], ends_on__gte=now.date() - timedelta(days=1))
        .order_by("starts_on")
        .values_list("rep_id", "starts_on", "ends_on")
    ):
        off.setdefault(rep_id, []).append((starts_on, ends_on))
    # The calendar math once per calendar (a handful), not once per rep (hundreds).
    team_shift: dict[int | None, Shift] = {}
    for key, spec in specs.items():
        until = open_until(now, spec)
        team_shift[key] = (
            Shift(Verdict.ON_SHIFT, until=until) if until else Shift(Verdict.OFF_SHIFT, back=next_opening(now, spec))
        )
    shifts = {}
    for rep in reps:
        key = rep.calendar_id if rep.calendar_id in specs else None
        if rep.is_away:
            shifts[rep.user_id] = Shift(Verdict.AWAY)
        elif spans := off.get(rep.user_id):
            spec = specs[key]
            today = now.astimezone(spec.zone).date()
            back_day = _first_working_day(spans, today)
            if back_day != today:
                start_of_back_day = datetime.combine(back_day, datetime.min.time(), tzinfo=spec.zone)
                shifts[rep.user_id] = Shift(Verdict.TIME_OFF, back=next_opening(start_of_back_day, spec))
            else:
                shifts[rep.user_id] = team_shift[key]
        else:
            shifts[rep.user_id] = team_shift[key]
    return shifts
