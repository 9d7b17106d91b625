"""Before the breach: a claimed lead whose rep is away when its first contact falls due moves to a
rep on shift with room, or the team's manager is told, as the routing rules say."""

import datetime

import pytest
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.models import Lead, RepProfile, SalesTeam
from leads.tests.test_assignment import reps
from notifications.models import Notification
from routing.models import RoutingDecision, RuleSet, TimeOff
from routing.rebalance import rebalance_before_breach
from routing.services import rules_publish
from routing.tests.test_router import closed_now_opens_in_three_days
from routing.tests.test_rules import hand_off, rule, team
from sla.models import BusinessCalendar, Deadline, OpeningHours

pytestmark = pytest.mark.django_db


def claimed_by(rep, campaign, marketer) -> Lead:
    """A hot lead the rep claimed: its first contact due in 4 business hours (around the clock)."""
    SalesTeam.objects.update(auto_assign=False)
    lead = advance(LeadFactory(campaign=campaign, score=90), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    SalesTeam.objects.update(auto_assign=True)
    return lead


def contact_clock(lead) -> Deadline:
    return Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)


def test_a_lead_of_a_rep_gone_out_of_office_moves_before_its_first_contact_falls_due(manager, marketer, campaign):
    gone, there = reps(2)
    team("Inside sales", gone, there)
    rules_publish(actor=manager, rules=[], rebalance=RuleSet.Rebalance.MOVE)
    lead = claimed_by(gone, campaign, marketer)
    RepProfile.objects.filter(user=gone).update(is_away=True)

    assert rebalance_before_breach() == 1

    lead.refresh_from_db()
    assert (lead.owner, lead.status) == (there, Lead.Status.CLAIMED)
    assert contact_clock(lead).owner == there
    note = lead.events.filter(kind="assigned").latest("created_at").note
    assert "Moved before its first-contact deadline" in note and f"{gone.get_full_name()} is out of office" in note
    assert f"Passed over: {gone.get_full_name()} (holds it and can't make it)" in note
    assert RoutingDecision.objects.get(lead=lead, trigger="rebalance").chosen == there
    assert rebalance_before_breach() == 0  # nothing left at risk


def test_time_off_before_the_due_day_counts_too(manager, marketer, campaign):
    off, there = reps(2)
    team("Inside sales", off, there)
    rules_publish(actor=manager, rules=[], rebalance=RuleSet.Rebalance.MOVE)
    lead = claimed_by(off, campaign, marketer)
    today = timezone.now().date()
    TimeOff.objects.create(rep=off, starts_on=today, ends_on=today + datetime.timedelta(days=2), created_by=off)

    assert rebalance_before_breach() == 1
    lead.refresh_from_db()
    assert lead.owner == there


def test_propose_tells_the_team_manager_once_and_moves_nothing(manager, marketer, campaign):
    gone, there = reps(2)
    squad = team("Inside sales", gone, there)
    SalesTeam.objects.filter(pk=squad.pk).update(manager=manager)
    rules_publish(actor=manager, rules=[], rebalance=RuleSet.Rebalance.PROPOSE)
    lead = claimed_by(gone, campaign, marketer)
    RepProfile.objects.filter(user=gone).update(is_away=True)

    assert rebalance_before_breach() == 1
    assert rebalance_before_breach() == 0

    lead.refresh_from_db()
    assert lead.owner == gone
    told = Notification.objects.get(user=manager, key=f"rebalance:{contact_clock(lead).pk}")
    assert told.title == f"Move {lead.full_name} before its first contact falls due?"


@pytest.mark.parametrize("mode", [RuleSet.Rebalance.OFF, None])
def test_off_or_without_rules_nothing_moves(manager, marketer, campaign, mode):
    gone, there = reps(2)
    team("Inside sales", gone, there)
    if mode:
        rules_publish(actor=manager, rules=[], rebalance=mode)
    lead = claimed_by(gone, campaign, marketer)
    RepProfile.objects.filter(user=gone).update(is_away=True)

    assert rebalance_before_breach() == 0
    lead.refresh_from_db()
    assert lead.owner == gone


def test_a_clock_due_beyond_the_horizon_waits(manager, marketer, campaign):
    gone, there = reps(2)
    team("Inside sales", gone, there)
    rules_publish(actor=manager, rules=[], rebalance=RuleSet.Rebalance.MOVE)
    lead = claimed_by(gone, campaign, marketer)
    Deadline.objects.filter(pk=contact_clock(lead).pk).update(due_at=timezone.now() + datetime.timedelta(hours=20))
    RepProfile.objects.filter(user=gone).update(is_away=True)

    assert rebalance_before_breach() == 0


def test_time_off_that_ended_yesterday_or_starts_after_the_due_day_moves_nothing(manager, marketer, campaign):
    back, there = reps(2)
    team("Inside sales", back, there)
    rules_publish(actor=manager, rules=[], rebalance=RuleSet.Rebalance.MOVE)
    lead = claimed_by(back, campaign, marketer)
    today = timezone.now().date()
    TimeOff.objects.create(
        rep=back,
        starts_on=today - datetime.timedelta(days=5),
        ends_on=today - datetime.timedelta(days=1),
        created_by=back,
    )
    TimeOff.objects.create(
        rep=back,
        starts_on=today + datetime.timedelta(days=2),
        ends_on=today + datetime.timedelta(days=3),
        created_by=back,
    )

    assert rebalance_before_breach() == 0
    lead.refresh_from_db()
    assert lead.owner == back


class TestQueuedHotLeads:
    """A hot lead whose rule's team is closed waits in the queue while its claim clock runs (the
    default calendar is open): it moves to a rep on shift elsewhere before the claim falls due."""

    @pytest.fixture
    def closed_team_and_late_shift(self, manager):
        BusinessCalendar.default_create()
        default = BusinessCalendar.objects.get(is_default=True)
        default.opening_hours.all().delete()
        default.opening_hours.bulk_create(
            OpeningHours(calendar=default, weekday=day, opens=datetime.time.min, closes=datetime.time.max)
            for day in range(7)
        )
        closed_rep, late_rep = reps(2)
        closed = team("Closed now", closed_rep)
        SalesTeam.objects.filter(pk=closed.pk).update(calendar=closed_now_opens_in_three_days(), manager=manager)
        team("Late shift", late_rep)
        return closed, late_rep

    def publish(self, manager, closed, mode):
        rules_publish(actor=manager, rules=[rule("Everything to the closed team", closed)], rebalance=mode)

    def test_moves_it_to_a_rep_on_shift_before_the_claim_falls_due(
        self, manager, marketer, campaign, closed_team_and_late_shift
    ):
        closed, late_rep = closed_team_and_late_shift
        self.publish(manager, closed, RuleSet.Rebalance.MOVE)
        hot = hand_off(campaign, marketer, score=90)
        cold = hand_off(campaign, marketer, score=10)
        assert hot.owner is None and cold.owner is None

        assert rebalance_before_breach() == 1

        hot.refresh_from_db()
        cold.refresh_from_db()
        assert (hot.owner, cold.owner) == (late_rep, None)
        note = hot.events.get(kind="assigned").note
        assert note.startswith(f"Assigned to {late_rep.get_full_name()}. Moved before its claim deadline (due ")
        assert "In the queue, nobody on shift with room could take it" in note
        assert RoutingDecision.objects.filter(lead=hot).first().trigger == "rebalance"
        assert rebalance_before_breach() == 0

    def test_propose_tells_the_rules_team_manager_once(self, manager, marketer, campaign, closed_team_and_late_shift):
        closed, _ = closed_team_and_late_shift
        self.publish(manager, closed, RuleSet.Rebalance.PROPOSE)
        hot = hand_off(campaign, marketer, score=90)

        assert rebalance_before_breach() == 1
        assert rebalance_before_breach() == 0

        hot.refresh_from_db()
        assert hot.owner is None
        claim = Deadline.objects.get(lead=hot, kind=Deadline.Kind.CLAIM)
        told = Notification.objects.get(user=manager, key=f"rebalance:{claim.pk}")
        assert told.title == f"Move {hot.full_name} before its claim falls due?"
        assert "It waits in the queue: nobody on shift with room could take it" in told.body
