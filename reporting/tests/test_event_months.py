"""The timeline's monthly sums (`EventMonthCount`): kept equal to the daily counts by their trigger, equal
to a rebuild, and read for the whole months of a period by `counts_grouped` with the same result as the
daily rows alone."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q, Sum

from conftest import CampaignFactory, LeadFactory, UserFactory
from leads.counts import counts_grouped, counts_rebuild
from leads.models import EventCount, EventMonthCount, LeadEvent, RepProfile, SalesTeam
from people.roles import Role
from reporting.tests.test_counts import _random_history

E = LeadEvent.Kind
KINDS = [E.CAPTURED, E.CLAIMED, E.CONTACTED, E.CONVERTED, E.RETURNED]
SETS = (("campaign",), ("user",), ("subgroup",))


def _months() -> set[tuple]:
    """The monthly sums as stored (slots added up, rows of zero left out)."""
    rows = (
        EventMonthCount.objects.values("month", "side", "kind", "subgroup", "campaign", "user")
        .annotate(value=Sum("value"), amount=Sum("amount"))
        .order_by()
    )
    return {tuple(row.values()) for row in rows if row["value"] or row["amount"]}


def _months_of_the_days() -> set[tuple]:
    """The monthly sums as the daily rows add up, per campaign and per person."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT date_trunc('month', day)::date, side, kind, subgroup,
                   CASE WHEN side = 'campaign' THEN campaign_id END, CASE WHEN side = 'user' THEN user_id END,
                   SUM(value), SUM(amount)
              FROM handoff_eventcount CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
             GROUP BY 1, 2, 3, 4, 5, 6
            HAVING SUM(value) <> 0 OR SUM(amount) <> 0""")
        return set(cursor.fetchall())


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
    kept = _months()
    assert kept, "the history wrote no monthly sums"
    assert kept == _months_of_the_days()

    counts_rebuild()

    assert _months() == kept


def test_the_monthly_sums_follow_every_write_of_the_daily_rows(marketer):
    """Inserts (one by one and in bulk), the timeline's upserts, and updates and deletes of daily rows."""
    _history_over_months(3, marketer)
    assert _months() == _months_of_the_days()

    EventCount.objects.filter(kind=E.CLAIMED).update(value=7)
    EventCount.objects.filter(kind=E.RETURNED).delete()

    assert _months() == _months_of_the_days()


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
