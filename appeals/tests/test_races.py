"""Once means once with people clicking at the same moment: two appeals of one breach, two rulings of
one appeal, each pair from two threads (two connections, two transactions) released together."""

import pytest
from django.core.exceptions import ValidationError

from appeals.models import Appeal, AppealRuling, Arbiter, Ruling
from appeals.services import appeal_make, appeal_rule
from conftest import UserFactory, at_once
from leads.models import LeadEvent
from people.roles import Role
from sla.models import Department

from .fixtures import K

pytestmark = pytest.mark.django_db(transaction=True)


def said(outcome) -> str:
    if isinstance(outcome, Appeal | AppealRuling):
        return "done"
    if isinstance(outcome, ValidationError):
        return f"refused: {' '.join(outcome.messages)}"
    return repr(outcome)  # anything else fails the test, shown as it was


def race(*actions) -> list[str]:
    """Run `actions` at once (see `at_once`); each ends "done" or "refused: …"."""
    return sorted(said(outcome) for outcome in at_once(*actions))


def test_two_appeals_of_one_breach_at_once_make_one(missed, rep, manager, team):
    deadline = missed(K.FIRST_CONTACT, rep)

    results = race(
        lambda: appeal_make(actor=rep, deadline=deadline, reason="Wrong number"),
        lambda: appeal_make(actor=manager, deadline=deadline, reason="Outage"),
    )

    assert results == ["done", "refused: This breach has already been appealed: a breach is appealed once."]
    assert Appeal.objects.count() == 1
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.APPEALED).count() == 1


def test_two_rulings_of_one_appeal_at_once_make_one(missed, rep, heads):
    arbiter = UserFactory(role=Role.MANAGERS)
    Arbiter.objects.create(user=arbiter, rules_on=Department.SALES)
    appeal = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")

    results = race(
        lambda: appeal_rule(actor=heads[Department.MARKETING], appeal=appeal, outcome=Ruling.UPHELD, note="Ours"),
        lambda: appeal_rule(actor=arbiter, appeal=appeal, outcome=Ruling.DISMISSED, note="Theirs"),
    )

    assert results == ["done", "refused: This appeal has already been ruled on: a ruling is final."]
    assert AppealRuling.objects.count() == 1
    ruled = [LeadEvent.Kind.APPEAL_UPHELD, LeadEvent.Kind.APPEAL_DISMISSED]
    assert LeadEvent.objects.filter(kind__in=ruled).count() == 1
