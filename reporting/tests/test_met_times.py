"""The met deadlines' business times per bucket (`MetTimeDay`, and `MetTimeMonth` summed from it): kept by
the deadlines' triggers as services and bulk updates change them, equal to a recount and a rebuild, and
the dashboard's percentiles read from them equal to PostgreSQL's percentile_cont over the deadlines
themselves, for any period and at any rank."""

import datetime
import math
import random
from collections import Counter

import pytest
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Value, When
from django.utils import timezone

from reporting.dashboard import (
    Filters,
    Percentile,
    Period,
    business_time_percentiles,
    decided_deadlines,
    sla_dashboard,
    sorted_percentiles,
)
from reporting.met_times import met_time_percentiles, met_times_rebuild
from reporting.models import MetTimeDay, MetTimeMonth
from reporting.tests.test_outcomes import _history
from reporting.verify import read_models_verify
from sla.models import Deadline

pytestmark = pytest.mark.django_db
K = Deadline.Kind


def _stored() -> dict[tuple, int]:
    """The read model's rows, slots summed, rows of zeros left out."""
    sums: Counter = Counter()
    for row in MetTimeDay.objects.values("day", "kind", "bucket", "deadlines"):
        sums[row["day"], row["kind"], row["bucket"]] += row["deadlines"]
    return {key: n for key, n in sums.items() if n}


def _stored_months() -> dict[tuple, int]:
    """`MetTimeMonth`'s rows, slots summed, rows of zeros left out."""
    sums: Counter = Counter()
    for row in MetTimeMonth.objects.values("month", "kind", "bucket", "deadlines"):
        sums[row["month"], row["kind"], row["bucket"]] += row["deadlines"]
    return {key: n for key, n in sums.items() if n}


def _months_of(days: dict[tuple, int]) -> dict[tuple, int]:
    """Daily counts summed per month."""
    sums: Counter = Counter()
    for (day, kind, bucket), n in days.items():
        sums[day.replace(day=1), kind, bucket] += n
    return {key: n for key, n in sums.items() if n}


def _recount() -> dict[tuple, int]:
    """The same, counted in Python from every deadline a person met with its business time set."""
    zone = timezone.get_default_timezone()
    sums: Counter = Counter()
    for deadline in Deadline.objects.filter(business_seconds__isnull=False, met_by_escalation=False):
        decided = min(moment for moment in (deadline.met_at, deadline.due_at) if moment is not None)
        bucket = math.floor(math.log(deadline.business_seconds + 1) * 12)
        sums[timezone.localdate(decided, zone), deadline.kind, bucket] += 1
    return dict(sums)


def _spread(seed: int) -> None:
    """The history's met deadlines moved back over ten weeks (some left today, some across a local
    midnight) with business times drawn from a skewed distribution, ties and zeros included: one
    statement a deadline, then one for many."""
    rng = random.Random(seed)
    met = list(Deadline.objects.filter(met_at__isnull=False).order_by("pk").values_list("pk", flat=True))
    assert len(met) > 20, "the history met too few deadlines"
    for pk in met:
        back = datetime.timedelta(minutes=rng.choice([0, 0, rng.randrange(70 * 24 * 60)]))
        seconds = rng.choice([0, 0, 1, 7, 59, 60, 3600, int(rng.lognormvariate(8, 2))])
        Deadline.objects.filter(pk=pk).update(
            met_at=F("met_at") - back,
            starts_at=F("starts_at") - back,
            due_at=F("due_at") - back,
            business_seconds=seconds,
        )
    # A set-based change of many at once: a tie of equal times, and some taken out of the count.
    tied = rng.sample(met, len(met) // 4)
    Deadline.objects.filter(pk__in=tied).update(
        business_seconds=Case(
            When(pk__in=tied[::3], then=Value(None)), default=Value(5400), output_field=IntegerField()
        )
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_as_deadlines_change_equal_a_recount_and_a_rebuild(seed, marketer):
    _history(seed, marketer)
    _spread(seed)
    kept = _stored()
    assert len({day for day, _, _ in kept}) > 5, "the times were not spread over days"
    assert kept == _recount()
    # The escalation's meets are nobody's time; a deadline deleted takes its count with it.
    escalated = Deadline.objects.filter(business_seconds__isnull=False, escalations__isnull=True).first()
    Deadline.objects.filter(pk=escalated.pk).update(met_by_escalation=True)
    assert _stored() == _recount() != kept
    # A deadline of another kind counts under it.
    kept = _stored()
    follow_up = Deadline.objects.filter(handoff=OuterRef("handoff"), kind=K.FOLLOW_UP)
    moved = (
        Deadline.objects.filter(business_seconds__isnull=False, met_by_escalation=False, kind=K.CLAIM)
        .exclude(Exists(follow_up))
        .first()
    )
    Deadline.objects.filter(pk=moved.pk).update(kind=K.FOLLOW_UP)
    assert _stored() == _recount() != kept
    Deadline.objects.filter(pk=escalated.pk).delete()
    assert _stored() == _recount()
    kept = _stored()
    assert len({month for month, _, _ in _stored_months()}) > 1, "the times fell in one month"
    assert _stored_months() == _months_of(kept)

    met_times_rebuild()

    assert _stored() == kept
    assert _stored_months() == _months_of(kept)
    assert read_models_verify(days=80) == []


def test_verify_finds_a_month_out_of_step_with_its_days(marketer):
    """A month's row changed behind the trigger's back (by hand, a restore) is drift `verify_counts`
    reports; the rebuild repairs it."""
    _history(9, marketer)
    _spread(9)
    row = MetTimeMonth.objects.filter(deadlines__gt=0).order_by("-month").first()
    MetTimeMonth.objects.filter(pk=row.pk).update(deadlines=F("deadlines") + 3)

    drifts = read_models_verify(days=80)

    assert [(d.table, d.key) for d in drifts] == [("reporting_mettimemonth", (row.month, row.kind, row.bucket))]
    met_times_rebuild()
    assert read_models_verify(days=80) == []


@pytest.mark.parametrize("seed", [3, 4])
def test_the_percentiles_equal_percentile_cont_for_any_period(seed, marketer):
    _history(seed, marketer)
    _spread(seed)
    now = timezone.now()
    today = timezone.localdate(now)
    periods = [Period.of(name, now=now) for name in ("this_month", "last_month", "this_quarter")] + [
        Period.of("custom", now=now, first_day=today - datetime.timedelta(days=back), last_day=today - last)
        for back, last in [
            (90, datetime.timedelta(0)),
            (30, datetime.timedelta(days=1)),
            (3, datetime.timedelta(0)),
            (0, datetime.timedelta(0)),
            (60, datetime.timedelta(days=20)),
        ]
    ]
    compared = 0
    for period in periods:
        filters = Filters(period=period)
        exact = sorted_percentiles(filters, now=now)
        counted = met_time_percentiles(
            start=period.start, end=min(period.end, now), kinds=tuple(K.values), fractions=(0.5, 0.9)
        )
        assert counted == exact, period
        assert business_time_percentiles(filters, now=now) == exact, period
        compared += len(exact)
    assert compared > 10, "too few percentiles compared"
    # Every rank of one kind over the whole span: each place in each bucket, and both sides of a bucket's edge.
    period = Period.of("custom", now=now, first_day=today - datetime.timedelta(days=80), last_day=today)
    fractions = tuple(i / 40 for i in range(41))
    found = met_time_percentiles(start=period.start, end=now, kinds=(K.CLAIM,), fractions=fractions)
    claims = decided_deadlines(Filters(period=period), now=now, measured=True).filter(kind=K.CLAIM)
    for fraction, value in zip(fractions, found[K.CLAIM], strict=True):
        assert value == claims.aggregate(p=Percentile("business_seconds", fraction))["p"], fraction


def test_one_deadline_and_none(marketer):
    """One met deadline is its own median and 90th percentile; a period without any has none."""
    _history(5, marketer)
    now = timezone.now()
    measured = Deadline.objects.filter(business_seconds__isnull=False, met_by_escalation=False)
    measured.exclude(pk=measured.filter(kind=K.CLAIM).order_by("pk").values("pk")[:1]).update(business_seconds=None)
    (only,) = measured
    today = timezone.localdate(now)
    filters = Filters(period=Period.of("custom", now=now, first_day=today - datetime.timedelta(days=1), last_day=today))
    assert business_time_percentiles(filters, now=now) == {K.CLAIM: (only.business_seconds,) * 2}
    empty = Filters(
        period=Period.of("custom", now=now, first_day=datetime.date(2020, 1, 1), last_day=datetime.date(2020, 1, 31))
    )
    assert business_time_percentiles(empty, now=now) == {}


def test_a_filter_sorts_the_deadlines_it_keeps(marketer):
    """The read model has no rep or campaign: with a filter the figures are sorted from the deadlines
    the filter keeps, and the dashboard shows them."""
    reps = _history(6, marketer)
    _spread(6)
    now = timezone.now()
    period = Period.of("this_quarter", now=now)
    filters = Filters(period=period, rep=reps[0])
    exact = sorted_percentiles(filters, now=now)
    assert exact and exact != sorted_percentiles(Filters(period=period), now=now)
    d = sla_dashboard(filters=filters, now=now)
    assert (d.claims.median_seconds, d.claims.p90_seconds) == exact.get(K.CLAIM, (None, None))


def test_a_bucket_holding_fewer_than_counted_falls_back_to_sorting(marketer):
    """Should the two reads disagree (a change between them outside the dashboard's snapshot, or drift),
    a rank asked past a bucket's end finds nothing: the figures are then sorted, never a crash."""
    _history(7, marketer)
    _spread(7)
    now = timezone.now()
    today = timezone.localdate(now)
    period = Period.of("custom", now=now, first_day=today - datetime.timedelta(days=30), last_day=today)
    filters = Filters(period=period)
    exact = sorted_percentiles(filters, now=now)
    # Counts the deadlines do not hold: every rank of the claims falls in a bucket with none of them.
    MetTimeDay.objects.create(day=period.first_day, kind=K.CLAIM, bucket=400, deadlines=10_000)

    assert met_time_percentiles(start=period.start, end=now, kinds=(K.CLAIM,), fractions=(0.5, 0.9)) is None
    assert business_time_percentiles(filters, now=now) == exact


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_reads_in_one_snapshot_of_its_own(marketer, client, manager):
    """Outside any transaction (as in a request) the figures open theirs as REPEATABLE READ, first
    thing: PostgreSQL refuses SET TRANSACTION after a query, so this fails if anything comes before it."""
    _history(8, marketer)
    _spread(8)
    now = timezone.now()
    filters = Filters(period=Period.of("this_quarter", now=now))
    d = sla_dashboard(filters=filters, now=now)
    assert (d.claims.median_seconds, d.claims.p90_seconds) == sorted_percentiles(filters, now=now)[K.CLAIM]
    client.force_login(manager)
    assert client.get("/dashboard/?period=this_quarter").status_code == 200
