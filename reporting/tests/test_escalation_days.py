"""The escalations caused's read model (`EscalationDay`): kept by the triggers on the steps and the deadlines
as real services change them, equal to a rebuild and to a recount of the steps, and read by the dashboard
with the same figures as counting the steps themselves."""

import datetime
from collections import Counter

import pytest
from django.db.models import Count, F
from django.utils import timezone

from reporting.dashboard import Filters, Period, escalation_steps, escalations_caused
from reporting.escalations import escalations_rebuild
from reporting.models import EscalationDay
from reporting.tests.test_outcomes import _history
from sla.models import Deadline, Escalation

pytestmark = pytest.mark.django_db


def _stored() -> dict[tuple, int]:
    """The read model's rows, slots summed, rows of zeros left out."""
    sums: Counter = Counter()
    for row in EscalationDay.objects.values("day", "kind", "owner_id", "campaign_id", "escalations"):
        sums[row["day"], row["kind"], row["owner_id"], row["campaign_id"]] += row["escalations"]
    return {key: n for key, n in sums.items() if n}


def _recount() -> dict[tuple, int]:
    """The same, counted in Python from every step done for a breached sales deadline."""
    zone = timezone.get_default_timezone()
    sums: Counter = Counter()
    steps = Escalation.objects.filter(done_at__isnull=False).select_related("deadline")
    for step in steps:
        deadline = step.deadline
        if deadline.breached_at is not None and deadline.kind in Deadline.SALES_KINDS:
            day = timezone.localdate(deadline.due_at, zone)
            sums[day, deadline.kind, deadline.owner_id, deadline.campaign_id] += 1
    return dict(sums)


@pytest.mark.parametrize("seed", [1, 2])
def test_escalations_kept_as_services_run_equal_a_recount_and_a_rebuild(seed, marketer):
    """The sweep's breaches and their escalations run (leads taken back and given away), more history,
    then breached deadlines handed to someone else and moved a day: what the triggers kept is what
    counting the steps gives, and what a rebuild writes."""
    reps = _history(seed, marketer)
    kept = _stored()
    assert sum(kept.values()) > 0, "the history ran no escalation step"
    assert kept == _recount()

    breached = Deadline.objects.filter(breached_at__isnull=False, escalations__done_at__isnull=False).distinct()
    moved = list(breached.values_list("pk", flat=True)[:3])
    Deadline.objects.filter(pk__in=moved).update(
        owner=reps[2],
        starts_at=F("starts_at") - datetime.timedelta(days=1),
        due_at=F("due_at") - datetime.timedelta(days=1),
    )
    assert _stored() != kept, "the deadlines' change moved nothing"
    kept = _stored()
    assert kept == _recount()

    escalations_rebuild()

    assert _stored() == kept


def test_the_dashboard_reads_the_days_with_the_figures_of_the_steps_themselves(marketer):
    """Per (kind, owner, campaign), this month and a range around it: the read model's sums are the
    steps `escalation_steps` lists, counted."""
    _history(3, marketer)
    now = timezone.now()
    today = timezone.localdate(now)
    counted = []
    for period in (
        Period.of("custom", now=now, first_day=today - datetime.timedelta(days=40), last_day=today),
        Period.of("this_month", now=now),
        Period.of(
            "custom",
            now=now,
            first_day=today - datetime.timedelta(days=40),
            last_day=today - datetime.timedelta(days=1),
        ),
    ):
        filters = Filters(period=period)
        listed = (
            escalation_steps(filters, now=now)
            .values(kind=F("deadline__kind"), owner=F("deadline__owner"), campaign=F("deadline__campaign"))
            .annotate(escalations=Count("id"))
            .order_by()
        )
        expected = sorted(tuple(row.values()) for row in listed)
        assert sorted(tuple(row.values()) for row in escalations_caused(filters, now=now)) == expected
        counted.append(sum(row[3] for row in expected))
    assert counted[0] > 0, "no step in the range that holds the history"
