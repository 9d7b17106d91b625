"""Journey 10 (issue 23): the deals board's drag and its keyboard alternative, the skip link, the bulk
button that waits for a tick, and the phone intake page's scrollable boxes (axe at 390 px)."""

import datetime

import pytest
from django.utils import timezone

from conftest import LeadFactory, advance
from handoff.tests.browser.conftest import PHONE
from leads.deals import RECENT_CLOSED_DAYS, deal_move
from leads.models import Deal, Lead, LeadEvent

pytestmark = pytest.mark.django_db(transaction=True)
Stage = Deal.Stage


def deal_for(campaign, marketer, rep, name, company="A company with a rather long name GmbH") -> Deal:
    lead = advance(
        LeadFactory(campaign=campaign, full_name=name, company=company),
        Lead.Status.CONVERTED,
        marketer=marketer,
        rep=rep,
    )
    return Deal.objects.get(lead=lead)


def test_a_rep_drags_a_deal_along_the_board_and_moves_one_by_keyboard(open_tab, marketer, rep, campaign):
    quinn = deal_for(campaign, marketer, rep, "Quinn Qualified")
    kim = deal_for(campaign, marketer, rep, "Kim Keyboard")
    lou = deal_for(campaign, marketer, rep, "Lou Lost")
    won = deal_for(campaign, marketer, rep, "Winnie Won")
    deal_move(deal=won, actor=rep, stage=Stage.WON)
    old = deal_for(campaign, marketer, rep, "Olive Old")
    deal_move(deal=old, actor=rep, stage=Stage.WON)
    Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - datetime.timedelta(days=RECENT_CLOSED_DAYS + 5))
    tab = open_tab(rep)
    page = tab.visit("/leads/deals/", shot="board")

    # Every stage is a column, won included (the old win is on the older list), with counts
    for stage in ("Qualified", "Proposal", "Negotiation", "Won", "Lost"):
        assert page.get_by_role("heading", name=stage).is_visible()
    assert page.locator("#stage-qualified .badge").inner_text() == "3"
    assert page.locator("#stage-won .badge").inner_text() == "1"
    assert page.get_by_text("Olive Old").count() == 0

    # When the rep drags Quinn's card to Proposal
    page.locator(".deal-card", has_text="Quinn Qualified").drag_to(
        page.locator("section[data-stage=proposal] .deal-drop")
    )
    page.wait_for_selector("text=Quinn Qualified's deal is now proposal.")
    tab.check(shot="dragged")

    # Then the deal moved through the deal service (a timeline event), and the board shows it there
    quinn.refresh_from_db()
    assert quinn.stage == Stage.PROPOSAL
    assert quinn.lead.events.filter(kind=LeadEvent.Kind.DEAL_STAGE, actor=rep).count() == 1
    assert page.locator("section[data-stage=proposal]").get_by_text("Quinn Qualified").is_visible()
    assert page.locator("#stage-proposal .badge").inner_text() == "1"

    # When the rep moves Kim's deal without a mouse: the card's stage select, then Move, by keyboard
    card = page.locator(".deal-card", has_text="Kim Keyboard")
    select = card.get_by_label("Stage")
    select.focus()
    select.select_option("negotiation")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Move"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Kim Keyboard's deal is now negotiation.")
    tab.check()
    kim.refresh_from_db()
    assert kim.stage == Stage.NEGOTIATION

    # When Lou's card is dropped on Lost, the card asks why before anything is sent
    page.locator(".deal-card", has_text="Lou Lost").drag_to(page.locator("section[data-stage=lost] .deal-drop"))
    reason = page.locator(".deal-card", has_text="Lou Lost").get_by_label("Why lost")
    assert reason.is_visible()
    assert reason.evaluate("(element) => element === document.activeElement")
    lou.refresh_from_db()
    assert lou.stage == Stage.QUALIFIED
    reason.fill("Went with a competitor")
    reason.press("Enter")
    page.wait_for_selector("text=Lou Lost's deal is now lost.")
    tab.check(shot="lost")
    lou.refresh_from_db()
    assert (lou.stage, lou.lost_reason) == (Stage.LOST, "Went with a competitor")
    # A closed card is final: nothing to drag, no stage form
    assert page.locator(".deal-card[draggable]", has_text="Lou Lost").count() == 0

    # The older wins are one link away
    page.get_by_role("link", name="older won and lost deals").click()
    tab.check(shot="older-deals")
    assert page.get_by_role("cell", name="Olive Old").is_visible()


def test_the_board_on_a_phone_moves_a_deal_by_its_select(open_tab, marketer, rep, manager, campaign):
    deal = deal_for(campaign, marketer, rep, "Pia Phone")
    tab = open_tab(manager, viewport=PHONE)
    page = tab.visit("/leads/deals/", shot="board-phone")
    card = page.locator(".deal-card", has_text="Pia Phone")
    card.get_by_label("Stage").select_option("won")
    button = card.get_by_role("button", name="Move")
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 24
    button.click()
    page.wait_for_selector("text=Pia Phone's deal is now won.")
    tab.check()
    deal.refresh_from_db()
    assert deal.stage == Stage.WON


def test_the_skip_link_is_the_first_tab_stop_and_lands_on_the_page(open_tab, rep):
    tab = open_tab(rep)
    page = tab.visit("/leads/queue/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("(element) => element === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab goes into the page, not back through the menu
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('main')")


def test_the_bulk_hand_off_waits_for_a_tick_and_the_phone_intake_page_passes_axe(open_tab, marketer, campaign):
    LeadFactory(campaign=campaign, full_name="Mia Mql", status=Lead.Status.MQL)
    tab = open_tab(marketer)
    page = tab.visit("/campaigns/leads/")
    button = page.get_by_role("button", name="Hand off ticked leads")
    assert button.is_disabled()
    page.get_by_label("Tick Mia Mql").check()
    assert button.is_enabled()
    page.get_by_label("Tick Mia Mql").uncheck()
    assert button.is_disabled()
    page.get_by_label("Tick every lead on this page").check()
    assert button.is_enabled()

    # On a phone, the intake page (token issued, so all three boxes show) has no unfocusable scroll box
    phone = open_tab(marketer, viewport=PHONE)
    page = phone.visit(f"/campaigns/{campaign.pk}/intake/")
    page.get_by_role("button", name="Issue token").click()
    phone.check(shot="intake-phone")
    for name in ("Your new intake token", "The curl command"):
        assert page.get_by_label(name).get_attribute("tabindex") == "0"
    assert "uuidgen" not in page.locator("#curl-example").inner_text()
