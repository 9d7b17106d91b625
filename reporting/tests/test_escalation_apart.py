"""Escalation is its own actor in every figure (issue 19, points 1-3): a claim an escalation made is shown
beside people's figures, never inside their on-time counts, times or acceptance; a requeue is not a new
hand-off from marketing; a claim deadline missed in the queue is the queue's, whoever takes the lead later."""

import datetime

import pytest
from django.utils import timezone

from campaigns.queries import acceptance_by_campaign
from enforcement.escalation import escalations_run
from enforcement.tests.test_escalation import breach, claimed_by, in_queue, team_of
from leads import services
from leads.models import CampaignMilestone, LeadEvent
from reporting.dashboard import Filters, Period, drill, sla_dashboard
from reporting.dashboard_tables import drill_table
from sla.models import Deadline, Handoff

pytestmark = pytest.mark.django_db
K = Deadline.Kind


def around_now() -> Filters:
    today = timezone.localdate()
    return Filters(period=Period("custom", today - datetime.timedelta(days=2), today + datetime.timedelta(days=1)))


def accepted_milestone(campaign) -> int:
    """The campaign page's "accepted": its leads that ever went from the queue to a rep by a person."""
    row = CampaignMilestone.objects.filter(campaign=campaign, milestone="accepted").first()
    return row.leads if row else 0


def rows_of(dashboard) -> dict:
    return {row.user: row for row in dashboard.reps}


def test_a_lead_the_escalation_took_back_and_gave_away_is_no_claim_of_anyones(
    marketer, rep, other_rep, manager, campaign
):
    """rep claims, misses the first contact; the escalation takes the lead back (a new pass, its own
    claim clock) and gives it to other_rep at once. That second claim took 0 minutes and was on time,
    but nobody made it: it is "claimed by escalation", outside the claims on time, the time to claim and
    acceptance, which stays over marketing's one hand-off."""
    team_of(rep, other_rep, manager=manager)
    lead = claimed_by(rep, campaign, marketer)
    Deadline.objects.filter(lead=lead, kind=K.CLAIM).update(business_seconds=1800)
    escalations_run(deadline_ids=[breach(lead, K.FIRST_CONTACT).pk])
    lead.refresh_from_db()
    assert lead.owner == other_rep

    passes = list(Handoff.objects.filter(lead=lead).order_by("pk").values_list("source", flat=True))
    assert passes == [Handoff.Source.HAND_OFF, Handoff.Source.ESCALATION]
    escalations_claim = Deadline.objects.filter(lead=lead, kind=K.CLAIM).latest("pk")
    assert (escalations_claim.met_by_escalation, escalations_claim.owner) == (True, None)

    d = sla_dashboard(filters=around_now(), now=timezone.now())

    assert (d.claims.on_time, d.claims.late, d.claims.by_escalation, d.claims.late_by_escalation) == (1, 0, 1, 0)
    assert d.claims.attainment == 100.0
    assert d.claims.median_seconds == 1800, "the escalation's 0-minute claim is nobody's time to claim"
    a = d.acceptance
    assert (a.handed_off, a.decided, a.claimed, a.kept, a.by_escalation) == (1, 1, 1, 1, 0)
    (figures,) = d.campaigns
    assert (figures.handed_off, figures.accepted) == (1, 1)
    monthly_check = acceptance_by_campaign(start=around_now().period.start, end=timezone.now())[campaign.pk]
    assert (monthly_check.handed_off, monthly_check.accepted) == (1, 1), "one hand-off, not two"
    assert accepted_milestone(campaign) == 1
    assert (rows_of(d)[other_rep].assigned_by_escalation, rows_of(d)[other_rep].assigned_automatically) == (1, 0)
    listed = drill("claims_by_escalation", filters=around_now(), now=timezone.now()).rows
    assert [deadline.pk for deadline in listed] == [escalations_claim.pk]


def test_a_claim_missed_in_the_queue_stays_the_queues_when_the_escalation_gives_the_lead_away(
    marketer, rep, manager, campaign
):
    """Nobody claimed in time; the escalation gives the lead to rep. The late claim is the queue's (the
    team's), rescued late by the escalation; marketing's hand-off was not accepted by anyone."""
    lead = in_queue(campaign, marketer)
    team_of(rep, manager=manager)
    deadline = breach(lead, K.CLAIM)
    escalations_run(deadline_ids=[deadline.pk])
    lead.refresh_from_db()
    assert lead.owner == rep
    deadline.refresh_from_db()
    assert (deadline.met_by_escalation, deadline.owner) == (True, None)

    d = sla_dashboard(filters=around_now(), now=timezone.now())

    assert (d.claims.on_time, d.claims.late, d.claims.by_escalation, d.claims.late_by_escalation) == (0, 1, 0, 1)
    assert d.claims.median_seconds is None
    people = rows_of(d)
    assert (people[None].claims.late, people[rep].claims.late, people[rep].assigned_by_escalation) == (1, 0, 1)
    a = d.acceptance
    assert (a.handed_off, a.decided, a.claimed, a.kept, a.by_escalation, a.kept_rate) == (1, 1, 0, 0, 1, 0.0)
    (figures,) = d.campaigns
    assert figures.accepted == 0
    listed = drill("acceptance_by_escalation", filters=around_now(), now=timezone.now()).rows
    assert [handoff.lead_id for handoff in listed] == [lead.pk]
    period = around_now().period
    monthly_check = acceptance_by_campaign(start=period.start, end=timezone.now())[campaign.pk]
    assert (monthly_check.handed_off, monthly_check.accepted) == (1, 0), "the monthly target check agrees"
    assert accepted_milestone(campaign) == 0, "nor does the campaign page"
    assert not drill("acceptance_claimed", filters=around_now(), now=timezone.now()).rows.exists()


def test_a_late_claim_a_manager_rescued_is_the_queues_and_says_who_rescued_it(marketer, rep, manager, campaign):
    """Definition 4: the claim fell due unclaimed; a manager then gives the lead to rep. The miss is the
    queue's, not rep's; the list of late claims says rep rescued it."""
    lead = in_queue(campaign, marketer)
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=K.CLAIM).update(
        starts_at=now - datetime.timedelta(hours=10), due_at=now - datetime.timedelta(hours=1)
    )
    services.lead_assign(lead=lead, rep=rep, actor=manager)

    d = sla_dashboard(filters=around_now(), now=timezone.now())

    people = rows_of(d)
    assert (people[None].claims.late, people[rep].claims.late, people[rep].assigned_by_manager) == (1, 0, 1)
    assert (d.claims.late, d.claims.late_by_escalation) == (1, 0)
    assert d.acceptance.claimed == 1, "a manager's assignment is a person's acceptance"
    rescued = drill("claims_late", filters=around_now(), now=timezone.now())
    (row,) = drill_table("claims_late", rescued.title, rescued.rows).rows
    assert "rescued late by" in row[4].text and row[5].text == "the queue"
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.ASSIGNED, data__has_key="escalation").count() == 0
