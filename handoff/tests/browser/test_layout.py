"""Layout in a real browser: every main page fits a 390 px phone and passes axe (see Tab.check), and
the manager's grouped menu fits a laptop with Log out on screen and the current page marked."""

import pytest
from django.utils import timezone

from conftest import LeadFactory, UserFactory, advance
from handoff.tests.browser.conftest import PHONE
from leads.models import Lead, RepProfile, ReturnReason, SalesTeam
from people.roles import Role
from sla import agreement
from sla.models import BusinessCalendar, Deadline, Department, DepartmentHead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def leads_in_every_state(marketer, rep, campaign):
    ReturnReason.objects.create(label="Outside our market")
    return {
        status: advance(
            LeadFactory(
                campaign=campaign, full_name=f"Lead {status}", company="A company with a rather long name GmbH"
            ),
            status,
            marketer=marketer,
            rep=rep,
        )
        for status in (Lead.Status.MQL, Lead.Status.HANDED_OFF, Lead.Status.CLAIMED, Lead.Status.ON_HOLD)
        + (Lead.Status.CONVERTED, Lead.Status.RETURNED)
    }


def test_every_main_page_fits_a_phone(open_tab, marketer, rep, manager, campaign, leads_in_every_state):
    """Each role's pages: no sideways scrolling at 390 px, no console error, no 5xx, axe clean."""
    leads = leads_in_every_state
    claimed = leads[Lead.Status.CLAIMED].pk
    calendar = BusinessCalendar.default_create()
    held = leads[Lead.Status.ON_HOLD]
    receipt = f"/leads/{held.pk}/deadlines/{Deadline.objects.get(lead=held, kind='first_contact').pk}/"
    DepartmentHead.objects.create(department=Department.SALES, user=manager)
    draft = agreement.draft_create(
        actor=manager,
        values={"name": "A draft with a rather long name for a phone", "note": "Why"},
        starts_at=timezone.now(),
    )
    pages = {
        marketer: [
            "/campaigns/",
            f"/campaigns/{campaign.pk}/",
            f"/campaigns/{campaign.pk}/edit/",
            f"/campaigns/{campaign.pk}/import/",
            f"/campaigns/{campaign.pk}/intake/",
            "/campaigns/leads/",
            "/campaigns/returned/",
            "/campaigns/scoring/",
            f"/leads/{leads[Lead.Status.RETURNED].pk}/",
            "/notifications/",
            "/leads/search/?q=rather+long",
        ],
        rep: [
            "/leads/queue/",
            "/leads/mine/",
            "/leads/targets/mine/",
            "/leads/deals/",
            f"/leads/{claimed}/",
            f"/leads/{leads[Lead.Status.ON_HOLD].pk}/",
            receipt,
            f"/leads/{leads[Lead.Status.CONVERTED].pk}/",
            f"/leads/{claimed}/return/",
            "/preferences/",
            "/routing/time-off/",
            "/integrations/",
            "/integrations/channels/new/",
            "/leads/search/?q=rather+long+name",
            "/leads/search/?q=ab",
            "/leads/search/?q=nothing+like+it",
            "/appeals/",
        ],
        manager: [
            "/dashboard/",
            "/leads/queue/",
            "/leads/deals/",
            "/leads/teams/",
            "/leads/targets/",
            "/leads/return-reasons/",
            f"/leads/{claimed}/assign/",
            "/sla/policy/",
            "/sla/policy/new/",
            f"/sla/drafts/{draft.pk}/",
            f"/sla/drafts/{draft.pk}/edit/",
            "/calendars/",
            f"/calendars/{calendar.pk}/",
            "/routing/time-off/",
            "/routing/log/",
            "/routing/rules/",
            "/integrations/",
            "/integrations/webhooks/new/",
            "/leads/search/?q=Lead",
            "/appeals/",
        ],
    }
    for user, paths in pages.items():
        tab = open_tab(user)
        for path in paths:
            tab.visit(path, shot=path.strip("/").replace("/", "-") or "home")


def test_the_pages_of_reps_with_their_filters_and_pagers_fit_a_phone(open_tab, manager):
    """Teams and targets with two pages of reps (a team's and no team's): the filters, the pager and the
    targets' save-and-turn buttons fit 390 px, axe clean; the pager turns the targets' page."""
    team = SalesTeam.objects.create(name="A team with a rather long name for a phone", manager=manager)
    for index in range(30):
        rep = UserFactory(role=Role.SALES, first_name="Rep", last_name=f"with a long surname {index:02d}")
        RepProfile.objects.create(user=rep, team=team if index % 2 else None)
    tab = open_tab(manager)
    tab.visit("/leads/teams/?page=2", shot="teams-page-2")
    tab.visit(f"/leads/teams/?team={team.pk}&search=Rep", shot="teams-filtered")
    page = tab.visit("/leads/targets/", shot="targets-page-1")
    page.get_by_role("button", name="Save, then page 2 →").click()
    page.wait_for_url("**page=2**")
    tab.check(shot="targets-page-2")
    assert page.get_by_text("Reps 26–30 of 30").is_visible()


@pytest.mark.parametrize("width", [768, 1024, 1366])
def test_the_managers_menu_fits_a_laptop(open_tab, manager, width):
    """Marketing, Sales and SLA menus plus notifications, name and Log out fit on one line."""
    tab = open_tab(manager)
    tab.page.set_viewport_size({"width": width, "height": 800})
    tab.page.goto(tab.base_url + "/leads/queue/")
    log_out = tab.page.get_by_role("button", name="Log out")
    assert log_out.is_visible()
    box = log_out.bounding_box()
    assert box["x"] + box["width"] <= width
    assert tab.page.locator("nav.navbar").bounding_box()["height"] < 70, "the menu wrapped onto a second line"


def test_the_menu_marks_the_current_page(open_tab, manager):
    tab = open_tab(manager)
    page = tab.visit("/leads/queue/")
    sales = page.get_by_role("button", name="Sales")
    assert "active" in sales.get_attribute("class")
    sales.click()
    current = page.locator("nav [aria-current=page]")
    assert current.inner_text() == "Queue"
    assert current.is_visible()


def test_the_phone_menu_opens_from_its_button(open_tab, rep):
    tab = open_tab(rep)
    tab.page.set_viewport_size(PHONE)
    tab.page.goto(tab.base_url + "/leads/mine/")
    assert not tab.page.get_by_role("button", name="Log out").is_visible()
    tab.page.get_by_role("button", name="Toggle navigation").click()
    tab.page.get_by_role("link", name="Queue", exact=True).click()
    tab.page.wait_for_url("**/leads/queue/")


def test_a_rep_works_a_lead_on_a_phone(open_tab, marketer, rep, campaign):
    """At 390 px, without zooming: filter the queue, claim, open the lead, log a call, hold and resume."""
    advance(
        LeadFactory(campaign=campaign, full_name="Mobile Mo", score=90),
        Lead.Status.HANDED_OFF,
        marketer=marketer,
        rep=None,
    )
    tab = open_tab(rep, viewport=PHONE)
    page = tab.visit("/leads/queue/", shot="queue")

    page.get_by_label("Priority").select_option("hot")
    page.get_by_role("button", name="Apply").click()
    tab.check()
    claim = page.get_by_role("button", name="Claim Mobile Mo")
    box = claim.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "Claim is off-screen"
    claim.click()
    tab.check(shot="lead")

    page.get_by_label("Outcome").fill("Reached on the road")
    page.get_by_role("button", name="Log activity").click()
    tab.check(shot="call-logged")
    page.get_by_label("Reason").fill("Customer travelling")
    page.get_by_role("button", name="Put on hold").click()
    tab.check(shot="on-hold")
    page.get_by_role("button", name="Resume").click()
    tab.check()
    lead = Lead.objects.get(full_name="Mobile Mo")
    assert (lead.status, lead.owner) == (Lead.Status.CONTACTED, rep)
    assert page.evaluate("() => window.innerWidth") == PHONE["width"]
