"""Journey 2: a sales rep works the queue, on a desktop browser; every page also has to fit a phone."""

import datetime

import pytest
from django.utils import timezone

from conftest import LeadFactory, advance
from leads.models import Activity, Deal, Lead, MonthlyTarget, ReturnReason

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]


def test_a_rep_claims_works_converts_wins_and_returns(open_tab, marketer, rep, manager, campaign):
    """Filter the queue, claim, log a call, hold and resume, convert, win the deal, return another lead
    with a reason, and see the month's target progress."""
    # Given two hot leads and a cold one in the queue, a return reason and a target for this month
    hot = advance(
        LeadFactory(campaign=campaign, full_name="Hedy Lamarr", score=90),
        Lead.Status.HANDED_OFF,
        marketer=marketer,
        rep=None,
    )
    other = advance(
        LeadFactory(campaign=campaign, full_name="Katherine Johnson", score=85),
        Lead.Status.HANDED_OFF,
        marketer=marketer,
        rep=None,
    )
    advance(
        LeadFactory(campaign=campaign, full_name="Cold Calloway", score=10),
        Lead.Status.HANDED_OFF,
        marketer=marketer,
        rep=None,
    )
    ReturnReason.objects.create(label="Outside our market")
    month = timezone.localdate().replace(day=1)
    MonthlyTarget.objects.create(month=month, rep=rep, deals_won=2, revenue=20000, set_by=manager)
    tab = open_tab(rep)
    page = tab.page

    # When the rep filters the queue to hot leads
    tab.visit("/leads/queue/", shot="queue")
    page.get_by_label("Priority").select_option("hot")
    page.get_by_role("button", name="Apply").click()
    tab.check(shot="queue-hot")
    # Then only the hot leads are listed
    assert page.get_by_role("link", name="Hedy Lamarr").is_visible()
    assert page.get_by_role("link", name="Cold Calloway").count() == 0

    # When the rep claims Hedy Lamarr
    page.get_by_role("button", name="Claim Hedy Lamarr").click()
    tab.check(shot="claimed")
    assert "You claimed Hedy Lamarr" in page.content()

    # and logs a call
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Outcome").fill("Reached, wants pricing")
    page.get_by_label("Note").fill("Budget approved for Q1.")
    page.get_by_role("button", name="Log activity").click()
    tab.check(shot="call-logged")
    assert Activity.objects.filter(lead=hot, kind=Activity.Kind.CALL, outcome="Reached, wants pricing").exists()

    # puts the lead on hold and resumes it
    page.get_by_label("Reason").fill("Waiting on the customer's budget decision")
    page.get_by_role("button", name="Put on hold").click()
    tab.check(shot="on-hold")
    hot.refresh_from_db()
    assert hot.status == Lead.Status.ON_HOLD
    page.get_by_role("button", name="Resume").click()
    tab.check()
    hot.refresh_from_db()
    assert hot.status == Lead.Status.CONTACTED

    # converts it into a deal and moves the deal to won
    page.get_by_role("link", name="Convert to deal").click()
    tab.check(shot="convert")
    page.get_by_label("Deal value").fill("12500")
    page.get_by_role("button", name="Convert").click()
    tab.check(shot="converted")
    page.get_by_label("Stage").select_option("won")
    page.get_by_role("button", name="Move stage").click()
    tab.check(shot="won")
    deal = Deal.objects.get(lead=hot)
    assert deal.stage == Deal.Stage.WON
    assert deal.value == 12500

    # returns the other lead to marketing with a reason
    tab.visit("/leads/queue/")
    page.get_by_role("button", name="Claim Katherine Johnson").click()
    tab.check()
    page.get_by_role("link", name="Return to marketing").click()
    tab.check(shot="return")
    page.get_by_label("Reason").select_option("Outside our market")
    page.get_by_role("button", name="Return").click()
    tab.check(shot="returned")
    other.refresh_from_db()
    assert other.status == Lead.Status.RETURNED

    # Then My leads shows this month's target progress with the won deal counted
    tab.visit("/leads/mine/", shot="my-leads")
    progress = page.locator(".target-progress").inner_text()
    assert "1 of 2" in progress
    assert "50%" in progress
    assert deal.closed_at.date() >= month - datetime.timedelta(days=1)
