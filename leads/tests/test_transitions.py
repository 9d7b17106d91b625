"""The lead lifecycle through the services: every legal move works and leaves exactly one timeline
event; every illegal move is refused and leaves nothing behind; the SLA clocks follow the lead."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from conftest import LeadFactory, advance, move
from leads import services
from leads.models import Deal, Lead, LeadEvent
from leads.transitions import FIRST_STEP, MOVES, WHERE_IT_IS, TransitionError, transition, wrong_status
from sla.calendar import add_business_time
from sla.models import BusinessCalendar, Deadline, Handoff, SlaPolicy

pytestmark = pytest.mark.django_db

S = Lead.Status
HOUR = datetime.timedelta(hours=1)


def business(start: datetime.datetime, allowed: datetime.timedelta) -> datetime.datetime:
    """When `allowed` business time after `start` ends in the default calendar (Mon–Fri 9–17, Berlin)."""
    return add_business_time(start, allowed, BusinessCalendar.objects.get(is_default=True).spec())


def snapshot(lead: Lead) -> tuple:
    """What a refused move must leave as it was: the lead row, its timeline, its handoffs and clocks."""
    row = Lead.objects.values("status", "owner_id", "status_changed_at").get(pk=lead.pk)
    return (
        row,
        list(LeadEvent.objects.filter(lead=lead).values_list("pk", flat=True)),
        list(Handoff.objects.filter(lead=lead).values("pk", "closed_at", "outcome", "claimed_by_id")),
        list(Deadline.objects.filter(lead=lead).values("pk", "met_at", "cancelled_at")),
        Deal.objects.filter(lead=lead).count(),
    )


# --- Legal moves -----------------------------------------------------------------------------


# Every way a move can go: (move, from, to); a move that keeps the status (reassign) has to == from.
LEGAL = sorted((rule.name, src, to) for rule in MOVES.values() for src in rule.sources for to in (rule.to or (src,)))
ILLEGAL = sorted((rule.name, status) for rule in MOVES.values() for status in S.values if status not in rule.sources)


def make(name: str, lead: Lead, *, marketer, rep, other_rep, manager) -> None:
    """Make the named move through the service that owns it, as whoever normally makes it."""
    match name:
        case "claim" | "first_contact" | "hold" | "convert" | "return" | "qualify" | "hand_off" | "renurture":
            move(lead, MOVES[name].to[0], marketer=marketer, rep=rep)
        case "assign":
            services.lead_assign(lead=lead, rep=rep, actor=manager)
        case "reassign":
            services.lead_assign(lead=lead, rep=other_rep, actor=manager)
        case "resume":
            services.lead_resume(lead=lead, actor=rep)
        case "requeue":
            services.lead_requeue(lead=lead, actor=rep, reason="Going on leave")
        case "disqualify" | "disqualify_worked":
            move(lead, S.DISQUALIFIED, marketer=marketer, rep=rep)
        case "merge":
            move(lead, S.MERGED, marketer=marketer, rep=rep)
        case _:
            raise AssertionError(f"No service drives {name}")
    lead.refresh_from_db()


@pytest.mark.parametrize(("name", "from_status", "to_status"), LEGAL)
def test_every_legal_move_works_through_its_service_and_appends_one_event(
    marketer, rep, other_rep, manager, campaign, name, from_status, to_status
):
    """Each move from each of its statuses is reachable through leads.services and writes exactly one
    event of the kind the move names, with the acting user and both statuses (none for a move that
    keeps the status)."""
    # Given a lead in `from_status`
    if name == "resume":
        # Resuming returns a lead to where it was put on hold, so hold it from `to_status`.
        lead = advance(LeadFactory(campaign=campaign), to_status, marketer=marketer, rep=rep)
        move(lead, S.ON_HOLD, marketer=marketer, rep=rep)
    else:
        lead = advance(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    assert lead.status == from_status
    events_before = set(lead.events.values_list("pk", flat=True))
    actor = {"assign": manager, "reassign": manager}.get(name)
    if actor is None:
        acts_for_sales = from_status in Lead.WORKED_BY_SALES or to_status == S.CLAIMED
        actor = rep if acts_for_sales else marketer

    # When the service for the move runs
    make(name, lead, marketer=marketer, rep=rep, other_rep=other_rep, manager=manager)

    # Then the lead moved and the timeline grew by exactly one event describing the move (holding or
    # resuming a lead with a running clock also notes the paused or resumed SLA clock)
    assert lead.status == to_status
    clock = {LeadEvent.Kind.CLOCK_PAUSED, LeadEvent.Kind.CLOCK_RESUMED}
    new_events = list(lead.events.exclude(pk__in=events_before).exclude(kind__in=clock))
    assert len(new_events) == 1
    if S.ON_HOLD not in (from_status, to_status):
        assert not lead.events.exclude(pk__in=events_before).filter(kind__in=clock).exists()
    event = new_events[0]
    assert event.kind == MOVES[name].event
    assert event.actor == actor
    if MOVES[name].to:
        assert (event.from_status, event.to_status) == (from_status, to_status)
        assert lead.status_changed_at == event.created_at
    else:
        assert (event.from_status, event.to_status) == ("", "")


def test_a_returned_lead_can_go_round_again_with_a_new_handoff(marketer, rep, other_rep, campaign):
    """Return → re-nurture → MQL → hand-off opens a second pass with its own claim clock; the first pass
    stays closed as returned, with its reason."""
    lead = advance(LeadFactory(campaign=campaign), S.RETURNED, marketer=marketer, rep=rep)
    assert lead.owner == rep

    for step in (S.NEW, S.MQL, S.HANDED_OFF):
        move(lead, step, marketer=marketer, rep=rep)

    assert lead.owner is None
    first, second = lead.handoffs.order_by("handed_off_at", "pk")
    assert (first.outcome, first.return_reason, first.claimed_by) == (
        Handoff.Outcome.RETURNED,
        "Outside our market",
        rep,
    )
    assert (second.closed_at, second.claimed_by) == (None, None)
    assert second.deadlines.get().kind == Deadline.Kind.CLAIM
    services.lead_claim(lead=lead, rep=other_rep)
    second.refresh_from_db()
    assert second.claimed_by == other_rep


# --- Illegal moves ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "from_status"), ILLEGAL)
def test_every_illegal_move_is_refused_and_changes_nothing(marketer, rep, campaign, name, from_status):
    """transition() refuses a move from any status it does not start from, even to Handoff itself (no
    actor: only the status binds), with a plain sentence saying what the move needs and where the lead
    is, and writes neither the lead nor the timeline."""
    lead = advance(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    before = snapshot(lead)

    with pytest.raises(TransitionError) as refused, transaction.atomic():
        transition(Lead.objects.select_for_update().get(pk=lead.pk), move=name, actor=None)

    assert (
        str(refused.value)
        == f"{MOVES[name].needs} — {FIRST_STEP.get((name, from_status)) or WHERE_IT_IS[from_status]}."
    )
    assert snapshot(lead) == before


def test_every_status_has_a_way_in_and_only_the_final_ones_have_no_way_out():
    """The move table covers the lifecycle: each status but NEW is where some move leads, and only
    converted and merged leads (the ends of the road) start no move, so a new status cannot slip by."""
    sources = {status for rule in MOVES.values() for status in rule.sources}
    targets = {status for rule in MOVES.values() for status in rule.to}
    assert set(S.values) - targets == {S.NEW} - targets
    assert set(S.values) - sources == {S.CONVERTED, S.MERGED}


def test_a_move_is_known_by_its_name_not_by_the_statuses_it_joins(marketer, rep, campaign):
    """Requeue and hand-off both end in the queue, but a claimed lead cannot be handed off again, and
    an on-hold lead is resumed, not claimed or first-contacted."""
    claimed = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    held = advance(LeadFactory(campaign=campaign), S.ON_HOLD, marketer=marketer, rep=rep)

    with pytest.raises(TransitionError, match="Only MQLs can go to sales — this one is claimed"):
        services.lead_hand_off(lead=claimed, actor=marketer)
    with pytest.raises(TransitionError):
        services.lead_claim(lead=held, rep=rep)
    with pytest.raises(TransitionError, match="Only a claimed lead takes a first contact — this one is on hold"):
        services.lead_log_first_contact(lead=held, actor=rep)


@pytest.mark.parametrize(
    ("from_status", "attempt"),
    [
        pytest.param(S.MQL, lambda lead, m, r: services.lead_claim(lead=lead, rep=r), id="claim-an-mql"),
        pytest.param(
            S.CLAIMED,
            lambda lead, m, r: services.lead_convert(lead=lead, actor=r, value=Decimal("10")),
            id="convert-before-first-contact",
        ),
        pytest.param(S.NEW, lambda lead, m, r: services.lead_hand_off(lead=lead, actor=m), id="hand-off-a-new-lead"),
        pytest.param(S.HANDED_OFF, lambda lead, m, r: services.lead_hand_off(lead=lead, actor=m), id="hand-off-twice"),
        pytest.param(
            S.CONVERTED,
            lambda lead, m, r: services.lead_return(lead=lead, actor=r, reason="Changed mind"),
            id="return-a-converted-lead",
        ),
        pytest.param(
            S.CONVERTED,
            lambda lead, m, r: services.lead_disqualify(lead=lead, actor=m, reason="Spam"),
            id="disqualify-a-deal",
        ),
        pytest.param(
            S.DISQUALIFIED, lambda lead, m, r: services.lead_renurture(lead=lead, actor=m), id="renurture-disqualified"
        ),
        pytest.param(
            S.HANDED_OFF,
            lambda lead, m, r: services.lead_disqualify(lead=lead, actor=m, reason="Spam"),
            id="disqualify-in-queue",
        ),
        pytest.param(S.CONTACTED, lambda lead, m, r: services.lead_qualify(lead=lead, actor=m), id="requalify"),
    ],
)
def test_illegal_moves_through_the_services_are_refused_and_change_nothing(
    marketer, rep, campaign, from_status, attempt
):
    """A service asked for a move the lead's status does not allow raises TransitionError and leaves
    the lead, its timeline, handoffs, deadlines and deals exactly as they were."""
    lead = advance(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    before = snapshot(lead)

    with pytest.raises(TransitionError):
        attempt(lead, marketer, rep)

    assert snapshot(lead) == before


def test_claiming_a_claimed_lead_names_the_rep_who_has_it(marketer, rep, other_rep, campaign):
    """A second claim raises LeadAlreadyClaimed (a TransitionError) naming the owner; the owner
    claiming again is told it is theirs already."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    before = snapshot(lead)

    with pytest.raises(services.LeadAlreadyClaimed, match=f"Too late: {rep.get_full_name()} already claimed"):
        services.lead_claim(lead=lead, rep=other_rep)
    with pytest.raises(services.LeadAlreadyClaimed, match="Too late: you already claimed"):
        services.lead_claim(lead=lead, rep=rep)

    assert snapshot(lead) == before


# --- Who may act -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_status", "attempt"),
    [
        pytest.param(
            S.CLAIMED, lambda lead, r: services.lead_log_first_contact(lead=lead, actor=r), id="first-contact"
        ),
        pytest.param(
            S.CONTACTED, lambda lead, r: services.lead_convert(lead=lead, actor=r, value=Decimal("5")), id="convert"
        ),
        pytest.param(S.CLAIMED, lambda lead, r: services.lead_return(lead=lead, actor=r, reason="x"), id="return"),
        pytest.param(
            S.CONTACTED, lambda lead, r: services.lead_disqualify(lead=lead, actor=r, reason="Spam"), id="disqualify"
        ),
    ],
)
def test_a_rep_cannot_act_on_another_reps_lead(marketer, rep, other_rep, campaign, from_status, attempt):
    """Moves on a claimed lead belong to its owner: another rep gets TransitionError and nothing changes."""
    lead = advance(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    before = snapshot(lead)

    with pytest.raises(TransitionError, match="Only the rep who owns this lead"):
        attempt(lead, other_rep)

    assert snapshot(lead) == before


def test_a_manager_may_step_in_on_a_reps_lead(marketer, rep, manager, campaign):
    """A manager can log first contact on a rep's lead; the event names the manager, the lead stays the rep's."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)

    services.lead_log_first_contact(lead=lead, actor=manager, note="Covered while Sam was out")

    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (S.CONTACTED, rep)
    assert lead.events.last().actor == manager


@pytest.mark.parametrize(
    ("from_status", "attempt"),
    [
        pytest.param(S.NEW, lambda lead, m, r: services.lead_qualify(lead=lead, actor=r), id="rep-qualifies"),
        pytest.param(S.MQL, lambda lead, m, r: services.lead_hand_off(lead=lead, actor=r), id="rep-hands-off"),
        pytest.param(S.HANDED_OFF, lambda lead, m, r: services.lead_claim(lead=lead, rep=m), id="marketer-claims"),
        pytest.param(S.RETURNED, lambda lead, m, r: services.lead_renurture(lead=lead, actor=r), id="rep-renurtures"),
    ],
)
def test_the_services_check_the_actors_role(marketer, rep, campaign, from_status, attempt):
    """Marketing moves refuse a sales rep and a claim refuses a marketer, whatever a page offered."""
    lead = advance(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    before = snapshot(lead)

    with pytest.raises(TransitionError, match="Your role does not allow"):
        attempt(lead, marketer, rep)

    assert snapshot(lead) == before


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_returning_a_lead_needs_a_reason(marketer, rep, campaign, reason):
    """lead_return with an empty or blank reason raises TransitionError; the lead stays claimed and its
    handoff and first-contact clock keep running."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    before = snapshot(lead)

    with pytest.raises(TransitionError, match="Say why"):
        services.lead_return(lead=lead, actor=rep, reason=reason)

    assert snapshot(lead) == before
    assert Deadline.objects.running().filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).exists()


def test_the_return_reason_lands_on_the_timeline_and_the_handoff(marketer, rep, campaign):
    """The reason is stored on the 'returned' event and on the closed handoff."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)

    services.lead_return(lead=lead, actor=rep, reason="Student, no budget", note="Nice person though")

    event = lead.events.last()
    assert (event.kind, event.data, event.note) == (
        LeadEvent.Kind.RETURNED,
        {"reason": "Student, no budget"},
        "Nice person though",
    )
    assert lead.handoffs.get().return_reason == "Student, no budget"


# --- The timeline is append-only -------------------------------------------------------------


def test_an_event_refuses_to_be_edited_or_deleted_in_python(marketer, campaign):
    """LeadEvent.save() on an existing event and LeadEvent.delete() raise ValueError; the row stays."""
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)
    event = lead.events.get()
    event.note = "Rewritten history"

    with pytest.raises(ValueError, match="never edited"):
        event.save()
    with pytest.raises(ValueError, match="never deleted"):
        event.delete()

    assert lead.events.get().note == ""


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE leads_leadevent SET note = 'Rewritten history' WHERE lead_id = %s",
        "UPDATE leads_leadevent SET actor_id = NULL WHERE lead_id = %s",
        "DELETE FROM leads_leadevent WHERE lead_id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes_of_events(marketer, campaign, statement):
    """The trigger from leads/migrations/0002 rejects UPDATE and DELETE on leads_leadevent, whatever
    code issues them."""
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [lead.pk])

    event = lead.events.get()
    assert (event.note, event.actor) == ("", marketer)


@pytest.mark.parametrize(
    "bulk_write",
    [
        pytest.param(lambda events: events.update(note="Rewritten history"), id="queryset-update"),
        pytest.param(lambda events: events.delete(), id="queryset-delete"),
    ],
)
def test_the_database_refuses_queryset_updates_and_deletes_of_events(marketer, campaign, bulk_write):
    """QuerySet.update() and .delete() skip the model's methods, so the trigger is what stops them."""
    lead = advance(LeadFactory(campaign=campaign), S.MQL, marketer=marketer, rep=None)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        bulk_write(LeadEvent.objects.filter(lead=lead))

    assert lead.events.get().note == ""


# --- The SLA clocks --------------------------------------------------------------------------


def test_hand_off_starts_the_claim_clock_from_the_policy_in_force(marketer, rep, campaign):
    """Hand-off opens a Handoff under the current policy with one claim deadline, owned by nobody,
    due the warm tier's claim time (4 business hours by default) after the hand-off of a score-60 lead,
    with the warning at 75 % of it."""
    lead = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)

    handoff = lead.handoffs.get()
    policy = SlaPolicy.current()
    assert (handoff.policy, policy.claim_hours_warm, handoff.handed_off_by) == (policy, 4, marketer)
    assert handoff.closed_at is None
    claim = handoff.deadlines.get()
    assert (claim.kind, claim.owner, claim.policy, claim.priority) == (Deadline.Kind.CLAIM, None, policy, "warm")
    assert claim.starts_at == handoff.handed_off_at == lead.status_changed_at
    assert claim.allowed == 4 * HOUR
    assert claim.due_at == claim.given_due_at == business(handoff.handed_off_at, 4 * HOUR)
    assert claim.warn_at == business(handoff.handed_off_at, 3 * HOUR)
    assert (claim.met_at, claim.breached_at, claim.cancelled_at) == (None, None, None)


def test_the_claim_clock_follows_a_stricter_policy(marketer, rep, campaign):
    """With a newer policy of 1.5 claim hours in force, a hand-off is due 90 business minutes later."""
    SlaPolicy.objects.create(version=SlaPolicy.current().version + 1, name="Stricter", claim_hours_warm=Decimal("1.5"))

    lead = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)

    claim = Deadline.objects.get(lead=lead)
    assert claim.policy.name == "Stricter"
    assert claim.due_at == business(claim.starts_at, datetime.timedelta(minutes=90))


def test_claim_meets_the_claim_clock_and_starts_the_first_contact_clock(marketer, rep, campaign):
    """The claim stops the claim clock at the moment of claiming and starts a first-contact clock of 24
    business hours (8, the warm tier's) owned by the rep; the handoff records who claimed it and when."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)

    handoff = lead.handoffs.get()
    assert (handoff.claimed_by, handoff.claimed_at) == (rep, lead.status_changed_at)
    claim = handoff.deadlines.get(kind=Deadline.Kind.CLAIM)
    assert (claim.met_at, claim.breached_at, claim.cancelled_at) == (handoff.claimed_at, None, None)
    contact = handoff.deadlines.get(kind=Deadline.Kind.FIRST_CONTACT)
    assert (contact.owner, contact.starts_at, contact.allowed) == (rep, handoff.claimed_at, 8 * HOUR)
    assert contact.due_at == business(handoff.claimed_at, 8 * HOUR)
    assert contact.met_at is None


def test_first_contact_meets_the_first_contact_clock(marketer, rep, campaign):
    """Logging first contact stops the first-contact clock at that moment; nothing is left running."""
    lead = advance(LeadFactory(campaign=campaign), S.CONTACTED, marketer=marketer, rep=rep)

    contact = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
    assert contact.met_at == lead.status_changed_at
    assert contact.cancelled_at is None
    assert not Deadline.objects.running().filter(lead=lead).exists()
    assert lead.handoffs.get().closed_at is None


@pytest.mark.parametrize(
    ("from_status", "to_status", "outcome"),
    [
        (S.CLAIMED, S.RETURNED, Handoff.Outcome.RETURNED),
        (S.CONTACTED, S.RETURNED, Handoff.Outcome.RETURNED),
        (S.CLAIMED, S.DISQUALIFIED, Handoff.Outcome.DISQUALIFIED),
        (S.CONTACTED, S.DISQUALIFIED, Handoff.Outcome.DISQUALIFIED),
        (S.CONTACTED, S.CONVERTED, Handoff.Outcome.CONVERTED),
    ],
)
def test_leaving_the_sales_path_cancels_running_clocks_and_closes_the_handoff(
    marketer, rep, campaign, from_status, to_status, outcome
):
    """Return, disqualify and convert cancel whatever sales clock still runs (met ones stay met, not
    cancelled) and close the handoff with the matching outcome at the moment of the move. A return
    then starts marketing's follow-up clock on the closed handoff."""
    lead = advance(LeadFactory(campaign=campaign), from_status, marketer=marketer, rep=rep)
    running = set(Deadline.objects.running().filter(lead=lead).values_list("pk", flat=True))
    met = set(Deadline.objects.filter(lead=lead, met_at__isnull=False).values_list("pk", flat=True))

    move(lead, to_status, marketer=marketer, rep=rep)

    now = lead.status_changed_at
    handoff = lead.handoffs.get()
    assert (handoff.closed_at, handoff.outcome) == (now, outcome)
    assert not Deadline.objects.running().filter(lead=lead, kind__in=Deadline.SALES_KINDS).exists()
    follow_ups = Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FOLLOW_UP)
    expected = [(handoff.pk, now, True)] if to_status == S.RETURNED else []
    assert [(f.handoff_id, f.starts_at, f.is_running) for f in follow_ups] == expected
    for deadline in Deadline.objects.filter(lead=lead, kind__in=Deadline.SALES_KINDS):
        if deadline.pk in running:
            assert (deadline.cancelled_at, deadline.met_at) == (now, None)
        else:
            assert deadline.pk in met
            assert deadline.cancelled_at is None


def test_a_new_policy_does_not_move_a_deadline_already_set(marketer, rep, campaign):
    """Replacing the policy after hand-off (a stricter one created) or editing the old one in place
    leaves the running claim deadline's due_at, allowed and policy as they were; the next hand-off
    gets the new policy."""
    lead = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
    claim = Deadline.objects.get(lead=lead)
    old_policy = claim.policy

    SlaPolicy.objects.create(version=old_policy.version + 1, name="Stricter", claim_hours_warm=1)
    SlaPolicy.objects.filter(pk=old_policy.pk).update(claim_hours_warm=Decimal("0.25"))

    unchanged = Deadline.objects.get(pk=claim.pk)
    assert (unchanged.due_at, unchanged.allowed, unchanged.policy_id) == (claim.due_at, 4 * HOUR, old_policy.pk)
    later = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
    assert Deadline.objects.get(lead=later).allowed == HOUR


@pytest.mark.parametrize("move", sorted(MOVES))
def test_every_refusal_of_a_status_is_a_plain_sentence(move):
    """Each move says what it needs and where the lead is, with no state-machine words (issue 23)."""
    for status in S.values:
        if status in MOVES[move].sources:
            continue
        sentence = wrong_status(move, status)
        assert sentence.startswith(MOVES[move].needs) and sentence.endswith(".")
        assert " — " in sentence
        for jargon in ("cannot be moved", "“", "waiting in queue", status if "_" in status else "\0"):
            assert jargon not in sentence, (move, status, sentence)


def test_a_bulk_hand_off_of_a_new_lead_says_to_qualify_it_first(campaign, marketer):
    lead = LeadFactory(campaign=campaign)
    with pytest.raises(TransitionError) as refused:
        services.lead_hand_off(lead=lead, actor=marketer)
    assert str(refused.value) == "Only MQLs can go to sales — qualify it first."
