"""A breach recorded by the sweep, then a manager's reassignment: the record of who was late stays put."""

import pytest

from enforcement.sweep import sweep_deadlines
from leads import services
from leads.tests.test_assignment import waiting
from sla.models import Deadline

pytestmark = pytest.mark.django_db


def test_a_breached_clock_stays_with_the_rep_who_missed_it(marketer, rep, other_rep, manager, campaign):
    """Reassigning after a missed first contact moves the lead, but the breached clock keeps its
    owner: the record of who was late does not pass to the rep who takes over."""
    lead = waiting(campaign, marketer)
    services.lead_claim(lead=lead, rep=rep)
    contact = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
    sweep_deadlines(now=contact.due_at)

    services.lead_assign(lead=lead, rep=other_rep, actor=manager)

    lead.refresh_from_db()
    assert lead.owner == other_rep
    contact.refresh_from_db()
    assert (contact.owner, contact.breached_at is not None, contact.met_at) == (rep, True, None)
