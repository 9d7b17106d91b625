"""Leads per campaign, owner and status: kept by the trigger as leads change, equal to a recount."""

import random

import pytest
from django.db.models import Count
from django.urls import reverse

from campaigns.capture import lead_merge
from conftest import ROUTES, CampaignFactory, LeadFactory, UserFactory, move
from handoff.roles import Role
from leads import services
from leads.models import CampaignMilestone, Lead, LeadTally, RepProfile
from leads.tally import lead_tally_rebuild

pytestmark = pytest.mark.django_db
S = Lead.Status


def _tallies() -> set[tuple]:
    """The non-empty tallies (a rebuild writes no zero rows; the trigger may leave some)."""
    return set(LeadTally.objects.exclude(leads=0).values_list("campaign_id", "owner_id", "status", "leads"))


def _milestones() -> set[tuple]:
    return set(CampaignMilestone.objects.exclude(leads=0).values_list("campaign_id", "milestone", "leads"))


def _recount() -> set[tuple]:
    return {
        (row["campaign"], row["owner"], row["status"], row["n"])
        for row in Lead.objects.order_by().values("campaign", "owner", "status").annotate(n=Count("id"))
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tallies_kept_as_leads_change_equal_a_rebuild_from_the_leads(seed, marketer, manager):
    """Random routes, reassignments, bulk updates and deletes: the trigger's tallies match a recount."""
    rng = random.Random(seed)
    reps = [UserFactory(role=Role.SALES) for _ in range(3)]
    campaigns = [CampaignFactory(owner=marketer), CampaignFactory(owner=marketer)]
    for _ in range(20):
        lead, rep = LeadFactory(campaign=rng.choice(campaigns)), rng.choice(reps)
        for step in ROUTES[rng.choice(list(ROUTES))]:
            lead = move(lead, step, marketer=marketer, rep=rep)
        if lead.status in Lead.WORKED_BY_SALES and rng.random() < 0.5:
            services.lead_assign(lead=lead, rep=rng.choice([r for r in reps if r != rep]), actor=manager)
    Lead.objects.filter(status=S.NEW, campaign=campaigns[0]).update(campaign=campaigns[1])  # one statement, many rows
    LeadFactory(campaign=campaigns[0]).delete()
    lead_merge(
        duplicate=move(LeadFactory(campaign=campaigns[1]), S.MQL, marketer=marketer, rep=None),
        into=lead,
        actor=marketer,
    )
    incremental, reached = _tallies(), _milestones()
    assert incremental == _recount()
    assert reached, "the history reached no milestone"

    lead_tally_rebuild()

    assert _tallies() == incremental
    assert _milestones() == reached


def test_a_lead_counts_once_per_milestone_and_not_once_merged_away(marketer, rep, campaign):
    """Qualified twice is one MQL; a returned lead merged into another no longer counts for its campaign."""
    lead = LeadFactory(campaign=campaign)
    for step in ROUTES[S.RETURNED]:
        lead = move(lead, step, marketer=marketer, rep=rep)
    lead = move(move(lead, S.NEW, marketer=marketer, rep=rep), S.MQL, marketer=marketer, rep=rep)

    def reached():
        return dict(CampaignMilestone.objects.filter(campaign=campaign).values_list("milestone", "leads"))

    assert reached() == {"qualified": 1, "handed_off": 1, "accepted": 1, "returned": 1}

    lead_merge(duplicate=lead, into=LeadFactory(campaign=CampaignFactory(owner=marketer)), actor=marketer)

    assert set(reached().values()) == {0}


def test_a_claim_moves_one_lead_from_the_queue_to_the_rep(marketer, rep, campaign):
    lead = LeadFactory(campaign=campaign)
    for step in ROUTES[S.HANDED_OFF]:
        lead = move(lead, step, marketer=marketer, rep=rep)
    assert LeadTally.objects.get(campaign=campaign, owner=None, status=S.HANDED_OFF).leads == 1

    services.lead_claim(lead=lead, rep=rep)

    assert LeadTally.objects.get(campaign=campaign, owner=None, status=S.HANDED_OFF).leads == 0
    assert LeadTally.objects.get(campaign=campaign, owner=rep, status=S.CLAIMED).leads == 1


def test_the_teams_page_reads_open_leads_from_the_tallies_in_constant_queries(
    client, manager, marketer, campaign, django_assert_max_num_queries
):
    """Each rep's open leads, whatever their number: the page's queries do not grow with reps or leads."""
    reps = [UserFactory(role=Role.SALES) for _ in range(2)]
    for rep in reps:
        RepProfile.objects.create(user=rep)
    lead = LeadFactory(campaign=campaign)
    for step in ROUTES[S.CLAIMED]:
        move(lead, step, marketer=marketer, rep=reps[0])
    client.force_login(manager)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("leads:teams"))

    for _ in range(3):
        rep = UserFactory(role=Role.SALES)
        RepProfile.objects.create(user=rep)
        for _ in range(2):
            lead = LeadFactory(campaign=campaign)
            for step in ROUTES[S.CONTACTED]:
                move(lead, step, marketer=marketer, rep=rep)
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("leads:teams"))

    open_leads = {profile.user_id: profile.open_leads for profile in response.context["unassigned"]}
    assert open_leads[reps[0].pk] == 1
    assert sorted(open_leads.values()) == [0, 1, 2, 2, 2]
