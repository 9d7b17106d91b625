"""Journey 4: two reps in two browsers press Claim on the same lead at the same moment."""

import pytest

from conftest import LeadFactory, UserFactory, advance
from leads.models import Lead
from people.names import person_name
from people.roles import Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_and_beat")]


def test_two_reps_claim_the_same_lead(open_tab, marketer, campaign):
    """Both see the lead in the queue and press Claim: one gets the lead, the other is told who has it."""
    # Given one lead in the queue and two reps looking at it
    lead = advance(
        LeadFactory(campaign=campaign, full_name="Grace Hopper"), Lead.Status.HANDED_OFF, marketer=marketer, rep=None
    )
    ada = UserFactory(username="ada", first_name="Ada", last_name="Byron", role=Role.SALES)
    alan = UserFactory(username="alan", first_name="Alan", last_name="Turing", role=Role.SALES)
    tabs = {ada: open_tab(ada), alan: open_tab(alan)}
    for tab in tabs.values():
        tab.visit("/leads/queue/", shot="queue")

    # When both press Claim, as close together as two browsers allow
    for tab in tabs.values():
        tab.press_together()
    for tab in tabs.values():
        tab.page.evaluate("() => document.querySelector('form[action$=\"/claim/\"]').requestSubmit()")

    # Then exactly one owns the lead, and the other is told who has it
    for tab in tabs.values():
        tab.page.wait_for_function("() => window.pressedHere === undefined")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CLAIMED
    winner = lead.owner
    loser = alan if winner == ada else ada
    tabs[winner].wait_for_next_page(shot="claimed")
    tabs[loser].wait_for_next_page(shot="too-late")
    assert "Grace Hopper" in tabs[winner].page.locator("h1").inner_text()
    assert f"Too late: {person_name(winner)} already claimed this lead." in tabs[loser].page.content()
