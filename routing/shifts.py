"""Who is working now: a rep is on shift when their team's calendar (else the default one) is open,
inside their own hours if they have any, they are not out of office, and no time off of theirs covers
today in that calendar's zone.

`shifts_at` answers for a set of reps at once with one query (the calendars), however many reps,
calendars or days off there are: the reps come with their time off and hours (`router.candidates_at`
reads them in its query). The calendar math is the SLA's own (`sla.calendar`), so a shift and the
clocks it serves always agree on when a team works, across DST changes and holidays.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sla.calendar import CalendarError, CalendarSpec, next_opening, open_until
from sla.models import BusinessCalendar


class Verdict:
    """Why a rep can or cannot take a lead now (the words routing writes on the record)."""

    ON_SHIFT = "on_shift"
    AWAY = "away"
    TIME_OFF = "time_off"
    OFF_SHIFT = "off_shift"
    OFF_HOURS = "off_hours"  # the team works, but outside this rep's own hours


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


def calendar_specs(calendar_ids: Iterable[int | None]) -> dict[int | None, CalendarSpec]:
    """The spec of each calendar id, and of the default calendar under the key None: one query."""
    return BusinessCalendar.objects.specs({pk for pk in calendar_ids if pk is not None})


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


def _shift(now: datetime, spec: CalendarSpec, closed: str = Verdict.OFF_SHIFT) -> Shift:
    until = open_until(now, spec)
    return Shift(Verdict.ON_SHIFT, until=until) if until else Shift(closed, back=next_opening(now, spec))


@lru_cache(maxsize=1024)
def _own_hours(spec: CalendarSpec, hours: tuple) -> CalendarSpec | None:
    """The team's calendar narrowed to a rep's own hours; None when the two never meet. Kept per
    process: building a spec checks its zone and country."""
    by_day: dict[int, list] = {}
    for weekday, starts, ends in hours:
        by_day.setdefault(weekday, []).append((starts, ends))
    try:
        return spec.within(by_day)
    except CalendarError:
        return None


def _own_shift(now: datetime, narrowed: CalendarSpec | None, team: Shift) -> Shift:
    """The shift of a rep with their own hours: their team's when it is closed (they are off with
    everyone), else whether their hours are on."""
    if not team.on:
        return team
    if narrowed is None:
        return Shift(Verdict.OFF_HOURS)
    return _shift(now, narrowed, Verdict.OFF_HOURS)


def shifts_at(reps: list, now: datetime) -> dict[int, Shift]:
    """Each rep's shift at `now`, by user id. A rep has `user_id`, `calendar_id` (their team's),
    `is_away`, `time_off` ([(first day, last day), …], those not over yet) and `hours` ([(weekday,
    starts, ends), …], empty for their team's)."""
    specs = calendar_specs(rep.calendar_id for rep in reps)
    # The calendar math once per calendar (a handful), not once per rep (hundreds); once per set of
    # own hours too (reps on the same part-time hours share it).
    team_shift = {key: _shift(now, spec) for key, spec in specs.items()}
    narrowed: dict[tuple, CalendarSpec | None] = {}
    own_shift: dict[tuple, Shift] = {}
    first_shift: dict[tuple, datetime] = {}
    shifts = {}
    for rep in reps:
        key = rep.calendar_id if rep.calendar_id in specs else None
        if rep.is_away:
            shifts[rep.user_id] = Shift(Verdict.AWAY)
            continue
        spec, shift = specs[key], team_shift[key]
        if rep.hours:
            own = (key, tuple(rep.hours))
            if own not in own_shift:
                narrowed[own] = _own_hours(specs[key], own[1])
                own_shift[own] = _own_shift(now, narrowed[own], team_shift[key])
            spec, shift = narrowed[own], own_shift[own]
        if rep.time_off and spec is not None:
            today = now.astimezone(spec.zone).date()
            back_day = _first_working_day(rep.time_off, today)
            if back_day != today:
                if (id(spec), back_day) not in first_shift:  # reps back the same day start together
                    start = datetime.combine(back_day, datetime.min.time(), tzinfo=spec.zone)
                    first_shift[id(spec), back_day] = next_opening(start, spec)
                shifts[rep.user_id] = Shift(Verdict.TIME_OFF, back=first_shift[id(spec), back_day])
                continue
        shifts[rep.user_id] = shift
    return shifts
