"""The timeline's monthly and weekly sums (`EventMonthCount`, `EventWeekCount`): kept equal to the daily
counts by their triggers, equal to a rebuild, and read for the whole months and weeks of a period by
`counts_grouped` with the same result as the daily rows alone."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q, Sum

from conftest import CampaignFactory, LeadFactory, UserFactory
from leads.counts import counts_grouped, counts_rebuild, plan_spans
from leads.models import EventCount, EventMonthCount, EventWeekCount, LeadEvent, RepProfile, SalesTeam
from people.roles import Role
from reporting.tests.test_counts import _random_history
from reporting.verify import read_models_verify

E = LeadEvent.Kind
KINDS = [E.CAPTURED, E.CLAIMED, E.CONTACTED, E.CONVERTED, E.RETURNED]
SETS = (("campaign",), ("user",), ("subgroup",))


def _stored(model, span: str) -> set[tuple]:
    """The sums of `model` (per month or per week) as stored (slots added up, rows of zero left out)."""
    rows = (
        model.objects.values(span, "side", "kind", "subgroup", "campaign", "user")
        .annotate(value=Sum("value"), amount=Sum("amount"))
        .order_by()
    )
    return {tuple(row.values()) for row in rows if row["value"] or row["amount"]}


def _months() -> set[tuple]:
    return _stored(EventMonthCount, "month")


def _weeks() -> set[tuple]:
    return _stored(EventWeekCount, "week")


def _of_the_days(start: str) -> set[tuple]:
    """The sums per span (whose first day `start` computes from a `day`) as the daily rows add up, per
    campaign and per person."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT {start}, side, kind, subgroup,
                   CASE WHEN side = 'campaign' THEN campaign_id END, CASE WHEN side = 'user' THEN user_id END,
                   SUM(value), SUM(amount)
              FROM handoff_eventcount CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
             GROUP BY 1, 2, 3, 4, 5, 6
            HAVING SUM(value) <> 0 OR SUM(amount) <> 0""")  # noqa: S608 - our own SQL
        return set(cursor.fetchall())


def _months_of_the_days() -> set[tuple]:
    return _of_the_days("date_trunc('month', day)::date")


def _weeks_of_the_days() -> set[tuple]:
    """Per week of the month: from the 1st, 8th, 15th, 22nd, 29th."""
    return _of_the_days("day - (EXTRACT(DAY FROM day)::int - 1) % 7")


def _history_over_months(seed: int, marketer) -> list:
    """Events of the dashboard's kinds on random days from August to December 2026, some in bulk."""
    rng = random.Random(seed)
    campaigns = [CampaignFactory(owner=marketer) for _ in range(3)]
    reps = [UserFactory(role=Role.SALES) for _ in range(3)]
    leads = [LeadFactory(campaign=rng.choice(campaigns)) for _ in range(12)]
    first = datetime(2026, 8, 1, tzinfo=UTC)
    events = []
    for _ in range(150):
        kind = rng.choice(KINDS)
        data = {"reason": rng.choice(["bad data", "timing"])} if kind == E.RETURNED else {}
        if kind == E.CONVERTED:
            data = {"value": str(rng.randint(100, 900))}
        events.append(
            LeadEvent(
                lead=rng.choice(leads),
                kind=kind,
                actor=rng.choice([*reps, None]),
                data=data,
                created_at=first + timedelta(hours=rng.randint(0, 24 * 140)),
            )
        )
    LeadEvent.objects.bulk_create(events[:100])
    for event in events[100:]:
        event.save()
    return campaigns


@pytest.mark.parametrize("seed", [1, 2])
def test_monthly_sums_kept_through_the_services_equal_a_rebuild(seed, marketer):
    """A history written through the services leaves the monthly sums equal to the daily rows' sums, and
    equal to what a rebuild from the timeline makes of them."""
    team = SalesTeam.objects.create(name="North")
    reps = [UserFactory(role=Role.SALES) for _ in range(3)]
    RepProfile.objects.create(user=reps[0], team=team)
    _random_history(seed, marketer, reps)
    kept, weeks = _months(), _weeks()
    assert kept, "the history wrote no monthly sums"
    assert kept == _months_of_the_days()
    assert weeks == _weeks_of_the_days()

    counts_rebuild()

    assert _months() == kept
    assert _weeks() == weeks


def test_the_monthly_sums_follow_every_write_of_the_daily_rows(marketer):
    """Inserts (one by one and in bulk), the timeline's upserts, and updates and deletes of daily rows."""
    _history_over_months(3, marketer)
    assert _months() == _months_of_the_days()

    assert _weeks() == _weeks_of_the_days()

    EventCount.objects.filter(kind=E.CLAIMED).update(value=7)
    EventCount.objects.filter(kind=E.RETURNED).delete()

    assert _months() == _months_of_the_days()
    assert _weeks() == _weeks_of_the_days()


def _daily_only(first_day: date, last_day: date, where: Q) -> list[dict]:
    """What `counts_grouped` answers, from the daily rows alone (the definition it must keep)."""
    rows = EventCount.objects.filter(kind__in=KINDS, day__gte=first_day, day__lte=last_day).filter(where)
    expected = []
    for name, column in (("campaign", "campaign"), ("user", "user"), ("subgroup", "subgroup")):
        for row in rows.values("kind", column).annotate(value=Sum("value"), amount=Sum("amount")).order_by():
            expected.append({"kind": row["kind"], name: row[column], "value": row["value"], "amount": row["amount"]})
    return expected


def _key(row: dict) -> tuple:
    return tuple(sorted((name, str(value.normalize() if name == "amount" else value)) for name, value in row.items()))


@pytest.mark.parametrize(
    ("first_day", "last_day"),
    [
        (date(2026, 10, 1), date(2026, 12, 31)),  # a quarter: whole months only
        (date(2026, 9, 8), date(2026, 12, 6)),  # 90 days: two whole months and edges
        (date(2026, 11, 1), date(2026, 11, 30)),  # a month
        (date(2026, 11, 3), date(2026, 11, 20)),  # no whole month: the days alone
        (date(2026, 8, 31), date(2026, 10, 1)),  # a day either side of a month
        (date(2026, 9, 10), date(2026, 12, 8)),  # 90 days: September less a week and two days
        (date(2026, 9, 19), date(2026, 10, 12)),  # no month chosen: weeks inside, weeks less a day
        (date(2026, 11, 29), date(2026, 12, 2)),  # a week of two days, across a month's end
    ],
)
def test_a_period_read_from_months_and_edge_days_equals_its_days(
    first_day, last_day, marketer, django_assert_num_queries
):
    campaigns = _history_over_months(4, marketer)
    for where in (Q(), Q(campaign=campaigns[0].pk), Q(campaign__channel=campaigns[1].channel)):
        with django_assert_num_queries(1):
            found = counts_grouped(KINDS, first_day=first_day, last_day=last_day, sets=SETS, where=where)

        assert sorted(map(_key, found)) == sorted(map(_key, _daily_only(first_day, last_day, where)))


def test_any_period_read_from_months_weeks_and_days_equals_its_days(marketer):
    """Random periods over the history (and past its last event): the plan of months, weeks of the month
    and days gives what the daily rows alone give, with and without a campaign filter."""
    campaigns = _history_over_months(5, marketer)
    rng = random.Random(5)
    read_weeks = 0
    for _ in range(40):
        first_day = date(2026, 7, 20) + timedelta(days=rng.randrange(160))
        last_day = first_day + timedelta(days=rng.choice([0, 1, 5, 12, 20, 33, 45, 70, 95]))
        read_weeks += bool(plan_spans(first_day, last_day, today=date.today()).weeks)
        for where in (Q(), Q(campaign=campaigns[0].pk)):
            found = counts_grouped(KINDS, first_day=first_day, last_day=last_day, sets=SETS, where=where)
            expected = _daily_only(first_day, last_day, where)
            assert sorted(map(_key, found)) == sorted(map(_key, expected)), (first_day, last_day, where)
    assert read_weeks > 10, "too few periods read weeks"


def test_a_set_read_for_fewer_kinds_gives_those_kinds_alone(marketer):
    """`only` narrows a set's kinds (the people's side of the dashboard reads three of five): the set
    answers exactly its kinds' sums, the others all theirs, over random periods, with and without a
    campaign filter (the people's set then read from the daily rows)."""
    campaigns = _history_over_months(4, marketer)
    people_kinds = [E.CLAIMED, E.CONVERTED]
    rng = random.Random(7)
    for _ in range(12):
        first_day = date(2026, 7, 20) + timedelta(days=rng.randrange(150))
        last_day = first_day + timedelta(days=rng.choice([3, 20, 45, 95]))
        for where in (Q(), Q(campaign=campaigns[0].pk)):
            found = counts_grouped(
                KINDS, first_day=first_day, last_day=last_day, sets=SETS, where=where, only={("user",): people_kinds}
            )
            expected = [
                row
                for row in _daily_only(first_day, last_day, where)
                if "user" not in row or row["kind"] in people_kinds
            ]
            assert sorted(map(_key, found)) == sorted(map(_key, expected)), (first_day, last_day, where)


def test_verify_finds_a_week_out_of_step_with_its_days(marketer):
    """A weekly sum changed behind its trigger's back is drift `verify_counts` reports; the rebuild
    repairs it."""
    _history_over_months(6, marketer)
    # Seen from a moment inside the history (fixed dates), whatever day the test runs: verify checks the
    # weeks from the first of the month 45 local days before it.
    now = datetime(2026, 12, 10, 12, tzinfo=UTC)
    checked_from = (now.date() - timedelta(days=45)).replace(day=1)
    week = EventWeekCount.objects.filter(week__gte=checked_from, value__gt=0).order_by("pk").first()
    EventWeekCount.objects.filter(pk=week.pk).update(value=week.value + 2)

    drifts = read_models_verify(days=45, now=now)

    assert {(d.table, d.key[:3]) for d in drifts} == {("leads_eventweekcount", (week.week, week.side, week.kind))}
    counts_rebuild()
    assert read_models_verify(days=45, now=now) == []
