"""The business-time math: properties that hold for any calendar and start (hypothesis), worked
examples a manager would check by hand (the due times the lead services get: leads/tests/test_team_calendars.py)."""

import datetime
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sla.calendar import CalendarError, CalendarSpec, add_business_time, business_time_between
from sla.models import BusinessCalendar, CalendarHoliday, OpeningHours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)
MICRO = timedelta(microseconds=1)
NINE_TO_FIVE = {weekday: [(time(9), time(17))] for weekday in range(5)}

# Fast enough for every run of the suite; no example database, so the tree stays clean.
PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# The instants clocks change (spring forward, fall back) in 2025 and 2026.
DST_CHANGES = {
    "Europe/Berlin": [
        datetime.datetime(2025, 3, 30, 1, tzinfo=UTC),
        datetime.datetime(2025, 10, 26, 1, tzinfo=UTC),
        datetime.datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime.datetime(2026, 10, 25, 1, tzinfo=UTC),
    ],
    "America/New_York": [
        datetime.datetime(2025, 3, 9, 7, tzinfo=UTC),
        datetime.datetime(2025, 11, 2, 6, tzinfo=UTC),
        datetime.datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime.datetime(2026, 11, 1, 6, tzinfo=UTC),
    ],
}


@st.composite
def day_hours(draw, first: int = 0, last: int = 95) -> list[tuple[time, time]]:
    """0–3 non-overlapping intervals in one day on a 15-minute grid, between quarter `first` and `last`."""
    marks = sorted(draw(st.lists(st.integers(first, last), min_size=0, max_size=6, unique=True)))
    marks = marks[: len(marks) // 2 * 2]
    as_time = [time(mark * 15 // 60, mark * 15 % 60) for mark in marks]
    return list(zip(as_time[::2], as_time[1::2], strict=True))


@st.composite
def specs(draw, zone: str | None = None, sunday_night: bool = False) -> CalendarSpec:
    """A calendar in Berlin or New York with random hours (at least one interval) and closed dates.
    Clocks change on Sundays between 01:00 and 04:00 in both zones: Sunday hours fall there half the
    time, or always with `sunday_night`."""
    weekly = {weekday: draw(day_hours()) for weekday in range(6)}
    weekly[6] = draw(day_hours(4, 16) if sunday_night else st.one_of(day_hours(), day_hours(4, 16)))
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = [(time(9), time(17))]
    closed = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2026, 12, 31)), max_size=6))
    zone = zone or draw(st.sampled_from(sorted(DST_CHANGES)))
    country = draw(st.sampled_from(["", "DE", "US"]))
    return CalendarSpec.build(zone=zone, weekly=weekly, holidays=closed, country=country)


@st.composite
def near_a_clock_change(draw, within: timedelta) -> datetime.datetime:
    change = draw(st.sampled_from([change for changes in DST_CHANGES.values() for change in changes]))
    return change + draw(st.timedeltas(-within, within))


@st.composite
def clock_change_days(draw) -> tuple[CalendarSpec, datetime.datetime]:
    """A calendar and a start within 4 hours of one of its own zone's clock changes."""
    zone = draw(st.sampled_from(sorted(DST_CHANGES)))
    change = draw(st.sampled_from(DST_CHANGES[zone]))
    return draw(specs(zone=zone, sunday_night=True)), change + draw(st.timedeltas(-4 * HOUR, 4 * HOUR))


starts = st.one_of(
    st.datetimes(datetime.datetime(2025, 1, 1), datetime.datetime(2026, 12, 31), timezones=st.just(UTC)),
    near_a_clock_change(within=timedelta(days=3)),
)
durations = st.timedeltas(timedelta(0), timedelta(hours=120))


def within_reach(spec: CalendarSpec, duration: timedelta) -> bool:
    """Whether `duration` of open time fits well inside the ten years the calendar looks ahead. A
    drawn calendar may be open 15 minutes a week; 240 hours of it would take eighteen years, which
    `add_business_time` rightly refuses (tested below)."""
    weekly = sum(
        (
            datetime.datetime.combine(date.min, closes) - datetime.datetime.combine(date.min, opens)
            for day in spec.weekly
            for opens, closes in day
        ),
        timedelta(0),
    )
    return weekly * 400 >= duration


def open_just_before(moment: datetime.datetime, spec: CalendarSpec) -> bool:
    return business_time_between(moment - MICRO, moment, spec) == MICRO


def open_just_after(moment: datetime.datetime, spec: CalendarSpec) -> bool:
    return business_time_between(moment, moment + MICRO, spec) == MICRO


def open_by_the_wall_clock(moment: datetime.datetime, spec: CalendarSpec) -> bool:
    """An oracle independent of the implementation, good on days without a clock change: the local
    wall time lies within one of the day's intervals (ends included) and the day is not a holiday."""
    local = moment.astimezone(spec.zone)
    if spec.is_holiday(local.date()):
        return False
    return any(opens <= local.time() <= closes for opens, closes in spec.weekly[local.weekday()])


def clocks_change_on(day: date, zone: ZoneInfo) -> bool:
    start = datetime.datetime.combine(day, time(0), zone)
    end = datetime.datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.utcoffset() != end.utcoffset()


# Properties ------------------------------------------------------------------------------------


@PROPERTY
@given(spec=specs(), start=starts, duration=durations)
def test_a_due_time_never_falls_in_closed_hours(spec, start, duration):
    """Whatever the calendar and start, a due time lies in open hours: with time to count, the moment
    just before it was open; with none, the moment just after it is. On days without a clock change,
    the wall clock agrees."""
    assume(within_reach(spec, duration))
    due = add_business_time(start, duration, spec)

    assert due >= start
    if duration:
        assert open_just_before(due, spec)
    else:
        assert open_just_after(due, spec) or (due == start and open_just_before(due, spec))
    local_day = due.astimezone(spec.zone).date()
    if not clocks_change_on(local_day, spec.zone):
        assert open_by_the_wall_clock(due, spec)


@PROPERTY
@given(spec=specs(), start=starts, shorter=durations, more=durations)
def test_more_time_never_gives_an_earlier_due_time(spec, start, shorter, more):
    """Adding more business time never moves the due time earlier."""
    assume(within_reach(spec, shorter + more))
    assert add_business_time(start, shorter, spec) <= add_business_time(start, shorter + more, spec)


@PROPERTY
@given(spec=specs(), start=starts, first=durations, then=durations)
def test_adding_a_then_b_equals_adding_a_plus_b(spec, start, first, then):
    """Counting a and then b from where a ended lands exactly where counting a + b does."""
    assume(within_reach(spec, first + then))
    step = add_business_time(start, first, spec)

    assert add_business_time(step, then, spec) == add_business_time(start, first + then, spec)


@PROPERTY
@given(spec=specs(), start=starts, duration=durations)
def test_business_time_between_start_and_due_is_the_duration(spec, start, duration):
    """The open time between a start and its due time is exactly the duration asked for, and counting
    backwards gives its negative."""
    assume(within_reach(spec, duration))
    due = add_business_time(start, duration, spec)

    assert business_time_between(start, due, spec) == duration
    assert business_time_between(due, start, spec) == -duration


@PROPERTY
@given(
    spec=specs(),
    start=starts,
    length=st.one_of(st.timedeltas(timedelta(0), 3 * HOUR), st.timedeltas(timedelta(0), timedelta(days=10))),
)
def test_business_time_never_runs_faster_than_real_time(spec, start, length):
    """Between two instants there is never more business time than real time, even on the days clocks
    jump: an hour the clocks skip is no business time, an hour they repeat is counted once per pass."""
    assert timedelta(0) <= business_time_between(start, start + length, spec) <= length


@PROPERTY
@given(case=clock_change_days(), duration=durations)
def test_around_clock_changes_due_times_stay_in_order_and_in_open_hours(case, duration):
    """Near every spring-forward and fall-back in Berlin and New York, each further minute of business
    time moves the due time forward by exactly one real minute of open time."""
    spec, start = case
    due = add_business_time(start, duration, spec)
    later = add_business_time(start, duration + timedelta(minutes=1), spec)

    assert later > due
    assert business_time_between(due, later, spec) == timedelta(minutes=1)
    assert open_just_before(later, spec)


@PROPERTY
@given(case=clock_change_days(), length=st.timedeltas(timedelta(0), 3 * HOUR))
def test_on_clock_change_days_business_time_never_runs_faster_than_real_time(case, length):
    """Around a clock change, no window holds more business time than real time: the hours the clocks
    skip are not open, and opening hours on either side of the jump never overlap."""
    spec, start = case

    assert timedelta(0) <= business_time_between(start, start + length, spec) <= length


# Clock changes by hand -------------------------------------------------------------------------


def always_open(zone: str) -> CalendarSpec:
    return CalendarSpec.build(zone=zone, weekly={weekday: [(time(0), time(23, 59))] for weekday in range(7)})


@pytest.mark.parametrize(
    ("zone", "start", "due"),
    [
        # Spring forward: 02:00 does not exist, so two business hours from 01:00 end at 04:00.
        ("Europe/Berlin", datetime.datetime(2026, 3, 29, 1, 0), datetime.datetime(2026, 3, 29, 4, 0)),
        ("America/New_York", datetime.datetime(2026, 3, 8, 1, 0), datetime.datetime(2026, 3, 8, 4, 0)),
        # Fall back: the hour from 02:00 happens twice and is counted as the real time it is.
        ("Europe/Berlin", datetime.datetime(2026, 10, 25, 1, 0), datetime.datetime(2026, 10, 25, 2, 0, fold=1)),
        ("America/New_York", datetime.datetime(2026, 11, 1, 0, 0), datetime.datetime(2026, 11, 1, 1, 0, fold=1)),
    ],
)
def test_business_hours_across_a_clock_change_are_real_hours(zone, start, due):
    """In a calendar open all day, two business hours are two real hours, even across a clock change."""
    tz = ZoneInfo(zone)

    result = add_business_time(start.replace(tzinfo=tz), 2 * HOUR, always_open(zone))

    assert result == due.replace(tzinfo=tz).astimezone(UTC)


def test_hours_that_fall_into_the_spring_forward_gap_are_skipped_that_day():
    """A Sunday shift from 02:00 to 03:00 in Berlin does not happen on the day clocks jump over it: an
    hour asked for then ends at the next Sunday's shift."""
    spec = CalendarSpec.build(zone="Europe/Berlin", weekly={6: [(time(2), time(3))]})
    start = datetime.datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)

    due = add_business_time(start, HOUR, spec)

    assert due == datetime.datetime(2026, 4, 5, 3, 0, tzinfo=BERLIN)


def test_only_the_part_of_the_day_that_happens_is_open_on_spring_forward_day():
    """Berlin, 29 March 2026, open 01:30–02:45 and 03:00–04:00: 02:00–03:00 never happens, so the day
    has 30 + 60 minutes of business time."""
    spec = CalendarSpec.build(zone="Europe/Berlin", weekly={6: [(time(1, 30), time(2, 45)), (time(3), time(4))]})

    assert business_time_between(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 5), spec) == 90 * timedelta(minutes=1)


def test_a_shift_in_the_repeated_hour_lasts_from_its_first_start_to_its_end():
    """On the day clocks go back, a Sunday 02:00–03:00 shift in Berlin runs from the first 02:00 to
    03:00: two real hours, and a due time 90 minutes in lies in the repeated hour."""
    spec = CalendarSpec.build(zone="Europe/Berlin", weekly={6: [(time(2), time(3))]})
    start = datetime.datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    end = datetime.datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN)

    assert business_time_between(start, end, spec) == 2 * HOUR
    due = add_business_time(start, 90 * timedelta(minutes=1), spec)

    # Aware datetimes in the repeated hour compare unequal across zones (PEP 495): compare in UTC.
    assert due == datetime.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN).astimezone(UTC)


# Worked examples -------------------------------------------------------------------------------


def head_office(**kwargs) -> CalendarSpec:
    return CalendarSpec.build(zone="Europe/Berlin", weekly=NINE_TO_FIVE, country="DE", **kwargs)


def berlin(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "spec", "due"),
    [
        # Friday 16:00 + 4 business hours: one hour on Friday, three on Monday morning.
        (berlin(2026, 11, 20, 16), head_office(), berlin(2026, 11, 23, 12)),
        # Labour Day (Friday 1 May 2026) is a German public holiday.
        (berlin(2026, 4, 30, 16), head_office(), berlin(2026, 5, 4, 12)),
        # Epiphany (6 January) is a holiday in Bavaria only.
        (berlin(2026, 1, 5, 16), head_office(), berlin(2026, 1, 6, 12)),
        (berlin(2026, 1, 5, 16), head_office(subdivision="BY"), berlin(2026, 1, 7, 12)),
        # A date the manager closed (the Thursday) is skipped like a public holiday.
        (berlin(2026, 11, 25, 16), head_office(holidays={date(2026, 11, 26)}), berlin(2026, 11, 27, 12)),
        # Handed over at night: the clock starts when the office opens.
        (berlin(2026, 11, 24, 23), head_office(), berlin(2026, 11, 25, 13)),
        # Exactly at closing time is allowed.
        (berlin(2026, 11, 20, 13), head_office(), berlin(2026, 11, 20, 17)),
    ],
)
def test_four_business_hours_in_the_head_office(start, spec, due):
    """Four business hours in a Mon–Fri 09:00–17:00 Berlin calendar, by hand."""
    assert add_business_time(start, 4 * HOUR, spec) == due


def test_zero_business_time_from_closed_hours_is_the_next_opening():
    """Nothing to count from Saturday means the due time is Monday's opening; from open hours it is now."""
    assert add_business_time(berlin(2026, 11, 21, 10), timedelta(0), head_office()) == berlin(2026, 11, 23, 9)
    assert add_business_time(berlin(2026, 11, 23, 10), timedelta(0), head_office()) == berlin(2026, 11, 23, 10)


def test_a_lunch_break_is_not_business_time():
    """With 09:00–12:00 and 13:00–17:00, four hours from 10:00 end at 15:00."""
    spec = CalendarSpec.build(zone="Europe/Berlin", weekly={0: [(time(13), time(17)), (time(9), time(12))]})

    assert add_business_time(berlin(2026, 11, 23, 10), 4 * HOUR, spec) == berlin(2026, 11, 23, 15)


def test_due_times_come_back_in_utc():
    """Due times are UTC instants, as the database stores them."""
    due = add_business_time(berlin(2026, 11, 20, 16), 4 * HOUR, head_office())

    assert due.tzinfo is UTC


# Refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize("weekly", [{}, {weekday: [] for weekday in range(7)}])
def test_a_calendar_with_no_open_hours_is_refused(weekly):
    """A calendar that is never open cannot count business time: it is refused with a clear message."""
    with pytest.raises(CalendarError, match="needs open hours on at least one day"):
        CalendarSpec.build(zone="Europe/Berlin", weekly=weekly)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([(time(17), time(9))], "closing time must be after opening time"),
        ([(time(9), time(9))], "closing time must be after opening time"),
        ([(time(9), time(13)), (time(12), time(17))], "overlap"),
    ],
)
def test_bad_opening_hours_are_refused(hours, message):
    """Closing before opening and overlapping intervals are refused, naming the problem."""
    with pytest.raises(CalendarError, match=message):
        CalendarSpec.build(zone="Europe/Berlin", weekly={0: hours})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"zone": "Mars/Olympus_Mons"}, "is not a time zone"),
        ({"zone": "Europe/Berlin", "country": "XX"}, "is not a country code"),
        ({"zone": "Europe/Berlin", "country": "DE", "subdivision": "ZZ"}, "is not a subdivision of DE"),
    ],
)
def test_an_unknown_zone_or_country_is_refused(kwargs, message):
    with pytest.raises(CalendarError, match=message):
        CalendarSpec.build(weekly=NINE_TO_FIVE, **kwargs)


def test_naive_datetimes_are_refused():
    """A wall time without a zone is ambiguous: both functions refuse it."""
    naive = datetime.datetime(2026, 11, 23, 10)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(naive, HOUR, head_office())
    with pytest.raises(ValueError, match="aware"):
        business_time_between(berlin(2026, 11, 23, 10), naive, head_office())


def test_touching_intervals_are_joined():
    """09:00–12:00 and 12:00–17:00 are one open stretch: no gap, no overlap."""
    spec = CalendarSpec.build(zone="Europe/Berlin", weekly={0: [(time(9), time(12)), (time(12), time(17))]})

    assert spec.weekly[0] == ((time(9), time(17)),)


# Due times of the SLA clocks -------------------------------------------------------------------


def calendar_create(name: str, *, zone: str, hours: dict, holidays=()) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=name, time_zone=zone)
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
        for weekday, intervals in hours.items()
        for opens, closes in intervals
    )
    CalendarHoliday.objects.bulk_create(CalendarHoliday(calendar=calendar, date=day, name="Closed") for day in holidays)
    return calendar


@pytest.mark.django_db
def test_the_default_calendar_is_the_head_office():
    """The migration leaves one default calendar: Head office, Berlin, German holidays, Mon–Fri 9–17."""
    calendar = BusinessCalendar.objects.get(is_default=True)

    assert (calendar.name, calendar.time_zone, calendar.country) == ("Head office", "Europe/Berlin", "DE")
    assert calendar.spec() == head_office()


@pytest.mark.django_db
def test_a_manager_added_holiday_reaches_the_spec():
    """A date a manager adds is closed in the spec built from the database."""
    calendar = BusinessCalendar.objects.get(is_default=True)
    CalendarHoliday.objects.create(calendar=calendar, date=date(2026, 11, 26), name="Company day")

    spec = BusinessCalendar.objects.with_hours().get(pk=calendar.pk).spec()

    assert add_business_time(berlin(2026, 11, 25, 16), 4 * HOUR, spec) == berlin(2026, 11, 27, 12)


def test_more_open_time_than_ten_years_hold_is_refused_with_a_clear_error():
    """A calendar open a quarter of an hour a week has about 130 open hours in ten years: asking for
    240 is refused, not looped on for ever."""
    spec = CalendarSpec.build(zone="America/New_York", weekly={6: [(time(0), time(0, 15))]})

    with pytest.raises(CalendarError, match="ten years"):
        add_business_time(datetime.datetime(2025, 3, 30, 1, tzinfo=UTC), 240 * HOUR, spec)
