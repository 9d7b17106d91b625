"""An escalation's reassignment follows the routing rules and owner matching, as a hand-off does, and
falls back to any rep on shift with room when the rule's team has nobody (it must find someone)."""

import pytest

from conftest import LeadFactory
from leads import services
from leads.models import Lead, RepProfile
from leads.tests.test_assignment import reps
from routing.models import RoutingDecision
from routing.services import rules_publish
from routing.tests.test_rules import hand_off, rule, team

pytestmark = pytest.mark.django_db


def territories(manager):
    """The territories, made after the lead waits in the queue."""
    de_missed, de_next, us = reps(3)
    dach = team("DACH", de_missed, de_next)
    rest = team("US", us)
    RepProfile.objects.filter(user=de_next).update(routing_pass=3)  # far behind in turn order
    rules_publish(actor=manager, rules=[rule("Germany", dach, countries="Germany"), rule("Rest", rest)])
    return de_missed, de_next, us


def queued(campaign, marketer, **fields) -> Lead:
    """A lead in the queue, as an escalation finds it (no team routes it at hand-off)."""
    lead = hand_off(campaign, marketer, **fields)
    assert lead.owner is None
    return lead


def test_the_rules_team_gets_the_breached_lead_not_whoever_is_next(manager, marketer, campaign):
    lead = queued(campaign, marketer, country="Germany")
    de_missed, de_next, us = territories(manager)

    assert services.lead_assign_after_breach(lead=lead, breached_by=de_missed) == de_next

    decision = RoutingDecision.objects.filter(lead=lead).first()
    assert (decision.trigger, decision.rule.name, decision.chosen) == ("escalation", "Germany", de_next)
    assert "by rule “Germany”" in lead.events.get(kind="assigned").note


def test_the_companys_rep_gets_it_before_the_rules_team(manager, marketer, campaign):
    lead = queued(campaign, marketer, country="Germany", email="cto@orbital.io")
    de_missed, de_next, us = territories(manager)
    LeadFactory(campaign=campaign, email="ceo@orbital.io", owner=us, status=Lead.Status.CLAIMED)  # us works Orbital
    RepProfile.objects.filter(user=us).update(routing_pass=5)  # and is last in turn order

    assert services.lead_assign_after_breach(lead=lead, breached_by=de_missed) == us
    assert "who works this company" in lead.events.get(kind="assigned").note


def test_with_nobody_in_the_rules_team_anyone_on_shift_takes_it(manager, marketer, campaign):
    lead = queued(campaign, marketer, country="Germany")
    de_missed, de_next, us = territories(manager)
    RepProfile.objects.filter(user=de_next).update(is_away=True)

    assert services.lead_assign_after_breach(lead=lead, breached_by=de_missed) == us
    assert "nobody in the team of rule “Germany”" in lead.events.get(kind="assigned").note
