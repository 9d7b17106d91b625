"""Leads per campaign, owner and status: kept by the trigger as leads change, equal to a recount."""

import datetime
import random
from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from campaigns.capture import lead_merge
from conftest import ROUTES, CampaignFactory, LeadFactory, UserFactory, advance, move
from leads import services
from leads.deals import deal_move
from leads.models import (
    CampaignMilestone,
    CampaignMonthMqls,
    CampaignRevenue,
    CampaignTally,
    Deal,
    Lead,
    LeadEvent,
    LeadTally,
    RepProfile,
)
from leads.tally import lead_tally_rebuild
from people.roles import Role

pytestmark = pytest.mark.django_db
S = Lead.Status


def _tallies() -> set[tuple]:
    """The non-empty tallies (a rebuild writes no zero rows; the trigger may leave some)."""
    return set(LeadTally.objects.exclude(leads=0).values_list("campaign_id", "owner_id", "status", "leads"))


def _campaign_tallies() -> set[tuple]:
    """The campaigns' tallies, a key's slots summed (zero sums left out)."""
    rows = CampaignTally.objects.order_by().values("campaign_id", "status").annotate(n=Sum("leads")).exclude(n=0)
    return {(row["campaign_id"], row["status"], row["n"]) for row in rows}


def _milestones() -> set[tuple]:
    return set(CampaignMilestone.objects.exclude(leads=0).values_list("campaign_id", "milestone", "leads"))


def _months() -> set[tuple]:
    return set(CampaignMonthMqls.objects.exclude(leads=0).values_list("campaign_id", "day", "leads"))


def _revenue() -> set[tuple]:
    return set(
        CampaignRevenue.objects.exclude(won_deals=0, won_revenue=0).values_list(
            "campaign_id", "won_deals", "won_revenue"
        )
    )


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
        if lead.status == S.CONVERTED and rng.random() < 0.7:
            deal_move(
                deal=lead.deal, actor=rep, stage=rng.choice([Deal.Stage.WON, Deal.Stage.LOST]), lost_reason="Price"
            )
        if rng.random() < 0.3:  # qualified again some months later (or in the same month)
            when = timezone.now() + datetime.timedelta(days=rng.choice([0, 40, 400]))
            with mock.patch.object(timezone, "now", lambda when=when: when):
                if lead.status == S.RETURNED:
                    lead = move(lead, S.NEW, marketer=marketer, rep=rep)
                if lead.status == S.NEW:
                    lead = move(lead, S.MQL, marketer=marketer, rep=rep)
    Lead.objects.filter(status=S.NEW, campaign=campaigns[0]).update(campaign=campaigns[1])  # one statement, many rows
    won = advance(LeadFactory(campaign=campaigns[1]), S.CONTACTED, marketer=marketer, rep=reps[0])
    services.lead_convert(lead=won, actor=reps[0], value=Decimal("900"), stage=Deal.Stage.WON)
    Lead.objects.filter(status=S.CONVERTED, campaign=campaigns[1]).update(campaign=campaigns[0])  # their deals too
    Deal.objects.filter(lead=won).update(value=Decimal("2500.00"))
    LeadFactory(campaign=campaigns[0]).delete()
    lead_merge(
        duplicate=move(LeadFactory(campaign=campaigns[1]), S.MQL, marketer=marketer, rep=None),
        into=won,
        actor=marketer,
    )
    incremental, reached, months, revenue = _tallies(), _milestones(), _months(), _revenue()
    by_campaign = _campaign_tallies()
    assert incremental == _recount()
    assert by_campaign == {
        (row["campaign"], row["status"], row["n"])
        for row in Lead.objects.order_by().values("campaign", "status").annotate(n=Count("id"))
    }
    assert reached, "the history reached no milestone"
    assert months, "nobody was qualified"
    assert revenue, "no deal was won"

    lead_tally_rebuild()

    assert _tallies() == incremental
    assert _campaign_tallies() == by_campaign
    assert _milestones() == reached
    assert _months() == months
    assert _revenue() == revenue


def test_a_lead_counts_once_in_each_month_it_was_qualified_in(marketer, rep, campaign):
    """Qualified twice in March (Berlin) and once in April: one MQL in each month, on the first day it
    was qualified in the month; none after a merge."""
    lead = LeadFactory(campaign=campaign)
    march = datetime.datetime(2026, 3, 2, 12, tzinfo=datetime.UTC)
    april_in_berlin = datetime.datetime(2026, 3, 31, 22, 30, tzinfo=datetime.UTC)
    for when, to in ((march, S.RETURNED), (march + datetime.timedelta(days=20), S.RETURNED), (april_in_berlin, S.MQL)):
        with mock.patch.object(timezone, "now", lambda when=when: when):
            if lead.status == S.RETURNED:
                lead = move(lead, S.NEW, marketer=marketer, rep=rep)
            lead = advance(lead, to, marketer=marketer, rep=rep)

    def months():
        return dict(CampaignMonthMqls.objects.filter(campaign=campaign).exclude(leads=0).values_list("day", "leads"))

    assert months() == {datetime.date(2026, 3, 2): 1, datetime.date(2026, 4, 1): 1}

    lead_merge(duplicate=lead, into=LeadFactory(campaign=CampaignFactory(owner=marketer)), actor=marketer)

    assert months() == {}


def test_a_qualification_written_with_an_earlier_time_moves_the_leads_month_to_its_day(marketer, campaign):
    """Events are usually written in time order; one that is not (an import, a correction in SQL)
    still leaves the lead counted once in its month, on its first day."""
    with mock.patch.object(timezone, "now", lambda: datetime.datetime(2026, 3, 20, 12, tzinfo=datetime.UTC)):
        lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)
    assert _months() == {(campaign.pk, datetime.date(2026, 3, 20), 1)}
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.QUALIFIED, created_at=datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC)
    )
    incremental = _months()

    lead_tally_rebuild()

    assert incremental == _months() == {(campaign.pk, datetime.date(2026, 3, 5), 1)}


def test_won_deals_count_when_created_won_or_moved_to_won(marketer, rep, campaign):
    """Revenue follows the deals: a deal won at conversion, one moved to won, a correction in SQL."""

    def revenue():
        row = CampaignRevenue.objects.filter(campaign=campaign).first()
        return (row.won_deals, row.won_revenue) if row else (0, 0)

    won_at_once = advance(LeadFactory(campaign=campaign), S.CONTACTED, marketer=marketer, rep=rep)
    services.lead_convert(lead=won_at_once, actor=rep, value=Decimal("900"), stage=Deal.Stage.WON)
    later = advance(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=rep)
    assert revenue() == (1, Decimal("900"))

    deal = deal_move(deal=later.deal, actor=rep, stage=Deal.Stage.WON)
    assert revenue() == (2, Decimal("1900"))

    Deal.objects.filter(pk=deal.pk).update(stage=Deal.Stage.LOST, lost_reason="Entered by mistake")
    assert revenue() == (1, Decimal("900"))


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

    open_leads = {profile.user_id: profile.open_leads for profile in response.context["profiles"]}
    assert open_leads[reps[0].pk] == 1
    assert sorted(open_leads.values()) == [0, 1, 2, 2, 2]
