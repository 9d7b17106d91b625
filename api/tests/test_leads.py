"""Leads over the API: what each role lists, cursor pages, a lead with its timeline, capture, the
score, moves by name (403 for the wrong actor, 409 for the wrong state, 400 for bad input) and
assignment — all through the lead services."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign
from conftest import CampaignFactory, LeadFactory, UserFactory, advance
from leads.models import Lead, LeadEvent, RepProfile
from people.roles import Role

S = Lead.Status
LEADS = "/api/v1/leads/"


def moves_url(lead) -> str:
    return f"{LEADS}{lead.pk}/moves/"


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def leads(marketer, rep, other_rep, campaign):
    """A new lead, one waiting in the queue, one the rep claimed and one another rep claimed."""
    waiting = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
    mine = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    theirs = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=other_rep)
    return {"new": LeadFactory(campaign=campaign), "waiting": waiting, "mine": mine, "theirs": theirs}


def test_marketing_lists_every_lead_and_a_rep_the_queue_and_their_own(api_as, marketer, rep, leads):
    assert ids(api_as(marketer).get(LEADS)) == {lead.pk for lead in leads.values()}
    assert ids(api_as(rep).get(LEADS)) == {leads["waiting"].pk, leads["mine"].pk}


def test_the_list_filters_by_status_campaign_owner_and_search(api_as, manager, rep, leads, campaign):
    client = api_as(manager)
    assert ids(client.get(LEADS, {"status": S.CLAIMED})) == {leads["mine"].pk, leads["theirs"].pk}
    assert ids(client.get(LEADS, {"owner": rep.pk})) == {leads["mine"].pk}
    assert ids(client.get(LEADS, {"campaign": CampaignFactory().pk})) == set()
    assert ids(client.get(LEADS, {"search": leads["new"].email})) == {leads["new"].pk}


@pytest.mark.parametrize(
    "query,field",
    [
        ({"status": "won"}, "status"),
        ({"owner": "x"}, "owner"),
        ({"cursor": "forged"}, "cursor"),
        ({"order": "?"}, "order"),
    ],
)
def test_a_filter_not_understood_is_a_400_naming_it(api_as, marketer, query, field):
    response = api_as(marketer).get(LEADS, query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_cursor_pages_walk_every_lead_once_both_ways(api_as, marketer, campaign):
    made = {LeadFactory(campaign=campaign).pk for _ in range(57)}
    client, url = api_as(marketer), f"{LEADS}?order=oldest&page_size=50"
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body["next"]
    assert [len(page) for page in pages] == [50, 7]
    assert sorted(pages[0] + pages[1]) == sorted(made) == pages[0] + pages[1]  # oldest first, no repeats
    back = client.get(body["previous"]).json()
    assert [row["id"] for row in back["results"]] == pages[0]
    assert back["previous"] is None


def test_a_cursor_of_another_order_is_refused(api_as, marketer, campaign):
    for _ in range(51):
        LeadFactory(campaign=campaign)
    next_url = api_as(marketer).get(LEADS).json()["next"]
    response = api_as(marketer).get(next_url.replace("order=", "x=") + "&order=score")
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_the_list_costs_the_same_queries_for_a_page_of_2_or_40_leads(api_as, marketer, rep, campaign):
    def count(client) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LEADS)
        assert response.status_code == 200
        return len(response.json()["results"]), len(queries)

    advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
    clients = {"marketer": api_as(marketer), "rep": api_as(rep)}
    for client in clients.values():
        client.get(LEADS)  # the token's first use is noted (once a minute): not part of the page's cost
    few = {role: count(client) for role, client in clients.items()}
    for _ in range(19):
        # Each with a campaign and a rep of its own: nothing shared for the ORM to cache.
        advance(LeadFactory(campaign=CampaignFactory()), S.HANDED_OFF, marketer=marketer, rep=rep)
        advance(LeadFactory(campaign=CampaignFactory()), S.CLAIMED, marketer=marketer, rep=UserFactory(role=Role.SALES))
    many = {role: count(client) for role, client in clients.items()}
    assert {role: rows for role, (rows, _) in few.items()} == {"marketer": 2, "rep": 2}
    assert {role: rows for role, (rows, _) in many.items()} == {"marketer": 40, "rep": 21}
    assert {role: queries for role, (_, queries) in many.items()} == {role: q for role, (_, q) in few.items()}


def test_a_lead_reads_with_its_timeline_deadlines_deal_and_open_moves(api_as, marketer, rep, campaign):
    lead = advance(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=rep)
    body = api_as(rep).get(f"{LEADS}{lead.pk}/").json()
    assert body["status"] == S.CONVERTED
    assert body["deal"]["value"] == "1000.00"
    assert [event["kind"] for event in body["timeline"]][:2] == [LeadEvent.Kind.CONVERTED, LeadEvent.Kind.CONTACTED]
    assert {deadline["kind"]: deadline["state"] for deadline in body["deadlines"]} == {
        "claim": "met",
        "first_contact": "met",
    }
    assert body["moves"] == []


def test_the_timeline_pages_newest_first(api_as, marketer, rep, campaign):
    lead = LeadFactory(campaign=campaign)
    for n in range(55):
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ACTIVITY, note=f"call {n}")
    client = api_as(marketer)
    first = client.get(f"{LEADS}{lead.pk}/").json()
    assert len(first["timeline"]) == 50
    second = client.get(f"{LEADS}{lead.pk}/", {"before": first["timeline_older"]}).json()
    assert len(second["timeline"]) == 5
    assert second["timeline_older"] is None
    assert {e["id"] for e in first["timeline"]}.isdisjoint({e["id"] for e in second["timeline"]})


def test_an_unknown_lead_is_a_json_404(api_as, marketer):
    response = api_as(marketer).get(f"{LEADS}999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_capture_makes_a_lead_or_captures_an_address_again(api_as, marketer, campaign):
    client = api_as(marketer)
    body = {"campaign": campaign.pk, "full_name": "Ada Lovelace", "email": " ADA@Example.com ", "company": "Engines"}
    created = client.post(LEADS, body, format="json")
    assert created.status_code == 201
    assert created.json()["created"] is True
    lead = Lead.objects.get(pk=created.json()["lead"]["id"])
    assert lead.email == "ada@example.com" and lead.created_by == marketer
    again = client.post(LEADS, {**body, "email": "ada@example.com"}, format="json")
    assert again.status_code == 200
    assert again.json() == {**again.json(), "created": False}
    assert again.json()["lead"]["id"] == lead.pk
    assert Lead.objects.filter(email="ada@example.com").count() == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({"full_name": "Ada", "email": "not an address"}, "email"),
        ({"email": "ada@example.com"}, "full_name"),
        ({"full_name": "Ada", "email": "ada@example.com", "company_size": -1}, "company_size"),
        ({"full_name": "Ada", "email": "ada@example.com", "campaign": 0}, "campaign"),
    ],
)
def test_capture_names_each_bad_field(api_as, marketer, campaign, body, field):
    response = api_as(marketer).post(LEADS, {"campaign": campaign.pk, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_archived_campaign_takes_no_more_leads(api_as, marketer):
    archived = CampaignFactory(owner=marketer, status=Campaign.Status.ARCHIVED)
    body = {"campaign": archived.pk, "full_name": "Ada", "email": "ada@example.com"}
    response = api_as(marketer).post(LEADS, body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "campaign_archived"
    assert not Lead.objects.filter(email="ada@example.com").exists()


def test_marketing_sets_the_score_with_a_reason_and_nothing_else(api_as, marketer, campaign):
    lead = LeadFactory(campaign=campaign, score=10)
    client = api_as(marketer)
    response = client.patch(f"{LEADS}{lead.pk}/", {"score": 85, "reason": "Asked for pricing"}, format="json")
    assert response.status_code == 200
    assert response.json()["score"] == 85
    assert response.json()["status"] == S.MQL  # reached the threshold: qualified by the rules, not by us
    refused = client.patch(f"{LEADS}{lead.pk}/", {"status": "converted"}, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"score", "reason"}
    assert client.put(f"{LEADS}{lead.pk}/", {"score": 1}, format="json").status_code == 405


def test_moves_by_name_walk_a_lead_through_its_lifecycle(api_as, marketer, rep, campaign):
    lead = LeadFactory(campaign=campaign)
    mkt, sales = api_as(marketer), api_as(rep)
    steps = [
        (mkt, {"move": "qualify"}, S.MQL),
        (mkt, {"move": "hand_off", "note": "Wants a demo"}, S.HANDED_OFF),
        (sales, {"move": "claim"}, S.CLAIMED),
        (sales, {"move": "hold", "reason": "On holiday"}, S.ON_HOLD),
        (sales, {"move": "resume"}, S.CLAIMED),
        (sales, {"move": "first_contact", "note": "Called"}, S.CONTACTED),
        (sales, {"move": "convert", "value": "2500.00", "stage": "proposal"}, S.CONVERTED),
    ]
    for client, body, status in steps:
        response = client.post(moves_url(lead), body, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status
    lead.refresh_from_db()
    assert lead.owner == rep
    assert lead.deal.value == Decimal("2500.00") and lead.deal.stage == "proposal"
    assert LeadEvent.objects.filter(lead=lead, actor=rep, kind=LeadEvent.Kind.CLAIMED).exists()


def test_the_wrong_role_or_another_reps_lead_is_a_403_and_writes_nothing(api_as, marketer, rep, leads):
    cases = [
        (api_as(rep), leads["new"], {"move": "qualify"}),
        (api_as(marketer), leads["waiting"], {"move": "claim"}),
        (api_as(rep), leads["theirs"], {"move": "first_contact", "note": "Called"}),
    ]
    for client, lead, body in cases:
        before = LeadEvent.objects.filter(lead=lead).count()
        response = client.post(moves_url(lead), body, format="json")
        assert response.status_code == 403, body
        assert response.json()["error"]["code"] == "permission_denied"
        assert LeadEvent.objects.filter(lead=lead).count() == before


def test_a_move_the_state_does_not_allow_is_a_409(api_as, marketer, rep, leads):
    response = api_as(marketer).post(moves_url(leads["waiting"]), {"move": "qualify"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "refused",
        "message": "Only new leads can be qualified — this one is already in the sales queue.",
        "fields": {},
    }


def test_a_claim_another_rep_won_is_a_409_naming_them(api_as, other_rep, leads):
    response = api_as(other_rep).post(moves_url(leads["mine"]), {"move": "claim"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_claimed"
    assert "already claimed" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"move": "jump"}, "move"),
        ({"move": "return"}, "reason"),
        ({"move": "return", "reason": "Because I say so"}, "reason"),
        ({"move": "hold", "reason": "x" * 301}, "reason"),
        ({"move": "convert", "value": "-1"}, "value"),
        ({"move": "claim", "note": "hello"}, "note"),
        ({"move": "hold", "reason": "Budget", "expected_close_date": "9999-01-01"}, "expected_close_date"),
    ],
)
def test_bad_move_input_is_a_400_naming_the_field(api_as, rep, leads, body, field):
    response = api_as(rep).post(moves_url(leads["mine"]), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_return_takes_a_reason_from_the_managers_list(api_as, rep, leads):
    response = api_as(rep).post(
        moves_url(leads["mine"]), {"move": "return", "reason": "Not ready to buy"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == S.RETURNED


def test_a_manager_assigns_a_waiting_lead_to_a_rep(api_as, manager, rep, other_rep, leads):
    client = api_as(manager)
    response = client.post(f"{LEADS}{leads['waiting'].pk}/assignment/", {"rep": rep.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == rep.pk and response.json()["status"] == S.CLAIMED
    moved = client.post(f"{LEADS}{leads['waiting'].pk}/assignment/", {"rep": other_rep.pk}, format="json")
    assert moved.json()["owner"]["id"] == other_rep.pk
    again = client.post(f"{LEADS}{leads['waiting'].pk}/assignment/", {"rep": other_rep.pk}, format="json")
    assert again.status_code == 409
    not_a_rep = client.post(f"{LEADS}{leads['new'].pk}/assignment/", {"rep": manager.pk}, format="json")
    assert not_a_rep.status_code == 400
    assert "rep" in not_a_rep.json()["error"]["fields"]


def test_assignment_respects_the_reps_capacity(api_as, manager, marketer, campaign):
    full = UserFactory(role=Role.SALES)
    RepProfile.objects.update_or_create(user=full, defaults={"capacity": 0})
    waiting = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None)
    response = api_as(manager).post(f"{LEADS}{waiting.pk}/assignment/", {"rep": full.pk}, format="json")
    assert response.status_code == 409
    waiting.refresh_from_db()
    assert waiting.owner is None
