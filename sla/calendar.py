"""Business time: when a team is open, and how far a span of open time reaches.

Pure and database-free: a `CalendarSpec` holds a time zone, the opening hours of each weekday and the
dates a manager closed; public holidays come from the `holidays` package, cached per country,
subdivision and year in this process. `BusinessCalendar.spec()` builds one from the database.

The rules, chosen so that the properties in handoff/tests/test_calendar.py hold:

- Opening hours are wall-clock times in the calendar's zone. Each day's bounds become real instants:
  a wall time that happens twice (clocks going back) means its first occurrence; one that does not
  happen at all (clocks going forward) means the first instant after the jump. Both rules keep
  later wall times at later-or-equal instants, so a day's intervals stay in order and never overlap;
  an interval that falls entirely inside a jump is simply empty that day.
- Open time is each interval from opening to closing, both ends included: a due time exactly at
  closing time is allowed (Friday 13:00 + 4 h in a 9–17 calendar is Friday 17:00, not Monday 09:00).
- `add_business_time(start, d)` with d > 0 ends strictly after an opening and at or before a closing.
  With d == 0 it returns `start` when that is open time, otherwise the next opening: the clock of
  something handed over at night starts when the office opens.
- Results are returned in UTC, the way the database stores them.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as public_holidays

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A walk that finds no open time in ten years is a calendar that is (as good as) never open.
MAX_DAYS = 3660
# Local days whose open intervals a spec keeps worked out (about 27 years' worth; then it starts over).
DAYS_CACHED = 10_000

Interval = tuple[time, time]


class CalendarError(ValueError):
    """A calendar that cannot be used: no open hours, bad hours, an unknown zone or country."""


def zone_get(name: str) -> ZoneInfo:
    """The IANA zone called `name`; CalendarError if there is none."""
    if name not in _zone_names():
        raise CalendarError(f"“{name}” is not a time zone. Use an IANA name such as Europe/Berlin.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"“{name}” is not a time zone. Use an IANA name such as Europe/Berlin.") from exc


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def country_check(country: str, subdivision: str = "") -> None:
    """Refuse a country or subdivision the `holidays` package does not know."""
    if not country:
        if subdivision:
            raise CalendarError("A subdivision needs a country.")
        return
    supported = _supported_countries()
    if country not in supported:
        raise CalendarError(f"“{country}” is not a country code with known public holidays (e.g. DE, US, GB).")
    if subdivision and subdivision not in supported[country]:
        choices = ", ".join(supported[country][:30]) or "none"
        raise CalendarError(f"“{subdivision}” is not a subdivision of {country}. Known: {choices}.")


@lru_cache(maxsize=1)
def _supported_countries() -> dict[str, list[str]]:
    return public_holidays.list_supported_countries()


@lru_cache(maxsize=512)
def public_holidays_of(country: str, subdivision: str, year: int) -> dict[date, str]:
    """Public holidays of one country (and subdivision) in one year, cached for the process."""
    if not country:
        return {}
    found = public_holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(found.items())


def intervals_check(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """One day's opening hours sorted, checked (closing after opening, no overlaps) and with touching
    intervals joined. CalendarError names the first problem."""
    ordered = sorted(intervals)
    joined: list[Interval] = []
    for opens, closes in ordered:
        if closes <= opens:
            raise CalendarError(f"{opens:%H:%M}–{closes:%H:%M}: closing time must be after opening time.")
        if joined and opens < joined[-1][1]:
            last = joined[-1]
            raise CalendarError(f"{last[0]:%H:%M}–{last[1]:%H:%M} and {opens:%H:%M}–{closes:%H:%M} overlap.")
        if joined and opens == joined[-1][1]:
            joined[-1] = (joined[-1][0], closes)
        else:
            joined.append((opens, closes))
    return tuple(joined)


@dataclass(frozen=True)
class CalendarSpec:
    """When a team is open: `weekly[0]` are Monday's intervals … `weekly[6]` Sunday's.

    Build it with `CalendarSpec.build`, which checks everything; the constructor checks too.
    """

    zone: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    country: str = ""
    subdivision: str = ""

    def __post_init__(self):
        if len(self.weekly) != 7:
            raise CalendarError("Opening hours need one entry per weekday, Monday to Sunday.")
        weekly = tuple(intervals_check(day) for day in self.weekly)
        if not any(weekly):
            raise CalendarError("A calendar needs open hours on at least one day of the week.")
        country_check(self.country, self.subdivision)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        # Each local day's open intervals as UTC instants, worked out once per spec: turning wall
        # times into instants is most of a clock's cost, and a replay asks for the same days
        # hundreds of thousands of times. Not a field: equal specs stay equal.
        object.__setattr__(self, "_days", {})

    @classmethod
    def build(
        cls,
        *,
        zone: str | ZoneInfo,
        weekly: Mapping[int, Iterable[Interval]],
        holidays: Iterable[date] = (),
        country: str = "",
        subdivision: str = "",
    ) -> "CalendarSpec":
        """A spec from a zone (name or ZoneInfo), {weekday: [(opens, closes), …]} and closed dates."""
        return cls(
            zone=zone_get(zone) if isinstance(zone, str) else zone,
            weekly=tuple(tuple(weekly.get(day, ())) for day in range(7)),
            holidays=frozenset(holidays),
            country=country,
            subdivision=subdivision,
        )

    def within(self, hours: Mapping[int, Iterable[Interval]]) -> "CalendarSpec":
        """This calendar narrowed to `hours` ({weekday: [(starts, ends), …]}, wall times in this
        calendar's zone): open only when both are, with the same holidays. A person's own hours inside
        their team's. CalendarError when the two never meet."""
        weekly = []
        for day in range(7):
            theirs = intervals_check(hours.get(day, ()))
            weekly.append(
                [
                    (max(opens, starts), min(closes, ends))
                    for opens, closes in self.weekly[day]
                    for starts, ends in theirs
                    if max(opens, starts) < min(closes, ends)
                ]
            )
        if not any(weekly):
            raise CalendarError("These hours never meet the calendar's opening hours.")
        return CalendarSpec.build(
            zone=self.zone,
            weekly=dict(enumerate(weekly)),
            holidays=self.holidays,
            country=self.country,
            subdivision=self.subdivision,
        )

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or day in public_holidays_of(self.country, self.subdivision, day.year)

    def public_holidays_from(self, day: date, count: int) -> list[tuple[date, str]]:
        """The next `count` public holidays on or after `day` that fall on an opening day."""
        found: list[tuple[date, str]] = []
        for year in range(day.year, day.year + 3):
            for when, name in sorted(public_holidays_of(self.country, self.subdivision, year).items()):
                if when >= day and self.weekly[when.weekday()]:
                    found.append((when, name))
                    if len(found) == count:
                        return found
        return found

    def open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals as UTC instants, in order, from the local day before `start` onwards."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS):
            yield from self.day_intervals(day)
            day += timedelta(days=1)
        raise CalendarError("This calendar does not have that much open time in the next ten years.")

    def day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of the local `day` as UTC instants (none on a holiday), cached."""
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) > DAYS_CACHED:
                self._days.clear()
            intervals = ()
            if not self.is_holiday(day):
                instants = (
                    (_instant(day, opens, self.zone), _instant(day, closes, self.zone))
                    for opens, closes in self.weekly[day.weekday()]
                )
                intervals = tuple((begin, end) for begin, end in instants if end > begin)
            cached = self._days[day] = intervals
        return cached


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the clocks in `zone` read `wall` on `day` (see the module docstring)."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # The wall time falls in a gap. fold=1 reads it with the offset after the jump, which lands before
    # the jump; fold=0 with the offset before, which lands after. The jump lies between: find it.
    before = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    after = int(first.timestamp())
    offset_after = first.astimezone(zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment!r}.")
    return moment.astimezone(UTC)


def business_blocks(start: datetime, duration: timedelta, spec: CalendarSpec) -> Iterator[tuple[datetime, datetime]]:
    """The open time that `duration` of business time from `start` takes, block by block (UTC, in
    order): whole open intervals, the first cut at `start`, the last cut where the time runs out. The
    blocks add up to `duration`; the last one ends at `add_business_time`'s answer. A deadline's
    receipt lists them."""
    cursor = _aware(start, "start")
    if duration < timedelta(0):
        raise ValueError("A duration of business time cannot be negative.")
    remaining = duration
    for begin, end in spec.open_intervals(cursor):
        if end < cursor:
            continue
        begin = max(begin, cursor)
        if remaining <= end - begin:
            yield begin, begin + remaining
            return
        if end > begin:
            yield begin, end
        remaining -= end - begin


def add_business_time(start: datetime, duration: timedelta, spec: CalendarSpec) -> datetime:
    """The instant (UTC) when `duration` of open time has passed since `start`."""
    *_, (_, end) = business_blocks(start, duration, spec)
    return end


def business_time_between(start: datetime, end: datetime, spec: CalendarSpec) -> timedelta:
    """Open time from `start` to `end`; negative when `end` is before `start`."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end < start:
        return -business_time_between(end, start, spec)
    total = timedelta(0)
    for begin, close in spec.open_intervals(start):
        if begin >= end:
            return total
        total += max(timedelta(0), min(close, end) - max(begin, start))


def business_days(start: datetime, days: int, spec: CalendarSpec) -> list[tuple[date, datetime, datetime]]:
    """The `days` open days counted after the local day of `start`: (day, first opening, last
    closing) each, UTC. An open day is a weekday with opening hours that is not a holiday; the day of
    `start` itself never counts, whatever the hour."""
    if days < 1:
        raise ValueError("Count at least one business day.")
    cursor = _aware(start, "start")
    first_day = cursor.astimezone(spec.zone).date()
    counted: list[tuple[date, datetime, datetime]] = []
    for begin, end in spec.open_intervals(cursor):
        day = begin.astimezone(spec.zone).date()
        if day <= first_day:
            continue
        if counted and counted[-1][0] == day:
            counted[-1] = (day, counted[-1][1], end)
            continue
        if len(counted) == days:
            return counted
        counted.append((day, begin, end))
    raise CalendarError("This calendar does not have that much open time in the next ten years.")  # pragma: no cover


def add_business_days(start: datetime, days: int, spec: CalendarSpec) -> datetime:
    """The close of the `days`-th open day after the local day of `start` (UTC).

    "Within 5 business days" of a return on Monday morning means by the close of the following
    Monday: the day of `start` itself never counts, whatever the hour (see `business_days`).
    """
    return business_days(start, days, spec)[-1][2]


def open_until(moment: datetime, spec: CalendarSpec) -> datetime | None:
    """When the open interval `moment` falls in closes (UTC), or None when the calendar is closed at
    `moment`. Touching intervals are one: a shift 09:00–12:00 then 12:00–17:00 is open until 17:00."""
    cursor = _aware(moment, "moment")
    until = None
    for begin, end in spec.open_intervals(cursor):
        if until is None:
            if begin > cursor:
                return None
            if end > cursor:
                until = end
        elif begin > until:
            return until
        else:
            until = max(until, end)
    return until  # pragma: no cover - open_intervals raises first


def next_opening(moment: datetime, spec: CalendarSpec) -> datetime:
    """`moment` itself when the calendar is open then, else when it next opens (UTC)."""
    cursor = _aware(moment, "moment")
    for begin, end in spec.open_intervals(cursor):
        if end > cursor:
            return max(begin, cursor)
    raise CalendarError("This calendar does not open in the next ten years.")  # pragma: no cover
