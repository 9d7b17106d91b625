"""The deadlines' read model: kept by a trigger as deadlines change, equal to a rebuild, and read by the
dashboard with the same result as counting the deadlines themselves."""

import datetime
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import UserFactory, around_the_clock
from enforcement.escalation import escalations_run
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Lead, RepProfile, SalesTeam
from people.roles import Role
from reporting.dashboard import Filters, Period, deadline_outcomes, decided_deadlines
from reporting.models import DeadlineOutcome
from reporting.outcomes import COUNTED, GRID, outcomes_rebuild
from reporting.tests.test_counts import _random_history
from sla.models import Deadline

pytestmark = pytest.mark.django_db
K = Deadline.Kind


def _snapshot() -> set[tuple]:
    rows = DeadlineOutcome.objects.exclude(on_time=0, late=0, recorded=0, by_escalation=0, late_by_escalation=0)
    return set(rows.values_list("hour", "kind", "campaign_id", "owner_id", *COUNTED))


def _history(seed: int, marketer) -> list:
    """A random history, then half the running clocks fall due an hour ago (a set-based UPDATE), the
    sweep records them (another), their escalations run (leads taken back and given away: claims the
    escalation makes, on time and late), some late claims are made after all, and more history follows."""
    rng = random.Random(seed)
    team = SalesTeam.objects.create(name="North", calendar=around_the_clock())
    reps = [UserFactory(role=Role.SALES) for _ in range(3)]
    RepProfile.objects.create(user=reps[0], team=team)
    _random_history(seed, marketer, reps)
    running = sorted(Deadline.objects.running().values_list("pk", flat=True))
    queued = sorted(Deadline.objects.running().filter(kind=K.CLAIM).values_list("pk", flat=True))
    now = timezone.now()
    Deadline.objects.filter(pk__in={*rng.sample(running, len(running) // 2), *queued[::2]}).update(
        starts_at=now - datetime.timedelta(hours=3), due_at=now - datetime.timedelta(hours=1)
    )
    sweep_deadlines()
    # Someone on shift for the escalation to give leads to.
    RepProfile.objects.update_or_create(user=reps[1], defaults={"team": team})
    SalesTeam.objects.filter(pk=team.pk).update(auto_assign=True)
    escalations_run(deadline_ids=list(Deadline.objects.filter(breached_at__isnull=False).values_list("pk", flat=True)))
    SalesTeam.objects.filter(pk=team.pk).update(auto_assign=False)  # the rest of the history claims by hand
    for lead in Lead.objects.filter(status=Lead.Status.HANDED_OFF).order_by("pk")[:3]:
        services.lead_claim(lead=lead, rep=rng.choice(reps))
    _random_history(seed + 100, marketer, reps)
    return reps


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_outcomes_kept_as_deadlines_change_equal_a_rebuild_from_the_deadlines(seed, marketer):
    """Whatever the history (claims, holds, returns, the sweep's bulk updates, late claims), the
    outcomes the trigger kept match a recount of every deadline."""
    _history(seed, marketer)
    incremental = _snapshot()
    assert incremental, "the history wrote no outcomes"
    assert any(row[5] for row in incremental) and any(row[6] for row in incremental), "nothing late or recorded"
    assert any(row[7] for row in incremental), "the escalation claimed nothing on time"
    assert any(row[8] for row in incremental), "the escalation rescued no late claim"

    outcomes_rebuild()

    assert _snapshot() == incremental


def test_the_rebuild_command_recounts_what_was_lost(marketer):
    _history(4, marketer)
    expected = _snapshot()
    DeadlineOutcome.objects.all().delete()

    call_command("rebuild_counts", stdout=StringIO())

    assert _snapshot() == expected


def _totals(rows) -> dict:
    totals: dict = {}
    for row in rows:
        key = (row["kind"], row["owner"], row["campaign"])
        sums = totals.setdefault(key, [0] * len(COUNTED))
        for i, name in enumerate(COUNTED):
            sums[i] += row[name]
    return {key: sums for key, sums in totals.items() if any(sums)}


@pytest.mark.parametrize("later", [datetime.timedelta(0), datetime.timedelta(minutes=30), datetime.timedelta(days=3)])
def test_the_dashboard_reads_what_counting_the_deadlines_gives(marketer, later):
    """Read now (only the running hour, counted from the deadlines), in half an hour, or three days on
    (the clocks still running then fell due in hours that have passed, read from the model), with a
    period starting at a part-hour: the read model plus the edges give the grid of the deadlines."""
    reps = _history(5, marketer)
    now = timezone.now() + later
    today = timezone.localdate(now)
    for filters in (
        Filters(period=Period("custom", today - datetime.timedelta(days=7), today + datetime.timedelta(days=7))),
        Filters(period=Period("custom", today - datetime.timedelta(days=7), today), rep=reps[1]),
    ):
        expected = decided_deadlines(filters, now=now).values("kind", "owner", "campaign").annotate(**GRID).order_by()
        assert _totals(expected), "nothing decided to compare"
        assert _totals(deadline_outcomes(filters, now=now, by=("kind", "owner", "campaign"))) == _totals(expected)
    part_hour = now - datetime.timedelta(hours=30, minutes=17)
    filters = Filters(period=Period("custom", today - datetime.timedelta(days=7), today))
    expected = decided_deadlines(filters, now=now, start=part_hour).values("kind", "owner", "campaign").annotate(**GRID)
    got = deadline_outcomes(filters, now=now, start=part_hour, by=("kind", "owner", "campaign"))
    assert _totals(got) == _totals(expected.order_by())
