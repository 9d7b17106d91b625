"""The lead lifecycle: every legal move works and leaves one event; every illegal one leaves nothing."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from conftest import LeadFactory
from handoff.models import Deadline, Handoff, SlaPolicy
from leads import services
from leads.models import Lead, LeadEvent
from leads.transitions import ALLOWED, TransitionError, transition

pytestmark = pytest.mark.django_db
S = Lead.Status


def walk(lead, to, *, marketer, rep):
    """Bring `lead` (NEW) to status `to` through the services, the way users do."""
    paths = {
        S.NEW: [],
        S.MQL: ["qualify"],
        S.HANDED_OFF: ["qualify", "hand_off"],
        S.CLAIMED: ["qualify", "hand_off", "claim"],
        S.CONTACTED: ["qualify", "hand_off", "claim", "contact"],
        S.CONVERTED: ["qualify", "hand_off", "claim", "contact", "convert"],
        S.RETURNED: ["qualify", "hand_off", "claim", "return"],
        S.DISQUALIFIED: ["disqualify"],
    }
    steps = {
        "qualify": lambda: services.lead_qualify(lead=lead, actor=marketer),
        "hand_off": lambda: services.lead_hand_off(lead=lead, actor=marketer),
        "claim": lambda: services.lead_claim(lead=lead, rep=rep),
        "contact": lambda: services.lead_log_first_contact(lead=lead, actor=rep),
        "convert": lambda: services.lead_convert(lead=lead, actor=rep, value=Decimal("100")),
        "return": lambda: services.lead_return(lead=lead, actor=rep, reason="No budget"),
        "disqualify": lambda: services.lead_disqualify(lead=lead, actor=marketer),
    }
    for step in paths[to]:
        steps[step]()
    lead.refresh_from_db()
    assert lead.status == to
    return lead


def move(lead, to, *, marketer, rep):
    """Make the move (lead.status → to) with the service a user would use for it."""
    actor_on_sales_side = lead.status in (S.CLAIMED, S.CONTACTED)
    if to == S.MQL:
        return services.lead_qualify(lead=lead, actor=marketer)
    if to == S.HANDED_OFF:
        return services.lead_hand_off(lead=lead, actor=marketer, note="for you")
    if to == S.CLAIMED:
        return services.lead_claim(lead=lead, rep=rep)
    if to == S.CONTACTED:
        return services.lead_log_first_contact(lead=lead, actor=rep)
    if to == S.CONVERTED:
        return services.lead_convert(lead=lead, actor=rep, value=Decimal("2500.00"))
    if to == S.RETURNED:
        return services.lead_return(lead=lead, actor=rep, reason="Wrong persona", note="Not a buyer")
    if to == S.DISQUALIFIED:
        return services.lead_disqualify(lead=lead, actor=rep if actor_on_sales_side else marketer)
    if to == S.NEW:
        return services.lead_renurture(lead=lead, actor=marketer)
    raise AssertionError(to)


@pytest.mark.parametrize("from_status,to_status", sorted(ALLOWED))
def test_every_legal_move_works_and_appends_one_event(marketer, rep, campaign, from_status, to_status):
    lead = walk(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    events_before = lead.events.count()

    move(lead, to_status, marketer=marketer, rep=rep)

    lead.refresh_from_db()
    assert lead.status == to_status
    assert lead.events.count() == events_before + 1
    event = lead.events.last()
    assert (event.from_status, event.to_status, event.kind) == (from_status, to_status, ALLOWED[from_status, to_status])
    assert event.actor in (marketer, rep)


ILLEGAL = [(a, b) for a in S.values for b in S.values if (a, b) not in ALLOWED]


@pytest.mark.parametrize("from_status,to_status", ILLEGAL)
def test_every_illegal_move_is_refused_and_leaves_no_event(marketer, rep, campaign, from_status, to_status):
    lead = walk(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    events_before = list(lead.events.values_list("pk", flat=True))

    with pytest.raises(TransitionError) as refused, transaction.atomic():
        transition(lead, to=to_status, actor=marketer)

    assert "cannot be moved" in str(refused.value)
    lead.refresh_from_db()
    assert lead.status == from_status
    assert list(lead.events.values_list("pk", flat=True)) == events_before


@pytest.mark.parametrize(
    "from_status,service",
    [
        (S.MQL, lambda lead, m, r: services.lead_claim(lead=lead, rep=r)),
        (S.CLAIMED, lambda lead, m, r: services.lead_convert(lead=lead, actor=r, value=Decimal(1))),
        (S.NEW, lambda lead, m, r: services.lead_hand_off(lead=lead, actor=m)),
        (S.CONVERTED, lambda lead, m, r: services.lead_return(lead=lead, actor=r, reason="Other")),
        (S.DISQUALIFIED, lambda lead, m, r: services.lead_renurture(lead=lead, actor=m)),
    ],
)
def test_illegal_moves_through_services_change_nothing(marketer, rep, campaign, from_status, service):
    lead = walk(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    counts = (lead.events.count(), Handoff.objects.count(), Deadline.objects.count())
    with pytest.raises(TransitionError):
        service(lead, marketer, rep)
    lead.refresh_from_db()
    assert lead.status == from_status
    assert (lead.events.count(), Handoff.objects.count(), Deadline.objects.count()) == counts


def test_a_rep_cannot_act_on_another_reps_lead(marketer, rep, other_rep, campaign):
    lead = walk(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    for attempt in (
        lambda: services.lead_log_first_contact(lead=lead, actor=other_rep),
        lambda: services.lead_return(lead=lead, actor=other_rep, reason="Other"),
        lambda: services.lead_disqualify(lead=lead, actor=other_rep),
    ):
        with pytest.raises(TransitionError, match="Only the rep who owns"):
            attempt()
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (S.CLAIMED, rep)


def test_a_manager_may_step_in_on_a_reps_lead(marketer, rep, manager, campaign):
    lead = walk(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    services.lead_log_first_contact(lead=lead, actor=manager, note="Covered while Sam was out")
    assert lead.events.last().actor == manager


def test_roles_are_checked_by_the_services_too(marketer, rep, campaign):
    lead = LeadFactory(campaign=campaign)
    with pytest.raises(TransitionError):
        services.lead_qualify(lead=lead, actor=rep)
    walk(lead, S.HANDED_OFF, marketer=marketer, rep=rep)
    with pytest.raises(TransitionError):
        services.lead_claim(lead=lead, rep=marketer)


@pytest.mark.parametrize("reason", ["", "   "])
def test_returning_to_marketing_needs_a_reason(marketer, rep, campaign, reason):
    lead = walk(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    with pytest.raises(TransitionError, match="why"):
        services.lead_return(lead=lead, actor=rep, reason=reason)
    lead.refresh_from_db()
    assert lead.status == S.CLAIMED


def test_a_returned_lead_can_be_handed_off_again_with_a_new_handoff(marketer, rep, other_rep, campaign):
    lead = walk(LeadFactory(campaign=campaign), S.RETURNED, marketer=marketer, rep=rep)
    services.lead_renurture(lead=lead, actor=marketer)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    services.lead_claim(lead=lead, rep=other_rep)

    first, second = lead.handoffs.order_by("handed_off_at", "id")
    assert (first.outcome, first.return_reason, first.claimed_by) == (Handoff.Outcome.RETURNED, "No budget", rep)
    assert (second.closed_at, second.claimed_by) == (None, other_rep)
    assert [e.kind for e in lead.events.all()].count(LeadEvent.Kind.RETURNED) == 1


class TestDeadlines:
    def test_hand_off_starts_the_claim_clock_from_the_policy(self, marketer, rep, campaign):
        lead = walk(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
        claim = Deadline.objects.get(lead=lead)
        assert claim.kind == Deadline.Kind.CLAIM
        assert claim.allowed == datetime.timedelta(hours=4)
        assert claim.due_at == claim.starts_at + datetime.timedelta(hours=4)
        assert claim.owner is None
        assert claim.policy == SlaPolicy.current()

    def test_claim_meets_the_claim_clock_and_starts_first_contact(self, marketer, rep, campaign):
        lead = walk(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
        claim = Deadline.objects.get(lead=lead, kind=Deadline.Kind.CLAIM)
        contact = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
        assert claim.met_at is not None and claim.breached_at is None
        assert contact.owner == rep
        assert contact.due_at == contact.starts_at + datetime.timedelta(hours=24)
        assert contact.met_at is None

    def test_first_contact_meets_its_clock(self, marketer, rep, campaign):
        lead = walk(LeadFactory(campaign=campaign), S.CONTACTED, marketer=marketer, rep=rep)
        assert Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).met_at is not None

    @pytest.mark.parametrize(
        "end,outcome",
        [(S.RETURNED, Handoff.Outcome.RETURNED), (S.DISQUALIFIED, Handoff.Outcome.DISQUALIFIED)],
    )
    def test_leaving_the_sales_path_stops_running_clocks(self, marketer, rep, campaign, end, outcome):
        lead = walk(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
        move(lead, end, marketer=marketer, rep=rep)
        contact = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
        assert contact.cancelled_at is not None and contact.met_at is None
        handoff = lead.handoffs.get()
        assert (handoff.outcome, handoff.closed_at is not None) == (outcome, True)

    def test_converting_closes_the_handoff_and_records_the_deal(self, marketer, rep, campaign):
        lead = walk(LeadFactory(campaign=campaign), S.CONVERTED, marketer=marketer, rep=rep)
        assert lead.handoffs.get().outcome == Handoff.Outcome.CONVERTED
        assert (lead.deal.value, lead.deal.owner) == (Decimal("100.00"), rep)
        assert not Deadline.objects.running().filter(lead=lead).exists()

    def test_a_policy_change_does_not_rewrite_a_deadline_already_set(self, marketer, rep, campaign):
        lead = walk(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
        due_before = Deadline.objects.get(lead=lead).due_at
        SlaPolicy.objects.create(name="Stricter", claim_hours=1, first_contact_hours=2, created_at=timezone.now())
        policy = SlaPolicy.current()
        policy.claim_hours = Decimal("0.5")
        policy.save()

        assert Deadline.objects.get(lead=lead).due_at == due_before
        later = walk(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
        assert Deadline.objects.get(lead=later).allowed == datetime.timedelta(minutes=30)


class TestTimelineIsAppendOnly:
    def test_the_model_refuses_to_edit_or_delete_an_event(self, marketer, campaign):
        lead = walk(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)
        event = lead.events.get()
        event.note = "rewritten"
        with pytest.raises(ValueError, match="never edited"):
            event.save()
        with pytest.raises(ValueError, match="never deleted"):
            event.delete()

    @pytest.mark.parametrize(
        "statement",
        ["UPDATE leads_leadevent SET note = 'rewritten'", "DELETE FROM leads_leadevent"],
    )
    def test_the_database_refuses_too(self, marketer, campaign, statement):
        lead = walk(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)
        with (
            pytest.raises((InternalError, IntegrityError), match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
        assert lead.events.get().note == ""

    def test_a_queryset_update_is_refused_as_well(self, marketer, campaign):
        walk(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)
        with pytest.raises(InternalError), transaction.atomic():
            LeadEvent.objects.update(note="rewritten")
