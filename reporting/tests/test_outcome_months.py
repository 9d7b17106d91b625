"""The deadlines' monthly and weekly sums (`DeadlineOutcomeMonth`, `DeadlineOutcomeWeek`): kept equal to
the hourly outcomes by their triggers, equal to a rebuild, and read by the dashboard for the months and
weeks that have passed with the same result as counting the deadlines."""

import datetime
import random

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.counts import week_start
from reporting.dashboard import Filters, Period, deadline_outcomes, decided_deadlines
from reporting.models import DeadlineOutcome, DeadlineOutcomeMonth, DeadlineOutcomeWeek
from reporting.outcomes import COUNTED, GRID, outcomes_rebuild
from reporting.tests.test_outcomes import _history
from reporting.verify import read_models_verify

pytestmark = pytest.mark.django_db


def _months() -> set[tuple]:
    rows = DeadlineOutcomeMonth.objects.values_list("month", "per", "kind", "campaign_id", "owner_id", *COUNTED)
    return {row for row in rows if any(row[5:])}


def _weeks() -> set[tuple]:
    rows = DeadlineOutcomeWeek.objects.values_list("week", "per", "kind", "campaign_id", "owner_id", *COUNTED)
    return {row for row in rows if any(row[5:])}


def _months_of_the_hours(span=lambda day: day.replace(day=1)) -> set[tuple]:
    """The hours summed per local month (or the span `span` gives a local day's first day of)."""
    zone = timezone.get_default_timezone()
    sums: dict[tuple, list] = {}
    for row in DeadlineOutcome.objects.values("hour", "kind", "campaign_id", "owner_id", *COUNTED):
        month = span(timezone.localtime(row["hour"], zone).date())
        for per, campaign, owner in (("owner", None, row["owner_id"]), ("campaign", row["campaign_id"], None)):
            counted = sums.setdefault((month, per, row["kind"], campaign, owner), [0] * len(COUNTED))
            for i, name in enumerate(COUNTED):
                counted[i] += row[name]
    return {(*key, *counted) for key, counted in sums.items() if any(counted)}


@pytest.mark.parametrize("seed", [1, 2])
def test_monthly_sums_kept_as_deadlines_change_equal_the_hours_and_a_rebuild(seed, marketer):
    _history(seed, marketer)
    kept = _months()
    assert kept, "the history wrote no monthly sums"
    assert kept == _months_of_the_hours()

    weeks = _weeks()
    assert weeks == _months_of_the_hours(week_start)

    DeadlineOutcome.objects.filter(pk=DeadlineOutcome.objects.order_by("pk").values("pk")[:1]).delete()
    assert _months() == _months_of_the_hours(), "a deleted hour leaves its month"
    assert _weeks() == _months_of_the_hours(week_start), "a deleted hour leaves its week"

    outcomes_rebuild()

    assert _months() == kept
    assert _weeks() == weeks


def _sides(rows) -> dict:
    """Rows summed per kind and owner and per kind and campaign: what the page adds up."""
    totals: dict = {}
    for row in rows:
        # A row of one side (`side`, its value in `key`), or a (kind, owner, campaign) row counting on both.
        for side in [row["side"]] if "side" in row else ["owner", "campaign"]:
            sums = totals.setdefault((side, row["kind"], row["key"] if "side" in row else row[side]), [0] * 5)
            for i, name in enumerate(COUNTED):
                sums[i] += row[name]
    return {key: sums for key, sums in totals.items() if any(sums)}


def test_the_months_that_have_passed_read_from_the_monthly_sums_give_the_deadlines_counts(marketer):
    """Two months on, this month has passed: a period from its first day reads it from the monthly sums
    (in one query with the hours around it; the running hour from the deadlines) and gives what counting
    the deadlines gives, per side."""
    _history(6, marketer)
    now = timezone.now() + datetime.timedelta(days=62)
    first = timezone.localdate().replace(day=1)
    filters = Filters(period=Period("custom", first, first + datetime.timedelta(days=75)))
    expected = decided_deadlines(filters, now=now).values("kind", "owner", "campaign").annotate(**GRID).order_by()
    assert _sides(expected), "nothing decided to compare"

    with CaptureQueriesContext(connection) as captured:
        got = deadline_outcomes(filters, now=now, by=("kind",), sides=("owner", "campaign"))

    assert _sides(got) == _sides(expected)
    assert len(captured) == 2 and "reporting_deadlineoutcomemonth" in captured[0]["sql"]
    assert DeadlineOutcomeMonth.objects.aggregate(late=Sum("late"))["late"], "nothing late in the months"


def test_the_running_month_read_as_its_sums_less_the_rest_or_as_weeks_and_hours_gives_the_deadlines_counts(marketer):
    """This month so far: late in the month its monthly sums less the hourly rows after now (the running
    deadlines due later, counted late in their future hour until met), early in it its weeks and hours
    (the hours ahead hold rows too: taking off the rest of the month would read more); either gives
    what counting the deadlines decided by now gives, per side, in one query with the running hour."""
    _history(7, marketer)
    now = timezone.now()
    assert DeadlineOutcome.objects.filter(hour__gte=now).exists(), "no running deadline due later to take off"
    filters = Filters(period=Period.of("this_month", now=now))
    expected = decided_deadlines(filters, now=now).values("kind", "owner", "campaign").annotate(**GRID).order_by()

    with CaptureQueriesContext(connection) as captured:
        got = deadline_outcomes(filters, now=now, by=("kind",), sides=("owner", "campaign"))

    assert _sides(got) == _sides(expected)
    hour = now.replace(minute=0, second=0, microsecond=0)
    month_read = "reporting_deadlineoutcomemonth" in captured[0]["sql"]
    assert month_read == (filters.period.end - hour < hour - filters.period.start)


def test_any_period_read_from_months_weeks_and_hours_gives_the_deadlines_counts(marketer):
    """Random periods around the history, seen from two months on (everything decided) and from now
    (running deadlines counted late in their future hours): months, weeks of the month and hours give
    what counting the deadlines gives, per side."""
    _history(8, marketer)
    rng = random.Random(8)
    today = timezone.localdate()
    read_weeks = 0
    for later in (datetime.timedelta(days=62), datetime.timedelta(0)):
        now = timezone.now() + later
        for _ in range(12):
            first = today + datetime.timedelta(days=rng.randrange(-40, 10))
            filters = Filters(
                period=Period("custom", first, first + datetime.timedelta(days=rng.choice([2, 9, 24, 50])))
            )
            expected = decided_deadlines(filters, now=now).values("kind", "owner", "campaign").annotate(**GRID)
            with CaptureQueriesContext(connection) as captured:
                got = deadline_outcomes(filters, now=now, by=("kind",), sides=("owner", "campaign"))
            assert _sides(got) == _sides(expected.order_by()), (filters.period, now)
            read_weeks += any("reporting_deadlineoutcomeweek" in query["sql"] for query in captured)
    assert read_weeks > 5, "too few periods read weeks"


def test_verify_finds_a_week_out_of_step_with_its_hours(marketer):
    """A weekly sum changed behind its trigger's back is drift `verify_counts` reports; the rebuild
    repairs it."""
    _history(9, marketer)
    week = DeadlineOutcomeWeek.objects.filter(on_time__gt=0).order_by("-week", "pk").first()
    DeadlineOutcomeWeek.objects.filter(pk=week.pk).update(on_time=week.on_time + 1)

    drifts = read_models_verify(days=40)

    assert {(d.table, d.key[0]) for d in drifts} == {("reporting_deadlineoutcomeweek", week.week)}
    outcomes_rebuild()
    assert read_models_verify(days=40) == []
