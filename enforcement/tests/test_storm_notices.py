"""Storms tell people once: past STORM_THRESHOLD breaches in STORM_WINDOW, one summary per person and
kind of deadline says how many, links to the list, is emailed once and grows as more come; every
breach stays on its lead's timeline, and an escalation telling the managers again tells nobody twice."""

import pytest

from conftest import LeadFactory, advance
from enforcement.notices import STORM_THRESHOLD, breach_notices_write
from enforcement.sweep import sweep_deadlines
from enforcement.tests.test_sweep import breach_events, hand_off, make_overdue
from enforcement.tests.told import breaches_told
from leads.models import Lead
from notifications.models import Notification
from notifications.tests.delivery import deliver
from sla.models import Deadline

pytestmark = pytest.mark.django_db


def overdue(campaign, marketer, count: int):
    return [make_overdue(hand_off(campaign, marketer)) for _ in range(count)]


def test_a_storm_folds_into_one_summary_emailed_once(
    marketer, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
):
    first = overdue(campaign, marketer, 25)

    with django_capture_on_commit_callbacks() as callbacks:
        assert sweep_deadlines() == 25
    deliver(callbacks)

    assert breaches_told(manager) == (STORM_THRESHOLD + 1, 25)
    summary = Notification.objects.get(user=manager, key__startswith="storm:")
    assert summary.count == 25 - STORM_THRESHOLD
    assert summary.title.startswith(f"SLA breaches: {25 - STORM_THRESHOLD} claim deadlines missed since ")
    assert summary.url.startswith("/dashboard/leads/?figure=claims_late&period=custom")
    assert len(mailoutbox) == STORM_THRESHOLD + 1  # ten single emails and the summary's, not 25
    assert all(breach_events(deadline.lead).count() == 1 for deadline in first)  # each on its timeline

    # More in the same window: the summary grows, and nobody is emailed again.
    more = overdue(campaign, marketer, 7)
    with django_capture_on_commit_callbacks() as callbacks:
        assert sweep_deadlines() == 7
    deliver(callbacks)

    summary.refresh_from_db()
    assert summary.count == 25 - STORM_THRESHOLD + 7
    assert summary.title.startswith(f"SLA breaches: {25 - STORM_THRESHOLD + 7} claim deadlines")
    assert len(mailoutbox) == STORM_THRESHOLD + 1
    assert breaches_told(manager) == (STORM_THRESHOLD + 1, 32)

    # An escalation step telling the managers again tells nobody twice, single or folded.
    told_now = breach_notices_write([(deadline.pk, manager.pk) for deadline in first + more])
    assert set(told_now.values()) == {0}
    assert breaches_told(manager) == (STORM_THRESHOLD + 1, 32)


def test_a_few_breaches_are_told_one_by_one(marketer, manager, campaign):
    overdue(campaign, marketer, STORM_THRESHOLD)
    sweep_deadlines()
    assert breaches_told(manager) == (STORM_THRESHOLD, STORM_THRESHOLD)
    assert not Notification.objects.filter(key__startswith="storm:").exists()


def test_a_rep_is_linked_to_their_own_list(marketer, rep, manager, campaign):
    """A rep's summary (their own first contacts missed) links to My leads, not the managers' dashboard."""
    for _ in range(STORM_THRESHOLD + 2):
        lead = advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
        make_overdue(lead, Deadline.Kind.FIRST_CONTACT)
    sweep_deadlines()

    summary = Notification.objects.get(user=rep, key__startswith="storm:")
    assert (summary.count, summary.url) == (2, "/leads/mine/")
    assert summary.title.startswith("SLA breaches: 2 first contact deadlines missed since ")
