"""The acceptance's read model (`AcceptanceDay`): kept by the triggers on the hand-offs and the deadlines
as real services change them, equal to a rebuild and to a recount of the hand-offs, and read by the
dashboard with the same figures as counting the hand-offs themselves, whatever `now` is."""

import datetime
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reporting.acceptance import acceptance_rebuild
from reporting.dashboard import ACCEPTANCE_COUNTED, Filters, Period, _acceptance_counted, acceptance_rows
from reporting.models import AcceptanceDay
from reporting.tests.test_outcomes import _history
from sla.models import Deadline, Handoff

pytestmark = pytest.mark.django_db
COUNTED = ("handed_off", "closed", "claimed", "returned", "by_escalation")


def _stored() -> dict[tuple, tuple]:
    """The read model's rows, slots summed, rows of zeros left out."""
    sums: dict[tuple, Counter] = {}
    for row in AcceptanceDay.objects.values("day", "campaign_id", *COUNTED):
        sums.setdefault((row["day"], row["campaign_id"]), Counter()).update({name: row[name] for name in COUNTED})
    return {key: tuple(c[name] for name in COUNTED) for key, c in sums.items() if any(c.values())}


def _recount() -> dict[tuple, tuple]:
    """The same, counted in Python from every marketing hand-off and its claim clock."""
    zone = timezone.get_default_timezone()
    sums: dict[tuple, Counter] = {}
    claims = Deadline.objects.filter(kind=Deadline.Kind.CLAIM, handoff__source=Handoff.Source.HAND_OFF)
    for claim in claims.select_related("handoff"):
        handoff = claim.handoff
        by_people = claim.met_at is not None and not claim.met_by_escalation
        counted = sums.setdefault((timezone.localdate(handoff.handed_off_at, zone), handoff.campaign_id), Counter())
        counted["handed_off"] += 1
        counted["closed"] += claim.met_at is not None or claim.cancelled_at is not None
        counted["claimed"] += by_people
        counted["returned"] += by_people and handoff.outcome == Handoff.Outcome.RETURNED
        counted["by_escalation"] += claim.met_by_escalation
    return {key: tuple(c[name] for name in COUNTED) for key, c in sums.items() if any(c.values())}


@pytest.mark.parametrize("seed", [1, 2])
def test_acceptance_kept_as_services_run_equals_a_recount_and_a_rebuild(seed, marketer):
    """Hand-offs, claims, returns, the sweep's bulk updates and the escalation's claims: what the
    triggers kept is what counting the hand-offs gives, and what a rebuild writes."""
    _history(seed, marketer)
    kept = _stored()
    totals = [sum(values[i] for values in kept.values()) for i in range(len(COUNTED))]
    assert all(totals), f"the history left a figure at zero: {dict(zip(COUNTED, totals, strict=True))}"
    assert kept == _recount()

    acceptance_rebuild()

    assert _stored() == kept


def _summed(rows, by: str) -> dict:
    sums: dict = {}
    for row in rows:
        counted = sums.setdefault(row[by] if by in row else row["group"], Counter())
        counted.update({name: row[name] for name in ACCEPTANCE_COUNTED})
    return {key: counted for key, counted in sums.items() if any(counted.values())}


@pytest.mark.parametrize("hours", [-1, 0, 30, 24 * 40])
@pytest.mark.parametrize("by", ["campaign", "day"])
def test_the_dashboard_reads_the_days_with_the_figures_of_the_hand_offs_themselves(hours, by, marketer):
    """Before the hand-offs (nothing), in their day, a day later and a month later (the days from the
    read model, claim windows closed by time from the running clocks): the same figures as counting the
    hand-offs, in one query."""
    _history(3, marketer)
    now = timezone.now() + datetime.timedelta(hours=hours)
    if hours < 0:
        now = Handoff.objects.order_by("handed_off_at").first().handed_off_at + datetime.timedelta(seconds=1)
    zone = timezone.get_default_timezone()
    today = timezone.localdate(now, zone)
    for period in (
        Period.of("this_month", now=now),
        Period.of("custom", now=now, first_day=today - datetime.timedelta(days=45), last_day=today),
    ):
        filters = Filters(period=period)
        expected = _acceptance_counted(
            filters, start=period.start, end=min(period.end, now), closed_at=now, by=by, zone=zone
        ).order_by()

        with CaptureQueriesContext(connection) as captured:
            got = acceptance_rows(filters, now=now, by=by)

        assert _summed(got, by) == _summed(expected, by)
        assert len(captured) == 1
    assert _summed(expected, by) or hours < 0, "nothing handed off to compare"
