"""A converted lead's deal moving through its stages to won or lost, and the timeline it leaves."""

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.deals import deal_move
from leads.models import Deal, Lead, LeadEvent
from leads.transitions import TransitionError

pytestmark = pytest.mark.django_db
Stage = Deal.Stage


@pytest.fixture
def deal(campaign, marketer, rep) -> Deal:
    """A deal the rep converted, in its first stage (qualified)."""
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    return Deal.objects.get(lead=lead)


def stage_events(deal) -> list[LeadEvent]:
    return list(deal.lead.events.filter(kind=LeadEvent.Kind.DEAL_STAGE).order_by("created_at", "id"))


def test_an_open_deal_moves_to_the_next_stage_with_a_timeline_event(deal, rep):
    """Given a qualified deal, when its rep moves it to proposal, then the stage changes, it stays open, and
    the timeline says from which stage to which, and who."""
    moved = deal_move(deal=deal, actor=rep, stage=Stage.PROPOSAL)

    deal.refresh_from_db()
    assert (moved.stage, deal.stage, deal.closed_at) == (Stage.PROPOSAL, Stage.PROPOSAL, None)
    [event] = stage_events(deal)
    assert (event.actor, event.data, event.note) == (
        rep,
        {"from": "qualified", "to": "proposal", "value": "1000.00"},
        "Qualified → Proposal",
    )


def test_a_deal_may_slip_back_to_an_earlier_open_stage(deal, rep):
    deal_move(deal=deal, actor=rep, stage=Stage.NEGOTIATION)
    deal_move(deal=deal, actor=rep, stage=Stage.PROPOSAL)

    deal.refresh_from_db()
    assert deal.stage == Stage.PROPOSAL
    assert [event.data["to"] for event in stage_events(deal)] == ["negotiation", "proposal"]


def test_winning_a_deal_closes_it_at_the_moment_of_the_move(deal, rep):
    before = timezone.now()

    deal_move(deal=deal, actor=rep, stage=Stage.WON)

    deal.refresh_from_db()
    [event] = stage_events(deal)
    assert deal.stage == Stage.WON
    assert deal.closed_at == event.created_at
    assert before <= deal.closed_at <= timezone.now()
    assert deal.lost_reason == ""


def test_a_lost_deal_requires_a_reason(deal, rep):
    """Lost without a reason is refused and nothing changes; with one, the deal is closed and the reason is
    kept on the deal and on the timeline."""
    with pytest.raises(TransitionError, match="Say why the deal was lost"):
        deal_move(deal=deal, actor=rep, stage=Stage.LOST, lost_reason="   ")
    deal.refresh_from_db()
    assert (deal.stage, stage_events(deal)) == (Stage.QUALIFIED, [])

    deal_move(deal=deal, actor=rep, stage=Stage.LOST, lost_reason="Went with a competitor")

    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == (Stage.LOST, "Went with a competitor")
    assert deal.closed_at is not None
    [event] = stage_events(deal)
    assert event.data == {"from": "qualified", "to": "lost", "reason": "Went with a competitor", "value": "1000.00"}


def test_a_lost_reason_is_kept_only_for_a_lost_deal(deal, rep):
    deal_move(deal=deal, actor=rep, stage=Stage.WON, lost_reason="typed by mistake")

    deal.refresh_from_db()
    assert deal.lost_reason == ""
    assert "reason" not in stage_events(deal)[0].data


@pytest.mark.parametrize("closed", [Stage.WON, Stage.LOST])
@pytest.mark.parametrize("to", [Stage.NEGOTIATION, Stage.WON, Stage.LOST])
def test_a_closed_deal_never_moves_again(closed, to, deal, rep, manager):
    """Won and lost are final (a won deal already counts towards targets); even a manager is refused."""
    deal_move(deal=deal, actor=rep, stage=closed, lost_reason="No budget")
    deal.refresh_from_db()
    closed_at = deal.closed_at

    with pytest.raises(TransitionError, match="a closed deal does not move"):
        deal_move(deal=deal, actor=manager, stage=to, lost_reason="Changed my mind")

    deal.refresh_from_db()
    assert (deal.stage, deal.closed_at) == (closed, closed_at)
    assert len(stage_events(deal)) == 1


@pytest.mark.parametrize("stage,message", [("qualified", "already in"), ("signed", "Choose one of the deal stages")])
def test_an_unchanged_or_unknown_stage_is_refused(stage, message, deal, rep):
    with pytest.raises(TransitionError, match=message):
        deal_move(deal=deal, actor=rep, stage=stage)
    assert stage_events(deal) == []


def test_only_the_deals_rep_or_a_manager_moves_it(deal, other_rep, manager):
    with pytest.raises(TransitionError, match="owns this deal"):
        deal_move(deal=deal, actor=other_rep, stage=Stage.WON)
    deal.refresh_from_db()
    assert deal.stage == Stage.QUALIFIED

    deal_move(deal=deal, actor=manager, stage=Stage.WON)
    deal.refresh_from_db()
    assert deal.stage == Stage.WON
    assert stage_events(deal)[0].actor == manager


# ---- the pages ---------------------------------------------------------------------------------------------


def test_the_rep_moves_the_deal_on_the_lead_page(client, deal, rep):
    client.force_login(rep)
    page = client.get(deal.lead.get_absolute_url()).content.decode()
    assert reverse("leads:deal_stage", args=[deal.lead_id]) in page

    response = client.post(reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": "won"}, follow=True)

    deal.refresh_from_db()
    assert deal.stage == Stage.WON
    html = response.content.decode()
    assert "deal is now won." in html
    assert "Qualified → Won" in html  # on the timeline
    assert reverse("leads:deal_stage", args=[deal.lead_id]) not in html  # closed: no more moves offered


@pytest.mark.parametrize(
    "data,field",
    [({"stage": "lost", "lost_reason": ""}, "lost_reason"), ({"stage": "signed"}, "stage"), ({}, "stage")],
)
def test_bad_stage_input_is_a_form_error_not_a_500(data, field, client, deal, rep):
    client.force_login(rep)

    response = client.post(reverse("leads:deal_stage", args=[deal.lead_id]), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    deal.refresh_from_db()
    assert deal.stage == Stage.QUALIFIED


def test_moving_a_closed_deal_on_the_page_is_refused_on_the_form(client, deal, rep):
    deal_move(deal=deal, actor=rep, stage=Stage.WON)
    client.force_login(rep)

    assert client.get(reverse("leads:deal_stage", args=[deal.lead_id])).status_code == 302
    response = client.post(reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": "lost", "lost_reason": "x"})

    assert response.status_code == 200
    assert "a closed deal does not move" in " ".join(response.context["form"].non_field_errors())
    deal.refresh_from_db()
    assert deal.stage == Stage.WON


def test_another_rep_cannot_move_the_deal_through_the_page(client, deal, other_rep, marketer):
    for outsider, expected in ((other_rep, 403), (marketer, 403)):
        client.force_login(outsider)
        assert client.post(reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": "won"}).status_code == expected
    deal.refresh_from_db()
    assert (deal.stage, stage_events(deal)) == (Stage.QUALIFIED, [])


def test_a_lead_without_a_deal_has_no_stage_page(client, campaign, marketer, rep):
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.CONTACTED, marketer=marketer, rep=rep)
    client.force_login(rep)

    assert client.post(reverse("leads:deal_stage", args=[lead.pk]), {"stage": "won"}).status_code == 404
