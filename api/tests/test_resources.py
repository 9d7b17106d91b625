"""Campaigns, deadlines and deals over the API: who sees what, writes through the pages' rules, and
lists whose queries do not grow with their rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign
from conftest import CampaignFactory, LeadFactory, UserFactory, advance
from leads.models import Deal, Lead, LeadEvent
from people.roles import Role

S = Lead.Status


def queries_for(client, url) -> tuple[int, int]:
    """(rows on the page, queries) of one GET, after a first one that notes the token's use."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(response.json()["results"]), len(queries)


def assert_flat(client, url, make_one, *, few: int, many: int, rows_each: int = 1) -> None:
    """The list at `url` shows few, then many rows (`make_one` adds `rows_each`) for the same queries."""
    for _ in range(few):
        make_one()
    small = queries_for(client, url)
    for _ in range(many - few):
        make_one()
    large = queries_for(client, url)
    assert (small[0], large[0]) == (few * rows_each, many * rows_each)
    assert large[1] == small[1]


# --- Campaigns -------------------------------------------------------------------------------
def test_a_marketer_creates_a_campaign_of_their_own(api_as, marketer):
    body = {
        "name": "Spring launch",
        "channel": "email",
        "start_date": "2027-03-01",
        "budget": "900",
    }
    response = api_as(marketer).post("/api/v1/campaigns/", body, format="json")
    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert campaign.owner == marketer and campaign.name == "Spring launch"
    assert campaign.status == Campaign.Status.PLANNED and campaign.actual_spend == 0  # the defaults, as on the page
    assert response.json()["owner"]["id"] == marketer.pk and response.json()["lead_count"] == 0


@pytest.mark.parametrize(
    "change,field",
    [
        ({"end_date": "2000-01-01"}, "end_date"),  # before the start
        ({"start_date": "9999-01-01"}, "start_date"),
        ({"budget": "-5"}, "budget"),
        ({"status": "archived"}, "status"),  # archiving is its own action, as on the page
    ],
)
def test_a_campaign_change_obeys_the_forms_rules(api_as, marketer, campaign, change, field):
    response = api_as(marketer).patch(f"/api/v1/campaigns/{campaign.pk}/", change, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_campaign_update_changes_only_what_is_sent(api_as, manager, campaign):
    response = api_as(manager).patch(f"/api/v1/campaigns/{campaign.pk}/", {"actual_spend": "1200.50"}, format="json")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert str(campaign.actual_spend) == "1200.50" and campaign.name == response.json()["name"]


def test_archived_campaigns_are_listed_only_when_asked(api_as, marketer, campaign):
    archived = CampaignFactory(owner=marketer, status=Campaign.Status.ARCHIVED)
    client = api_as(marketer)
    assert {row["id"] for row in client.get("/api/v1/campaigns/").json()["results"]} == {campaign.pk}
    listed = client.get("/api/v1/campaigns/", {"status": "any"}).json()["results"]
    assert {row["id"] for row in listed} == {campaign.pk, archived.pk}


def test_the_campaign_list_costs_the_same_for_2_or_30_campaigns(api_as, marketer):
    assert_flat(api_as(marketer), "/api/v1/campaigns/", lambda: LeadFactory(campaign=CampaignFactory()), few=2, many=30)


# --- Deadlines -------------------------------------------------------------------------------
def test_deadlines_a_rep_sees_are_their_own_and_a_manager_sees_all(api_as, marketer, rep, other_rep, manager, campaign):
    mine = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    theirs = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=other_rep)
    rows = api_as(rep).get("/api/v1/deadlines/").json()["results"]
    assert {row["lead"] for row in rows} == {mine.pk}
    running = api_as(manager).get("/api/v1/deadlines/", {"state": "running", "kind": "first_contact"}).json()
    assert {row["lead"] for row in running["results"]} == {mine.pk, theirs.pk}
    by_lead = api_as(manager).get("/api/v1/deadlines/", {"lead": theirs.pk}).json()["results"]
    assert {(row["kind"], row["state"]) for row in by_lead} == {("claim", "met"), ("first_contact", "running")}


def claimed_by_a_new_rep(marketer, campaign, status=S.CLAIMED) -> Lead:
    """A lead of its own rep (each row a different owner: nothing shared for the ORM to reuse)."""
    return advance(LeadFactory(campaign=campaign), status, marketer=marketer, rep=UserFactory(role=Role.SALES))


def test_the_deadline_list_costs_the_same_for_2_or_30_deadlines(api_as, marketer, manager, campaign):
    assert_flat(
        api_as(manager),
        "/api/v1/deadlines/",
        lambda: claimed_by_a_new_rep(marketer, campaign),
        few=1,
        many=15,
        rows_each=2,
    )


# --- Deals -----------------------------------------------------------------------------------
@pytest.fixture
def deal(marketer, rep, campaign) -> Deal:
    return advance(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=rep).deal


def test_a_rep_lists_their_deals_and_a_manager_everyones(api_as, marketer, rep, other_rep, manager, campaign, deal):
    theirs = advance(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=other_rep).deal
    assert {row["id"] for row in api_as(rep).get("/api/v1/deals/").json()["results"]} == {deal.pk}
    assert {row["id"] for row in api_as(manager).get("/api/v1/deals/").json()["results"]} == {deal.pk, theirs.pk}
    assert api_as(rep).get(f"/api/v1/deals/{theirs.pk}/").status_code == 404


def test_the_deal_list_costs_the_same_for_2_or_20_deals(api_as, marketer, manager, campaign):
    assert_flat(
        api_as(manager), "/api/v1/deals/", lambda: claimed_by_a_new_rep(marketer, campaign, S.CONVERTED), few=2, many=20
    )


def test_a_deal_moves_stage_through_the_deal_service(api_as, rep, deal):
    client = api_as(rep)
    response = client.post(f"/api/v1/deals/{deal.pk}/stage/", {"stage": "won"}, format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == "won" and response.json()["closed_at"]
    assert LeadEvent.objects.filter(lead=deal.lead, kind=LeadEvent.Kind.DEAL_STAGE, actor=rep).exists()
    closed = client.post(f"/api/v1/deals/{deal.pk}/stage/", {"stage": "proposal"}, format="json")
    assert closed.status_code == 409


def test_a_lost_deal_needs_a_reason(api_as, rep, deal):
    response = api_as(rep).post(f"/api/v1/deals/{deal.pk}/stage/", {"stage": "lost"}, format="json")
    assert response.status_code == 400
    assert "lost_reason" in response.json()["error"]["fields"]
    deal.refresh_from_db()
    assert deal.stage == Deal.Stage.QUALIFIED
