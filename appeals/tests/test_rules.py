"""The rules of an appeal, at the service: a missed deadline is appealed once, by the person it is charged
to or their manager; the other department's head (or a manager designated for it) rules once; both are
append-only timeline events, and the database refuses to rewrite them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from appeals.models import Appeal, AppealRuling, Arbiter, Ruling
from appeals.queries import open_appeals_for
from appeals.services import appeal_make, appeal_refusal, appeal_rule, may_rule
from conftest import UserFactory
from leads.models import LeadEvent
from people.roles import Role
from sla.models import Department, DepartmentHead

from .fixtures import START, K

pytestmark = pytest.mark.django_db
SALES, MARKETING = Department.SALES, Department.MARKETING


def test_the_rep_charged_appeals_once_and_it_is_on_the_timeline(missed, rep):
    deadline = missed(K.FIRST_CONTACT, rep)

    appeal = appeal_make(actor=rep, deadline=deadline, reason="The lead's phone number was wrong")

    assert (appeal.side, appeal.charged_to, appeal.appellant) == (SALES, rep, rep)
    event = LeadEvent.objects.get(lead=deadline.lead, kind=LeadEvent.Kind.APPEALED)
    assert event.actor == rep
    assert event.note == "The lead's phone number was wrong"
    assert event.data == {"deadline": deadline.pk, "appeal": appeal.pk, "kind": K.FIRST_CONTACT}
    with pytest.raises(ValidationError, match="already been appealed"):
        appeal_make(actor=rep, deadline=deadline, reason="Again")
    assert Appeal.objects.count() == 1
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.APPEALED).count() == 1


def test_a_colleague_may_not_appeal_but_the_reps_team_manager_and_the_head_of_sales_may(
    missed, rep, other_rep, manager, team, heads
):
    outsider = UserFactory(role=Role.MANAGERS)  # a manager, but not rep's nor a head
    deadline = missed(K.FIRST_CONTACT, rep)
    now = timezone.now()

    for stranger in (other_rep, outsider, heads[MARKETING]):
        assert "Only the person this breach is charged to" in appeal_refusal(stranger, deadline, now=now)
        with pytest.raises(PermissionDenied):
            appeal_make(actor=stranger, deadline=deadline, reason="Not mine to appeal")
    assert appeal_refusal(manager, deadline, now=now) is None
    assert appeal_refusal(heads[SALES], deadline, now=now) is None

    appeal = appeal_make(actor=manager, deadline=deadline, reason="The system was down that morning")
    assert (appeal.appellant, appeal.charged_to) == (manager, rep)


def test_the_queues_missed_claim_is_appealed_by_a_manager_who_leads_a_sales_team(missed, rep, manager, team):
    deadline = missed(K.CLAIM, None)

    with pytest.raises(PermissionDenied, match="the queue"):
        appeal_make(actor=rep, deadline=deadline, reason="Not mine")
    appeal = appeal_make(actor=manager, deadline=deadline, reason="Handed off at 16:59 on a Friday")

    assert appeal.charged_to is None and appeal.side == SALES


def test_only_a_missed_deadline_is_appealed_and_a_reason_is_required(missed, rep):
    upcoming = missed(K.FIRST_CONTACT, rep, start=timezone.now() + datetime.timedelta(days=7))
    with pytest.raises(ValidationError, match="not missed"):
        appeal_make(actor=rep, deadline=upcoming, reason="Just in case")

    met = missed(K.FIRST_CONTACT, rep)
    met.met_at = START + datetime.timedelta(minutes=5)
    met.save(update_fields=["met_at"])
    with pytest.raises(ValidationError, match="not missed"):
        appeal_make(actor=rep, deadline=met, reason="It was met")

    late = missed(K.FIRST_CONTACT, rep)
    with pytest.raises(ValidationError, match="Say why"):
        appeal_make(actor=rep, deadline=late, reason="   ")
    assert not Appeal.objects.exists()


def test_the_head_of_marketing_rules_on_a_sales_appeal_once(missed, rep, heads):
    appeal = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")

    with pytest.raises(PermissionDenied, match="head of marketing"):
        appeal_rule(actor=heads[SALES], appeal=appeal, outcome=Ruling.UPHELD, note="My own side")
    ruling = appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome=Ruling.UPHELD, note="The number was ours")

    assert (ruling.outcome, ruling.judge) == (Ruling.UPHELD, heads[MARKETING])
    event = LeadEvent.objects.get(kind=LeadEvent.Kind.APPEAL_UPHELD)
    assert event.note == "The number was ours" and event.data["appeal"] == appeal.pk
    with pytest.raises(ValidationError, match="already been ruled"):
        appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome=Ruling.DISMISSED, note="Changed my mind")
    assert AppealRuling.objects.get().outcome == Ruling.UPHELD
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.APPEAL_DISMISSED).exists()


def test_a_marketers_follow_up_appeal_is_ruled_by_the_head_of_sales(missed, marketer, heads):
    deadline = missed(K.FOLLOW_UP, marketer)
    appeal = appeal_make(actor=marketer, deadline=deadline, reason="The lead was on holiday")
    assert appeal.side == MARKETING

    assert not may_rule(heads[MARKETING], appeal)
    assert list(open_appeals_for(heads[SALES])) == [appeal]
    assert list(open_appeals_for(heads[MARKETING])) == []
    appeal_rule(actor=heads[SALES], appeal=appeal, outcome=Ruling.DISMISSED, note="Five days were enough")

    assert LeadEvent.objects.filter(lead=deadline.lead, kind=LeadEvent.Kind.APPEAL_DISMISSED).count() == 1
    assert list(open_appeals_for(heads[SALES])) == []


def test_a_designated_manager_rules_but_nobody_rules_on_their_own_appeal_or_breach(missed, rep, manager, team):
    arbiter = UserFactory(role=Role.MANAGERS)
    Arbiter.objects.create(user=arbiter, rules_on=SALES)
    Arbiter.objects.create(user=manager, rules_on=SALES)  # rep's team manager, designated too
    appeal = appeal_make(actor=manager, deadline=missed(K.FIRST_CONTACT, rep), reason="Outage")

    assert not may_rule(manager, appeal), "the appellant never rules"
    assert not may_rule(rep, appeal)
    assert may_rule(arbiter, appeal)
    with pytest.raises(PermissionDenied):
        appeal_rule(actor=manager, appeal=appeal, outcome=Ruling.UPHELD, note="Mine")
    appeal_rule(actor=arbiter, appeal=appeal, outcome=Ruling.UPHELD, note="Outage confirmed by IT")


def test_one_head_of_both_may_rule_but_not_on_their_own_appeal(missed, rep, heads):
    both = heads[SALES]
    DepartmentHead.objects.filter(department=MARKETING).update(user=both)
    own = appeal_make(actor=both, deadline=missed(K.FIRST_CONTACT, rep), reason="Outage")
    reps = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")

    assert not may_rule(both, own)
    assert may_rule(both, reps)


def test_a_ruling_needs_an_outcome_and_reasons(missed, rep, heads):
    appeal = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")

    with pytest.raises(ValidationError, match="uphold or dismiss"):
        appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome="maybe", note="Hmm")
    with pytest.raises(ValidationError, match="reasons"):
        appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome=Ruling.UPHELD, note="")
    assert not AppealRuling.objects.exists()


def test_the_database_refuses_to_rewrite_an_appeal_or_a_ruling(missed, rep, heads):
    appeal = appeal_make(actor=rep, deadline=missed(K.FIRST_CONTACT, rep), reason="Wrong number")
    ruling = appeal_rule(actor=heads[MARKETING], appeal=appeal, outcome=Ruling.DISMISSED, note="No evidence")

    with pytest.raises(ValueError, match="never edited"):
        appeal.save()
    with pytest.raises(ValueError, match="never deleted"):
        ruling.delete()
    for rows, change in (
        (Appeal.objects.all(), {"reason": "Something else"}),
        (AppealRuling.objects.all(), {"outcome": Ruling.UPHELD}),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            rows.update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AppealRuling.objects.all()._raw_delete(AppealRuling.objects.db)
    assert AppealRuling.objects.get().outcome == Ruling.DISMISSED
