"""Who is working now: a rep is on shift when their team's calendar (else the default one) is open,
they are not out of office, and no time off of theirs covers today in that calendar's zone.

`shifts_at` answers for a set of reps at once, in a fixed number of queries however many reps,
calendars or days off there are; the calendar math is the SLA's own (`sla.calendar`), so a shift and
the clocks it serves always agree on when a team works, across DST changes and holidays.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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


def shifts_at(reps: list, now: datetime) -> dict[int, Shift]:
    """Each rep's shift at `now`, by user id. A rep has `user_id`, `calendar_id` (their team's) and
    `is_away`."""
    specs = calendar_specs(rep.calendar_id for rep in reps)
    off = {}
    for rep_id, starts_on, ends_on in (
        # Everyone's time off not over yet (a few rows a rep at most; filtering by hundreds of rep ids
        # costs more than reading them). A day of slack: `now`'s date differs from zone to zone.
        TimeOff.objects.filter(ends_on__gte=now.date() - timedelta(days=1))
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
    shifts, first_shift = {}, {}
    for rep in reps:
        key = rep.calendar_id if rep.calendar_id in specs else None
        if rep.is_away:
            shifts[rep.user_id] = Shift(Verdict.AWAY)
        elif spans := off.get(rep.user_id):
            spec = specs[key]
            today = now.astimezone(spec.zone).date()
            back_day = _first_working_day(spans, today)
            if back_day != today:
                if (key, back_day) not in first_shift:  # reps of a team back the same day start together
                    start = datetime.combine(back_day, datetime.min.time(), tzinfo=spec.zone)
                    first_shift[key, back_day] = next_opening(start, spec)
                shifts[rep.user_id] = Shift(Verdict.TIME_OFF, back=first_shift[key, back_day])
            else:
                shifts[rep.user_id] = team_shift[key]
        else:
            shifts[rep.user_id] = team_shift[key]
    return shifts
