"""Journey 1: a marketer sets up a campaign, captures leads three ways and hands them to sales."""

import csv
import io
import json

import pytest

from campaigns.models import Campaign
from conftest import LeadFactory, advance
from leads.models import Lead

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]

CSV = (
    "Name,Email,Company,Job title\n"
    "Ada Lovelace,ada@engines.example,Analytical Engines,CTO\n"
    "Charles Babbage,charles@engines.example,Analytical Engines,CEO\n"
    "No Address,not-an-email,Nowhere Ltd,Intern\n"
    ",nameless@example.org,Nobody Inc,\n"
    "Mary Somerville,mary@sciences.example,Connexion,Author\n"
)


def test_a_marketer_runs_a_campaign_from_import_to_hand_off(open_tab, live_server, marketer, rep, campaign):
    """Create a campaign, import a CSV with bad rows, post a lead through web intake, hand leads off one
    by one and in bulk, and put a lead sales returned back into nurturing."""
    # Given two MQLs ready for a bulk hand-off and a lead sales returned
    ready = [
        advance(LeadFactory(campaign=campaign, full_name=name), Lead.Status.MQL, marketer=marketer, rep=rep)
        for name in ("Bulk One", "Bulk Two")
    ]
    returned = advance(
        LeadFactory(campaign=campaign, full_name="Sent Back"), Lead.Status.RETURNED, marketer=marketer, rep=rep
    )
    tab = open_tab(marketer)
    page = tab.page

    # When the marketer creates a campaign
    tab.visit("/campaigns/", shot="campaigns")
    page.get_by_role("link", name="New campaign").click()
    tab.check(shot="new-campaign")
    page.get_by_label("Name").fill("Spring launch")
    page.get_by_label("Channel").select_option("event")
    page.get_by_label("Start date").fill("2026-03-01")
    page.get_by_label("Budget").fill("12000")
    page.get_by_role("button", name="Save").click()
    tab.check(shot="campaign")
    spring = Campaign.objects.get(name="Spring launch")

    # imports a CSV with two bad rows
    page.get_by_role("link", name="Import CSV").click()
    tab.check(shot="import")
    page.get_by_label("File").set_input_files(
        files=[{"name": "fair.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and check").click()
    tab.check(shot="import-preview")

    # Then each bad row's problem is listed, and the bad rows download as a CSV with the reasons
    problems = page.locator("table").last.inner_text()
    assert "not-an-email" in problems or "valid email" in problems.lower()
    assert "name" in problems.lower()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the 2 bad rows as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [row["Email"] for row in rows] == ["not-an-email", "nameless@example.org"]
    assert all(row["error"] for row in rows)

    # When the marketer imports the good rows, the worker imports them
    page.get_by_role("button", name="Import 3 leads").click()
    page.get_by_text("3 new leads").wait_for(timeout=30_000)
    tab.check(shot="import-done")
    assert set(spring.leads.values_list("email", flat=True)) == {
        "ada@engines.example",
        "charles@engines.example",
        "mary@sciences.example",
    }

    # issues an intake token and a landing page posts a lead with it
    tab.visit(f"/campaigns/{spring.pk}/intake/")
    page.get_by_role("button", name="Issue token").click()
    tab.check(shot="intake-token")
    token = page.locator("#intake-token").inner_text().strip()
    response = page.request.post(
        f"{live_server.url}/campaigns/intake/{spring.intake_key}/leads/",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data=json.dumps({"name": "Grace Hopper", "email": "grace@navy.example", "company": "US Navy"}),
    )
    assert response.status == 201, response.text()
    posted = Lead.objects.get(email="grace@navy.example")
    assert posted.campaign == spring

    # hands that lead to sales from its page
    tab.visit(f"/leads/{posted.pk}/", shot="posted-lead")
    page.get_by_role("button", name="Mark MQL").click()
    tab.check()
    page.get_by_role("link", name="Hand to sales").click()
    tab.check(shot="hand-off")
    page.get_by_label("Note for the rep").fill("Asked for a demo at the fair")
    page.get_by_role("button", name="Hand off", exact=True).click()
    tab.check(shot="handed-off")
    posted.refresh_from_db()
    assert posted.status == Lead.Status.HANDED_OFF

    # hands the two MQLs to sales in bulk
    tab.visit("/campaigns/leads/?status=mql", shot="lead-list")
    for lead in ready:
        page.get_by_label(f"Tick {lead.full_name}").check()
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    page.get_by_role("button", name="Hand off ticked leads").click()
    tab.check(shot="bulk-handed-off")
    assert {lead.status for lead in Lead.objects.filter(pk__in=[lead.pk for lead in ready])} == {Lead.Status.HANDED_OFF}

    # puts the lead sales returned back into nurturing
    tab.visit("/campaigns/returned/", shot="returned")
    page.get_by_role("link", name="Back to nurturing").click()
    tab.check(shot="renurture")
    page.get_by_role("button", name="Back to nurturing").click()
    tab.check()
    returned.refresh_from_db()
    assert returned.status == Lead.Status.NEW
