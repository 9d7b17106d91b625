"""The SLA dashboard in a real browser (issue 23): a manager's first screen on a phone is the headline,
the filters folded below it; every section opened passes axe and fits at both widths, its wide tables
keeping their first column in view with a scroll cue, no figure overflowing its tile; definitions open
from the keyboard; the first and last day appear only for a custom period."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from conftest import LeadFactory, UserFactory, advance
from enforcement.sweep import sweep_deadlines
from handoff.tests.browser.conftest import DESKTOP, PHONE
from leads.models import Lead
from people.roles import Role
from sla.models import Deadline

pytestmark = pytest.mark.django_db(transaction=True)

HEADLINE = (
    "Claim attainment",
    "First-contact attainment",
    "Sales late now",
    "Acceptance",
    "Returned-lead follow-up",
    "Follow-ups late now",
)


def headline_tile(page, label: str):
    return page.locator(".headline-card").filter(has=page.locator(".figure-label", has_text=re.compile(f"^{label}$")))


OPEN_SECTIONS = "() => document.querySelectorAll('details.dashboard-section').forEach((d) => { d.open = true; })"
OVERFLOWING_FIGURES = """() => Array.from(document.querySelectorAll('.figure-value'))
  .filter((figure) => figure.offsetParent !== null && figure.scrollWidth > figure.clientWidth + 1)
  .map((figure) => figure.textContent.trim())"""


@pytest.fixture
def some_work(marketer, rep, other_rep, campaign):
    """Leads with both reps, one claim late now: the tables have rows and the charts bars."""
    for status, who in ((Lead.Status.CLAIMED, rep), (Lead.Status.CONTACTED, other_rep), (Lead.Status.RETURNED, rep)):
        advance(
            LeadFactory(campaign=campaign, company="A company with a rather long name GmbH"),
            status,
            marketer=marketer,
            rep=who,
        )
    late = advance(
        LeadFactory(campaign=campaign, full_name="Larry Late"), Lead.Status.HANDED_OFF, marketer=marketer, rep=None
    )
    now = datetime.datetime.now(tz=datetime.UTC)
    Deadline.objects.filter(lead=late).update(
        starts_at=now - datetime.timedelta(hours=2), due_at=now - datetime.timedelta(minutes=5), warn_at=None
    )
    sweep_deadlines(now=now - datetime.timedelta(minutes=5) + datetime.timedelta(seconds=1))
    return late


def test_a_managers_first_screen_on_a_phone_shows_the_headline(open_tab, manager, some_work):
    tab = open_tab(manager, viewport=PHONE)
    page = tab.visit("/dashboard/", shot="dashboard-first-screen")

    # The six headline figures are on the first screen, above the folded filters
    for label in HEADLINE:
        tile = headline_tile(page, label)
        expect(tile).to_be_visible()
        box = tile.locator(".figure-value").bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], f"{label} is below the first screen"
    late_now = headline_tile(page, "Sales late now").locator(".figure-value")
    expect(late_now).to_have_text("1")
    expect(late_now).to_have_class(re.compile("text-danger"))
    expect(headline_tile(page, "Follow-ups late now").locator(".figure-value")).not_to_have_class(
        re.compile("text-danger")
    )
    filters = page.locator("#dashboard-filters")
    expect(filters).to_be_hidden()
    page.get_by_role("button", name=re.compile(r"^Filters: ")).click()
    expect(filters).to_be_visible()
    expect(page.get_by_label("Period", exact=True)).to_be_visible()

    # A figure's definition is one key press away
    help_button = headline_tile(page, "Claim attainment").locator("summary")
    definition = headline_tile(page, "Claim attainment").locator(".definition-text")
    expect(definition).to_be_hidden()
    help_button.focus()
    page.keyboard.press("Enter")
    expect(definition).to_be_visible()
    expect(definition).to_contain_text("Claims on time ÷ (on time + late)")
    box = help_button.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_section_opened_fits_and_passes_axe(open_tab, manager, some_work, viewport):
    tab = open_tab(manager, viewport=viewport)
    page = tab.visit("/dashboard/")
    page.evaluate(OPEN_SECTIONS)

    tab.check(shot=f"dashboard-open-{'phone' if viewport == PHONE else 'desktop'}")  # axe, fits, cues: both widths

    assert page.evaluate(OVERFLOWING_FIGURES) == []
    reps = page.locator("#table-reps")
    box = page.locator(".table-responsive", has=reps)
    scroll_cue = page.locator(".table-scroll", has=reps).locator(".scroll-cue")
    if viewport == PHONE:
        # "Sales by rep" is wider than a phone: the cue says so, and the reps' names stay as it scrolls
        expect(scroll_cue).to_be_visible()
        first_cell = reps.locator("tbody tr").first.locator("th").first
        left = first_cell.bounding_box()["x"]
        box.evaluate("(element) => { element.scrollLeft = 400; }")
        assert box.evaluate("(element) => element.scrollLeft") > 0
        assert abs(first_cell.bounding_box()["x"] - left) < 1, "the first column scrolled away"
    # Figure links in the tables are at least 24 px each way
    small = reps.evaluate(
        """(table) => Array.from(table.querySelectorAll('a')).filter((link) => {
             const box = link.getBoundingClientRect(); return box.height < 24 || box.width < 24; }).length"""
    )
    assert small == 0


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_long_table_shows_its_first_rows_and_links_to_its_own_page(open_tab, manager, some_work, viewport):
    UserFactory.create_batch(30, role=Role.SALES)
    tab = open_tab(manager, viewport=viewport)
    page = tab.visit("/dashboard/?period=this_quarter")
    page.evaluate(OPEN_SECTIONS)
    expect(page.locator("#table-reps tbody tr")).to_have_count(25)
    more = page.get_by_role("link", name="all reps")
    expect(page.locator(".table-more", has=more)).to_contain_text(re.compile(r"Showing 25 of \d+ reps"))
    box = more.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24

    more.click()
    tab.check(shot=f"dashboard-table-{'phone' if viewport == PHONE else 'desktop'}")  # axe, fits, cues
    assert "/dashboard/table/reps/" in page.url and "period=this_quarter" in page.url
    assert page.locator("#table-reps tbody tr").count() > 25
    expect(page.locator(".breadcrumb").get_by_role("link", name="SLA dashboard")).to_have_attribute(
        "href", re.compile("period=this_quarter")
    )


def test_a_long_figure_never_overflows_its_tile_at_any_width(open_tab, manager, some_work):
    """The longest texts a tile shows ("1 h 03 min", "more than 1000"), put in every tile, at widths from
    a phone to a wide screen: each wraps between words if it must, never past its tile's edge."""
    tab = open_tab(manager)
    page = tab.visit("/dashboard/")
    page.evaluate(OPEN_SECTIONS)
    for text in ("1\u00a0h 03\u00a0min", "more than 1000", "100 %"):
        page.evaluate(
            """(text) => document.querySelectorAll('.figure-value').forEach((figure) => {
                 (figure.querySelector('a') || figure).textContent = text; })""",
            text,
        )
        for width in (360, 390, 576, 768, 992, 1200, 1366, 1920):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate(OVERFLOWING_FIGURES) == [], (text, width)


def test_the_first_and_last_day_only_for_a_custom_period(open_tab, manager):
    tab = open_tab(manager)
    page = tab.visit("/dashboard/")
    start, end = page.get_by_label("Start", exact=True), page.get_by_label("End", exact=True)
    expect(start).to_be_hidden()
    expect(end).to_be_hidden()

    page.get_by_label("Period", exact=True).select_option("custom")
    expect(start).to_be_visible()
    expect(start).to_be_focused()
    start.fill("2026-03-01")
    end.fill("2026-03-31")
    page.get_by_role("button", name="Show").click()
    tab.check()
    assert "period=custom" in page.url and "start=2026-03-01" in page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("March 2026")
    expect(page.get_by_label("Start", exact=True)).to_be_visible()

    page.get_by_label("Period", exact=True).select_option("this_month")
    expect(page.get_by_label("Start", exact=True)).to_be_hidden()
    page.get_by_role("button", name="Show").click()
    tab.check()
    assert "start=" not in page.url
