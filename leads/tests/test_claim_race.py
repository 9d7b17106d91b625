"""The claim race: when reps claim the same lead at the same moment, exactly one wins."""

import threading

import pytest
from django.db import connection

from conftest import LeadFactory, UserFactory
from handoff.models import Deadline
from handoff.roles import Role
from leads import services
from leads.models import Lead, LeadEvent
from leads.services import LeadAlreadyClaimed

REPS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_have_exactly_one_winner_and_the_others_are_told_who(marketer, campaign):
    # Given a lead waiting in the queue and eight reps on eight connections
    lead = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    reps = [UserFactory(username=f"racer{i}", first_name=f"Racer{i}", role=Role.SALES) for i in range(REPS)]
    start = threading.Barrier(REPS)
    won, lost, errors = [], [], []

    def claim(rep):
        try:
            start.wait()
            services.lead_claim(lead=Lead.objects.get(pk=lead.pk), rep=rep)
            won.append(rep)
        except LeadAlreadyClaimed as exc:
            lost.append(str(exc))
        except Exception as exc:  # anything else is a bug the test must show
            errors.append(repr(exc))
        finally:
            connection.close()

    # When they all claim at once
    threads = [threading.Thread(target=claim, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then exactly one wins, and every loser's message names the winner
    assert errors == []
    assert len(won) == 1
    assert len(lost) == REPS - 1
    winner = won[0]
    assert all(winner.get_full_name() in message for message in lost)
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.CLAIMED, winner)
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CLAIMED).count() == 1
    assert Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).count() == 1
