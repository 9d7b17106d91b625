"""The claim race: reps claiming one lead at the same moment, each on their own database connection."""

import threading

import pytest
from django.db import connection

from conftest import LeadFactory, UserFactory, advance
from leads import services
from leads.models import Lead, LeadEvent
from people.roles import Role
from sla.models import Deadline

REPS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_have_exactly_one_winner_and_the_losers_are_told_who(marketer, rep, campaign):
    """Eight reps claim the same waiting lead at once: exactly one gets it, the seven others get
    LeadAlreadyClaimed naming the winner, and the timeline and clocks record one claim only."""
    # Given a lead waiting in the queue and eight sales reps
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    reps = [
        UserFactory(username=f"racer{i}", first_name="Racer", last_name=f"No{i}", role=Role.SALES) for i in range(REPS)
    ]
    start = threading.Barrier(REPS, timeout=10)
    outcomes: dict[str, object] = {}

    def claim(racer):
        try:
            start.wait()
            services.lead_claim(lead=lead, rep=racer)
            outcomes[racer.username] = "won"
        except Exception as exc:  # every outcome is recorded and judged below
            outcomes[racer.username] = exc
        finally:
            connection.close()

    # When they all claim at the same moment, each in its own thread and transaction
    threads = [threading.Thread(target=claim, args=(racer,)) for racer in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    # Then exactly one rep won …
    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1, outcomes
    winner = next(racer for racer in reps if racer.username == winners[0])
    # … and every other rep was told, by name, who did
    losers = {name: outcome for name, outcome in outcomes.items() if name != winner.username}
    assert len(losers) == REPS - 1
    for outcome in losers.values():
        assert isinstance(outcome, services.LeadAlreadyClaimed), repr(outcome)
        assert str(outcome) == f"Too late: {winner.get_full_name()} already claimed this lead."

    # And the lead, its timeline, its handoff and its clocks show a single claim by the winner
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.CLAIMED, winner)
    claims = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CLAIMED)
    assert [(event.actor, event.from_status, event.to_status) for event in claims] == [
        (winner, Lead.Status.HANDED_OFF, Lead.Status.CLAIMED)
    ]
    handoff = lead.handoffs.get()
    assert handoff.claimed_by == winner
    assert Deadline.objects.get(handoff=handoff, kind=Deadline.Kind.CLAIM).met_at == handoff.claimed_at
    contact = Deadline.objects.get(handoff=handoff, kind=Deadline.Kind.FIRST_CONTACT)
    assert contact.owner == winner


@pytest.mark.django_db
def test_a_claim_takes_the_same_statements_however_many_leads_the_rep_holds(marketer, rep, campaign):
    """A claim is the lock, the rep's role and capacity, the move and its event, the handoff and its two
    clocks (their calendars included): 20 statements here, not one more for a busier rep."""
    from django.test.utils import CaptureQueriesContext

    from leads.models import RepProfile

    RepProfile.objects.update_or_create(user=rep, defaults={"capacity": 20})
    first = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    with CaptureQueriesContext(connection) as first_claim:
        services.lead_claim(lead=first, rep=type(rep).objects.get(pk=rep.pk))  # its roles not read yet
    for _ in range(5):
        advance(LeadFactory(campaign=campaign), Lead.Status.CLAIMED, marketer=marketer, rep=rep)
    later = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=rep)
    with CaptureQueriesContext(connection) as later_claim:
        services.lead_claim(lead=later, rep=type(rep).objects.get(pk=rep.pk))

    assert len(later_claim) == len(first_claim) <= 20
