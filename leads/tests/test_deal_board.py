"""Working a deal after conversion: its value and close date change, activities go on while it is
open, and sales sees open deals on a board by stage."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import LeadFactory, advance
from leads.activities import activity_log
from leads.deals import deal_edit, deal_move
from leads.models import Activity, Deal, Lead, LeadEvent
from leads.transitions import TransitionError

pytestmark = pytest.mark.django_db
Stage = Deal.Stage


def convert(campaign, marketer, rep, **lead_fields) -> Deal:
    lead = advance(LeadFactory(campaign=campaign, **lead_fields), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    return Deal.objects.get(lead=lead)


def test_an_open_deal_takes_a_new_value_and_close_date_with_a_timeline_event(campaign, marketer, rep):
    deal = convert(campaign, marketer, rep)
    deal_edit(deal=deal, actor=rep, value=Decimal("2500.00"), expected_close_date=datetime.date(2026, 12, 20))

    deal.refresh_from_db()
    assert (deal.value, deal.expected_close_date) == (Decimal("2500.00"), datetime.date(2026, 12, 20))
    event = deal.lead.events.get(kind=LeadEvent.Kind.DEAL_UPDATED)
    assert event.actor == rep
    assert event.data == {"value": ["1000.00", "2500.00"], "expected_close_date": [None, "2026-12-20"]}


def test_an_unchanged_deal_writes_no_event(campaign, marketer, rep):
    deal = convert(campaign, marketer, rep)
    deal_edit(deal=deal, actor=rep, value=deal.value, expected_close_date=None)
    assert not deal.lead.events.filter(kind=LeadEvent.Kind.DEAL_UPDATED).exists()


def test_a_closed_deal_or_another_rep_cannot_change_it(campaign, marketer, rep, other_rep):
    deal = convert(campaign, marketer, rep)
    with pytest.raises(TransitionError, match="owns this deal"):
        deal_edit(deal=deal, actor=other_rep, value=Decimal(5), expected_close_date=None)
    deal_move(deal=deal, actor=rep, stage=Stage.WON)
    with pytest.raises(TransitionError, match="closed deal"):
        deal_edit(deal=deal, actor=rep, value=Decimal(5), expected_close_date=None)
    deal.refresh_from_db()
    assert deal.value == Decimal("1000.00")


def test_the_deal_form_on_the_lead_page_saves(client, campaign, marketer, rep):
    deal = convert(campaign, marketer, rep)
    client.force_login(rep)
    page = client.get(deal.lead.get_absolute_url()).text
    assert reverse("leads:deal_edit", args=[deal.lead_id]) in page
    response = client.post(
        reverse("leads:deal_edit", args=[deal.lead_id]), {"value": "1800", "expected_close_date": "2027-01-31"}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.value, deal.expected_close_date) == (Decimal("1800.00"), datetime.date(2027, 1, 31))


def test_activities_go_on_while_the_deal_is_open_and_stop_when_it_closes(client, campaign, marketer, rep):
    deal = convert(campaign, marketer, rep)
    activity_log(lead=deal.lead, rep=rep, kind=Activity.Kind.MEETING, outcome="Demo to the board")
    client.force_login(rep)
    assert "Log activity" in client.get(deal.lead.get_absolute_url()).text

    deal_move(deal=deal, actor=rep, stage=Stage.WON)
    with pytest.raises(TransitionError, match="open"):
        activity_log(lead=deal.lead, rep=rep, kind=Activity.Kind.CALL)
    page = client.get(deal.lead.get_absolute_url()).text
    assert f'action="{reverse("leads:log_activity", args=[deal.lead_id])}"' not in page


def test_the_board_shows_a_reps_deals_by_stage_with_totals(
    client, campaign, marketer, rep, other_rep, django_assert_max_num_queries
):
    qualified = convert(campaign, marketer, rep, full_name="Quinn Qualified")
    proposal = convert(campaign, marketer, rep, full_name="Polly Proposal")
    deal_move(deal=proposal, actor=rep, stage=Stage.PROPOSAL)
    won = convert(campaign, marketer, rep, full_name="Winnie Won")
    deal_move(deal=won, actor=rep, stage=Stage.WON)
    convert(campaign, marketer, other_rep, full_name="Somebody Else")
    client.force_login(rep)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("leads:deals"))

    columns = {stage.value: [deal.lead.full_name for deal in deals] for stage, deals, _ in response.context["columns"]}
    assert columns == {
        "qualified": ["Quinn Qualified"],
        "proposal": ["Polly Proposal"],
        "negotiation": [],
        "won": ["Winnie Won"],
        "lost": [],
    }
    totals = {stage.value: total for stage, _, total in response.context["columns"]}
    assert totals["qualified"] == {"count": 1, "value": Decimal("1000.00")}
    assert totals["won"] == {"count": 1, "value": Decimal("1000.00")}
    assert "€1,000.00" in response.text
    assert qualified.lead.full_name in response.text


def test_a_manager_sees_everyones_open_deals(client, campaign, marketer, rep, other_rep, manager):
    convert(campaign, marketer, rep, full_name="Quinn Qualified")
    convert(campaign, marketer, other_rep, full_name="Somebody Else")
    client.force_login(manager)
    text = client.get(reverse("leads:deals")).text
    assert "Quinn Qualified" in text and "Somebody Else" in text


def test_marketing_may_not_open_the_board(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("leads:deals")).status_code == 403
