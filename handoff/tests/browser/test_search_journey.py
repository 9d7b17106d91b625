"""A rep's day in fewer clicks: "/" jumps to the top bar's search, a lead is found by its company, and a
call with its next step is logged from My leads without opening the lead; both widths checked."""

import datetime

import pytest
from django.utils import timezone

from conftest import LeadFactory, advance
from handoff.tests.browser.conftest import PHONE
from leads.models import Activity, Lead

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rep_finds_a_lead_by_company_and_logs_a_call_from_my_leads(open_tab, marketer, rep, other_rep, campaign):
    # Given the rep's contacted lead at Orbital, a colleague's lead there too, and a new one marketing holds
    mine = advance(
        LeadFactory(campaign=campaign, full_name="Olga Orbit", company="Orbital Systems GmbH"),
        Lead.Status.CONTACTED,
        marketer=marketer,
        rep=rep,
    )
    advance(
        LeadFactory(campaign=campaign, full_name="Otto Other", company="Orbital Systems GmbH"),
        Lead.Status.CLAIMED,
        marketer=marketer,
        rep=other_rep,
    )
    LeadFactory(campaign=campaign, full_name="Nora Notyet", company="Orbital Systems GmbH")
    tab = open_tab(rep)
    page = tab.visit("/leads/mine/", shot="my-leads")

    # When the rep presses "/" and types the company, misspelt, as the caller said it
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search (press")
    assert box.evaluate("(element) => element === document.activeElement")
    box.fill("orbitl systems")
    box.press("Enter")
    page.wait_for_url("**/leads/search/?q=orbitl+systems")
    tab.check(shot="search-results")

    # Then both of sales' Orbital leads are found, the colleague's named as theirs and read-only
    # pages.js puts a wide table's box in a `.table-scroll` frame with its scroll cue
    results = page.locator("#search-summary + .table-scroll > .table-responsive tbody tr")
    assert results.count() == 2
    assert page.get_by_role("row", name="Olga Orbit").get_by_text("Yours").is_visible()
    colleague = page.get_by_role("row", name="Otto Other")
    assert colleague.get_by_text("(read-only)").is_visible()
    assert page.get_by_text("Nora Notyet").count() == 0

    # When the rep goes back to My leads, where Olga is flagged as having no next step
    page.get_by_role("link", name="My leads").click()
    tab.check()
    row = page.get_by_role("row", name="Olga Orbit")
    assert row.get_by_text("No next step").is_visible()

    # and logs a call with its next step from the row
    row.locator("summary", has_text="Log").click()
    tab.check(shot="quick-log-open")
    next_step = timezone.localtime() + datetime.timedelta(days=2)
    row.get_by_label("What").select_option("call")
    row.get_by_label("Outcome").fill("Reached, call back Thursday")
    row.get_by_label("Next step").fill(next_step.strftime("%Y-%m-%dT%H:%M"))
    row.get_by_role("button", name="Log it").click()
    page.wait_for_url("**/leads/mine/")
    tab.check(shot="call-logged-from-my-leads")

    # Then the call is logged, the lead has its next step and is no longer flagged
    assert "Call logged." in page.content()
    activity = Activity.objects.get(lead=mine)
    assert (activity.kind, activity.outcome) == (Activity.Kind.CALL, "Reached, call back Thursday")
    mine.refresh_from_db()
    assert mine.next_step_at == next_step.replace(second=0, microsecond=0)
    assert page.get_by_role("row", name="Olga Orbit").get_by_text("No next step").count() == 0


def test_the_quick_log_fits_a_phone(open_tab, marketer, rep, campaign):
    advance(
        LeadFactory(campaign=campaign, full_name="Pia Phone", company="A company with a rather long name GmbH"),
        Lead.Status.CONTACTED,
        marketer=marketer,
        rep=rep,
    )
    tab = open_tab(rep, viewport=PHONE)
    page = tab.visit("/leads/mine/")
    row = page.get_by_role("row", name="Pia Phone")
    row.locator("summary", has_text="Log").click()
    tab.check(shot="quick-log-phone")
    button = row.get_by_role("button", name="Log it")
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    row.get_by_label("Outcome").fill("Voicemail")
    button.click()
    page.wait_for_url("**/leads/mine/")
    tab.check()
    assert Activity.objects.filter(lead__full_name="Pia Phone", outcome="Voicemail").exists()


def test_on_a_tablet_slash_opens_the_search_page_ready_to_type(open_tab, manager):
    """From 768 to 991 px the manager's menu leaves no room for the box: "/" goes to the search page
    and its box takes the typing."""
    tab = open_tab(manager, viewport={"width": 800, "height": 900})
    page = tab.visit("/leads/queue/")
    assert not page.locator("#site-search").is_visible()
    page.keyboard.press("/")
    page.wait_for_url("**/leads/search/")
    tab.check()
    page.keyboard.type("orbital")
    assert page.get_by_label("Name, email, company or phone").input_value() == "orbital"
