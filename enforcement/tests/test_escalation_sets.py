"""Escalation steps run a set at a time: a storm's steps cost a few statements per set and kind, not
ten per step, and the round-robin spreads a set of leads over the reps as one lead after another would."""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enforcement.escalation import escalations_run
from enforcement.notices import STORM_THRESHOLD
from enforcement.tests.test_escalation import breach, in_queue, team_of
from enforcement.tests.told import breaches_told
from leads.models import Lead, LeadEvent
from notifications.models import Notification
from sla.models import Deadline, Escalation, EscalationStep

Step = EscalationStep


def storm(campaign, marketer, count: int) -> list[Deadline]:
    return [breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM) for _ in range(count)]


@pytest.mark.django_db
def test_a_set_of_steps_costs_the_same_statements_for_few_or_many(marketer, manager, campaign):
    """Claims missed in the queue with nobody to give them to: tell the managers, nothing to take
    back, nobody to reassign to. Running 4 or 40 deadlines' steps takes the same number of statements."""
    few, many = storm(campaign, marketer, 4), storm(campaign, marketer, 40)

    counts = []
    for deadlines in (few, many):
        with CaptureQueriesContext(connection) as queries:
            ran = escalations_run(deadline_ids=[deadline.pk for deadline in deadlines])
        assert ran == 3 * len(deadlines)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert not Escalation.objects.filter(done_at__isnull=True).exists()
    # Each step once, each with its own ESCALATED event naming it; the lead stays in the queue.
    events = Counter(LeadEvent.objects.filter(kind=LeadEvent.Kind.ESCALATED).values_list("data__escalation", flat=True))
    assert len(events) == 3 * 44 and set(events.values()) == {1}
    assert set(Lead.objects.values_list("status", flat=True)) == {Lead.Status.HANDED_OFF}
    outcomes = set(Escalation.objects.filter(step=Step.REASSIGN).values_list("outcome", flat=True))
    assert outcomes == {
        "The lead stays in the queue: no rep is available (capacity, out of office, automatic assignment)."
    }
    # The manager is told of each breach once, by whichever ran first: ten notices, then one summary.
    assert breaches_told(manager) == (STORM_THRESHOLD + 1, 44)
    # A second run, a redelivered message, changes nothing.
    assert escalations_run(deadline_ids=[deadline.pk for deadline in many]) == 0


@pytest.mark.django_db
def test_the_round_robin_spreads_a_set_over_the_reps_within_capacity(marketer, rep, other_rep, manager, campaign):
    """Five leads in the queue, two reps of an automatic team with room for two leads each: the reps
    take turns, the fifth lead stays in the queue, and each assignee is told once."""
    deadlines = storm(campaign, marketer, 5)
    team_of(rep, other_rep, manager=manager, capacity=2)

    escalations_run(deadline_ids=[deadline.pk for deadline in deadlines])

    owners = Counter(Lead.objects.filter(status=Lead.Status.CLAIMED).values_list("owner__username", flat=True))
    assert owners == {rep.username: 2, other_rep.username: 2}
    assert Lead.objects.filter(status=Lead.Status.HANDED_OFF).count() == 1
    assigned = Notification.objects.filter(kind=Notification.Kind.ASSIGNED)
    assert sorted(assigned.values_list("user__username", flat=True)) == sorted(
        [rep.username] * 2 + [other_rep.username] * 2
    )
    # The new owners' first-contact clocks run.
    assert Deadline.objects.running().filter(kind=Deadline.Kind.FIRST_CONTACT).count() == 4
