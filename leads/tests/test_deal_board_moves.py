"""The deals board (issue 23): every stage including recent won and lost, counts and totals per stage,
older closed deals on their own list, and a card's stage form moving the deal through the deal service
(the drag on the board submits the same form: see handoff/tests/browser/test_deals_journey.py)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.deals import RECENT_CLOSED_DAYS, deal_edit, deal_move
from leads.models import Deal, Lead, LeadEvent

pytestmark = pytest.mark.django_db
Stage = Deal.Stage
BOARD = reverse("leads:deals")


def convert(campaign, marketer, rep, name, value="1000.00") -> Deal:
    lead = advance(LeadFactory(campaign=campaign, full_name=name), Lead.Status.CONVERTED, marketer=marketer, rep=rep)
    deal = Deal.objects.get(lead=lead)
    if Decimal(value) != deal.value:
        deal_edit(deal=deal, actor=rep, value=Decimal(value), expected_close_date=None)
    return deal


def close_long_ago(deal: Deal, rep, stage=Stage.WON) -> None:
    deal_move(deal=deal, actor=rep, stage=stage, lost_reason="No budget" if stage == Stage.LOST else "")
    Deal.objects.filter(pk=deal.pk).update(closed_at=timezone.now() - datetime.timedelta(days=RECENT_CLOSED_DAYS + 1))


def columns(response) -> dict:
    return {stage.value: [deal.lead.full_name for deal in deals] for stage, deals, _ in response.context["columns"]}


def test_won_and_lost_show_for_the_recent_days_and_older_ones_on_their_own_list(client, campaign, marketer, rep):
    won = convert(campaign, marketer, rep, "Winnie Won", "2500.00")
    deal_move(deal=won, actor=rep, stage=Stage.WON)
    lost = convert(campaign, marketer, rep, "Larry Lost", "700.00")
    deal_move(deal=lost, actor=rep, stage=Stage.LOST, lost_reason="Went with a competitor")
    old = convert(campaign, marketer, rep, "Olive Old")
    close_long_ago(old, rep)
    client.force_login(rep)

    response = client.get(BOARD)

    assert columns(response)["won"] == ["Winnie Won"]
    assert columns(response)["lost"] == ["Larry Lost"]
    assert "Olive Old" not in response.text
    assert "Went with a competitor" in response.text
    totals = {stage.value: total for stage, _, total in response.context["columns"]}
    assert totals["won"] == {"count": 1, "value": Decimal("2500.00")}
    assert totals["lost"] == {"count": 1, "value": Decimal("700.00")}
    assert "€2,500.00" in response.text and "€700.00" in response.text
    # A closed card is final: no stage form on it.
    assert reverse("leads:deal_stage", args=[won.lead_id]) not in response.text
    assert reverse("leads:deals_closed") in response.text

    older = client.get(reverse("leads:deals_closed"))
    assert [deal.lead.full_name for deal in older.context["deals"]] == ["Olive Old"]
    assert "Winnie Won" not in older.text


def test_totals_add_up_every_card_of_a_stage(client, campaign, marketer, rep):
    for name, value in (("A", "100.00"), ("B", "250.50"), ("C", "0.00")):
        convert(campaign, marketer, rep, name, value)
    moved = convert(campaign, marketer, rep, "D", "999.99")
    deal_move(deal=moved, actor=rep, stage=Stage.NEGOTIATION)
    client.force_login(rep)
    totals = {stage.value: total for stage, _, total in client.get(BOARD).context["columns"]}
    assert totals["qualified"] == {"count": 3, "value": Decimal("350.50")}
    assert totals["negotiation"] == {"count": 1, "value": Decimal("999.99")}
    assert totals["proposal"] == {"count": 0, "value": Decimal("0")}


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_the_boards_queries_do_not_grow_with_its_cards(client, campaign, marketer, rep, manager, who):
    client.force_login({"rep": rep, "manager": manager}[who])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(BOARD).status_code == 200
        return len(captured)

    first = convert(campaign, marketer, rep, "First")
    deal_move(deal=first, actor=rep, stage=Stage.WON)
    one = queries()
    for index, stage in enumerate((Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON, Stage.LOST, Stage.QUALIFIED) * 2):
        deal = convert(campaign, marketer, rep, f"Lead {index}")
        if stage != Stage.QUALIFIED:
            deal_move(deal=deal, actor=rep, stage=stage, lost_reason="No budget")
    assert queries() == one


def test_a_card_moves_its_deal_and_comes_back_to_the_board(client, campaign, marketer, rep):
    deal = convert(campaign, marketer, rep, "Quinn Qualified")
    client.force_login(rep)
    board = client.get(BOARD).text
    assert f'action="{reverse("leads:deal_stage", args=[deal.lead_id])}"' in board

    response = client.post(
        reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": "proposal", "next": BOARD}, follow=True
    )

    assert response.redirect_chain[-1][0] == BOARD
    assert "Quinn Qualified&#x27;s deal is now proposal." in response.text
    assert columns(response)["proposal"] == ["Quinn Qualified"]
    event = deal.lead.events.get(kind=LeadEvent.Kind.DEAL_STAGE)
    assert (event.actor, event.data["from"], event.data["to"]) == (rep, "qualified", "proposal")


def test_a_drop_on_lost_without_a_reason_is_refused_with_a_message_and_nothing_moves(client, campaign, marketer, rep):
    deal = convert(campaign, marketer, rep, "Quinn Qualified")
    client.force_login(rep)
    response = client.post(reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": "lost", "next": BOARD})
    assert response.status_code == 200
    assert "Say why the deal was lost." in response.text
    assert f'name="next" value="{BOARD}"' in response.text  # the way back to the board is kept
    deal.refresh_from_db()
    assert deal.stage == Stage.QUALIFIED


@pytest.mark.parametrize("stage", ["banana", "", "qualified", "<script>x</script>"])
def test_a_bad_stage_is_a_message_not_an_error_page(client, campaign, marketer, rep, stage):
    deal = convert(campaign, marketer, rep, "Quinn Qualified")
    client.force_login(rep)
    response = client.post(reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": stage, "next": BOARD})
    assert response.status_code == 200
    assert "<script>x</script>" not in response.text
    assert response.context["form"].errors
    deal.refresh_from_db()
    assert deal.stage == Stage.QUALIFIED


def test_another_rep_or_marketing_cannot_move_a_deal_but_a_manager_can(
    client, campaign, marketer, rep, other_rep, manager
):
    deal = convert(campaign, marketer, rep, "Quinn Qualified")
    url = reverse("leads:deal_stage", args=[deal.lead_id])
    for outsider in (other_rep, marketer):
        client.force_login(outsider)
        assert client.post(url, {"stage": "won", "next": BOARD}).status_code == 403
    deal.refresh_from_db()
    assert deal.stage == Stage.QUALIFIED
    # Another rep's board does not show the deal at all.
    client.force_login(other_rep)
    assert "Quinn Qualified" not in client.get(BOARD).text

    client.force_login(manager)
    assert "Quinn Qualified" in client.get(BOARD).text
    assert client.post(url, {"stage": "won", "next": BOARD}).status_code == 302
    deal.refresh_from_db()
    assert deal.stage == Stage.WON


def test_a_move_without_the_csrf_token_is_refused(campaign, marketer, rep):
    deal = convert(campaign, marketer, rep, "Quinn Qualified")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(rep)
    assert browser.post(reverse("leads:deal_stage", args=[deal.lead_id]), {"stage": "won"}).status_code == 403
    deal.refresh_from_db()
    assert deal.stage == Stage.QUALIFIED


def test_marketing_may_not_open_the_older_deals(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("leads:deals_closed")).status_code == 403
