"""Every state change of a lead: one function per move, the only doors views, tasks and commands use.

Each function takes the acting user, runs in one transaction, locks the lead row, lets
`transitions.transition` check the move and write the timeline event, and keeps the SLA clocks of
the lead's handoff in step.
"""

from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.localtime import moment_text
from leads.notices import notify_lead_assigned, notify_lead_returned
from people.names import person_name
from people.roles import Role, has_role
from sla.clocks import (
    deadline_meet,
    deadline_set,
    deadlines_cancel,
    deadlines_pause,
    deadlines_resume,
    follow_up_meet,
    handoff_open,
)
from sla.models import Deadline, Handoff

from .assignment import AtCapacity, active_managers, check_capacity, router, team_manager_of
from .models import Deal, Lead, LeadEvent
from .transitions import TransitionError, check, disqualify_move, transition

S = Lead.Status


class LeadAlreadyClaimed(TransitionError):
    """Another rep won the claim; the message names them."""


def lock_lead(lead_id: int) -> Lead:
    # No select_related here: when the lock waits on a concurrent claim, PostgreSQL re-reads the
    # locked row but not the joined one, so a joined owner could come back empty beside a set owner_id.
    return Lead.objects.select_for_update(of=("self",)).get(pk=lead_id)


def _open_handoff(lead: Lead) -> Handoff:
    handoff = Handoff.objects.select_related("policy").get(lead=lead, closed_at__isnull=True)
    handoff.lead = lead  # the caller's locked row: the clocks read its score and campaign without a query
    return handoff


def _close_handoff(lead: Lead, *, outcome: str, now, return_reason: str = "") -> Handoff:
    handoff = _open_handoff(lead)
    deadlines_cancel(handoff=handoff, now=now)
    handoff.closed_at = now
    handoff.outcome = outcome
    handoff.return_reason = return_reason
    handoff.save(update_fields=["closed_at", "outcome", "return_reason"])
    return handoff


def lead_qualify(*, lead: Lead, actor, note: str = "") -> Lead:
    """Mark a new lead as a marketing-qualified lead."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        transition(lead, move="qualify", actor=actor, note=note)
    return lead


def lead_hand_off(*, lead: Lead, actor, note: str = "") -> Handoff:
    """Pass an MQL to sales with a claim deadline from the current policy. If a team assigns
    automatically and one of its reps is on shift with room, routing gives the lead straight to that
    rep and says why on the timeline; otherwise it waits in the queue."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(lead, move="hand_off", actor=actor, note=note, owner=None)
        handoff = handoff_open(lead=lead, actor=actor, note=note, now=event.created_at)
        routed = router().route(lead=lead, now=event.created_at)
        if routed.profile is not None:
            _take(lead, routed.profile.user, actor=None, move="assign", note=f"Assigned by round-robin {routed.note}")
    return handoff


def lead_route_waiting(*, lead: Lead) -> Lead | None:
    """Route a lead that waits in the queue because nobody was on shift when it was handed off, now
    that someone may be. Returns who got it, or None (it keeps waiting; the router says why)."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        if lead.status != S.HANDED_OFF or lead.owner_id is not None:
            return None
        routed = router().route(lead=lead, now=timezone.now(), waiting=True)
        if routed.profile is None:
            return None
        _take(lead, routed.profile.user, actor=None, move="assign", note=f"Assigned by round-robin {routed.note}")
        return routed.profile.user


def _take(lead: Lead, rep, *, actor, move: str, note: str = "", by_escalation: bool = False) -> LeadEvent:
    """Give a waiting lead to `rep` (`move` is a claim or an assignment): owner, handoff, SLA clocks.
    An escalation's assignment (`by_escalation`) says so in the event and on the claim clock, so the
    dashboard keeps it apart from people's claims."""
    # A pass starts with nothing logged: the activities of earlier passes are history on My leads.
    event = transition(
        lead,
        move=move,
        actor=actor,
        owner=rep,
        last_activity_at=None,
        next_step_at=None,
        note=note,
        data={"rep": rep.pk, "escalation": True} if by_escalation else {"rep": rep.pk},
    )
    handoff = _open_handoff(lead)
    now = event.created_at
    handoff.claimed_by = rep
    handoff.claimed_at = now
    handoff.save(update_fields=["claimed_by", "claimed_at"])
    deadline_meet(handoff=handoff, kind=Deadline.Kind.CLAIM, now=now, by=rep, by_escalation=by_escalation)
    deadline_set(handoff=handoff, kind=Deadline.Kind.FIRST_CONTACT, now=now, owner=rep, score=lead.score)
    return event


def lead_claim(*, lead: Lead, rep) -> Lead:
    """Take a waiting lead from the queue. Under concurrency exactly one rep wins; the others get
    LeadAlreadyClaimed naming the winner. A rep at capacity is refused and told why."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        if lead.is_worked_by_sales and has_role(rep, Role.SALES):
            who = "you" if lead.owner_id == rep.pk else person_name(lead.owner)
            raise LeadAlreadyClaimed(f"Too late: {who} already claimed this lead.")
        check(lead, "claim", rep)
        _check_capacity(rep)
        _take(lead, rep, actor=rep, move="claim")
    return lead


def _check_capacity(rep) -> None:
    try:
        check_capacity(rep)
    except AtCapacity as exc:
        raise TransitionError(str(exc)) from exc


def lead_assign(*, lead: Lead, rep, actor, why: str = "") -> Lead:
    """A manager gives a lead to a rep: from the queue (assign), or away from another rep (reassign);
    or Handoff does (`actor` None: routing moving a lead before its clock runs out, saying `why`).
    The rep's capacity still applies; the timeline says who assigned whom, and the new owner and the
    rep who lost the lead are told (in the app, and by email as each prefers)."""
    if not has_role(rep, Role.SALES) or not rep.is_active:
        raise TransitionError("Leads can only be assigned to active sales reps.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        move = "reassign" if lead.is_worked_by_sales else "assign"
        if lead.status not in (S.HANDED_OFF, *Lead.WORKED_BY_SALES):
            raise TransitionError(
                f"This lead is {lead.get_status_display().lower()}: "
                "only leads in the queue or with a rep can be assigned."
            )
        check(lead, move, actor)
        if lead.owner_id == rep.pk:
            raise TransitionError(f"{person_name(rep)} already has this lead.")
        _check_capacity(rep)
        previous = lead.owner
        said = f" {why}" if why else ""
        if move == "assign":
            event = _take(lead, rep, actor=actor, move=move, note=f"Assigned to {person_name(rep)}.{said}")
        else:
            event = transition(
                lead,
                move=move,
                actor=actor,
                owner=rep,
                note=f"Reassigned from {person_name(previous)} to {person_name(rep)}.{said}",
                data={"from": previous.pk, "rep": rep.pk},
            )
            # A clock already past its due time stays with the rep who held it then, whether or not the
            # sweep has recorded the breach yet: the record of who was late. A paused clock is not past
            # due (its due time moves on when the lead resumes), so it goes with the lead.
            Deadline.objects.running().filter(handoff=_open_handoff(lead), breached_at__isnull=True).filter(
                Q(due_at__gt=event.created_at) | Q(paused_at__isnull=False)
            ).update(owner=rep)
        transaction.on_commit(partial(notify_lead_assigned, event.pk))
    return lead


def lead_requeue(*, lead: Lead, actor=None, reason: str) -> Handoff:
    """Take a claimed lead back from its rep and put it in the queue again: done by an escalation after
    a missed first contact (`actor` None: the system), or by the rep or a manager. The pass closes as
    REQUEUED, which stops its clocks, and a new pass opens, handed off by whoever handed off the last
    one, so a fresh claim clock runs; the new pass says who put it back (`Handoff.source`): it is not a
    new hand-off from marketing. Returns the new handoff."""
    if not reason.strip():
        raise TransitionError("Say why the lead goes back to the queue.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        rep = lead.owner
        event = transition(lead, move="requeue", actor=actor, note=reason, data={"from": lead.owner_id}, owner=None)
        previous = _close_handoff(lead, outcome=Handoff.Outcome.REQUEUED, now=event.created_at)
        handoff = handoff_open(
            lead=lead,
            actor=previous.handed_off_by,
            note=f"Back in the queue from {person_name(rep)}: {reason}",
            now=event.created_at,
            source=Handoff.Source.ESCALATION if actor is None else Handoff.Source.REQUEUE,
        )
    return handoff


def lock_leads(lead_ids) -> dict[int, Lead]:
    """Lock a set of leads in one statement, in id order (two sets locking at once never deadlock)."""
    return {
        lead.pk: lead for lead in Lead.objects.select_for_update(of=("self",)).filter(pk__in=lead_ids).order_by("pk")
    }


def lead_assign_after_breach(*, lead: Lead, breached_by=None, to_manager: bool = False):
    """An escalation gives a lead waiting in the queue to someone, the way a hand-off's round-robin
    does: the next available rep, never `breached_by` (the rep who let it lapse). A lead that missed
    its SLA again and again (`to_manager`) goes to a manager instead: `breached_by`'s team manager,
    else the first active manager; capacity does not bind managers. Returns who got the lead, or None
    when nobody is available and the lead stays in the queue."""
    with transaction.atomic():
        return leads_assign_after_breach(breaches=[(lock_lead(lead.pk), breached_by, to_manager)])[0]


def leads_assign_after_breach(*, breaches: list[tuple[Lead, object, bool]]) -> list:
    """`lead_assign_after_breach` for a set of (lead, breached_by, to_manager), leads the caller holds
    locked, in its transaction; the round-robin is planned for the whole set at once, so the reps take
    turns over it as they would over one lead after another. Returns who got each lead (or None)."""
    with transaction.atomic():
        to_reps = [(lead, breached_by) for lead, breached_by, to_manager in breaches if not to_manager]
        plan = router().route_after_breach(
            leads=[lead for lead, _ in to_reps],
            excluding=[by.pk if by else None for _, by in to_reps],
            now=timezone.now(),
        )
        assignees = {}
        for (lead, _), routed in zip(to_reps, plan, strict=True):
            if routed.profile is not None:
                assignees[lead.pk] = (routed.profile.user, f"Reassigned by escalation {routed.note}")
        for lead, breached_by, to_manager in breaches:
            if to_manager and (manager := team_manager_of(breached_by) or active_managers().first()):
                assignees[lead.pk] = (
                    manager,
                    f"Reassigned by escalation to {person_name(manager)}, a manager, as the lead missed its SLA "
                    "more than once.",
                )
        for lead, _, _ in breaches:
            if lead.pk in assignees:
                assignee, note = assignees[lead.pk]
                _take(lead, assignee, actor=None, move="assign", note=note, by_escalation=True)
    return [assignees.get(lead.pk, (None,))[0] for lead, _, _ in breaches]


def lead_log_first_contact(*, lead: Lead, actor, note: str = "") -> Lead:
    """Record that the owner reached the lead; stops the first-contact clock."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(lead, move="first_contact", actor=actor, note=note)
        deadline_meet(handoff=_open_handoff(lead), kind=Deadline.Kind.FIRST_CONTACT, now=event.created_at)
    return lead


def lead_convert(
    *,
    lead: Lead,
    actor,
    value: Decimal,
    currency: str = "EUR",
    note: str = "",
    expected_close_date=None,
    stage: str = Deal.Stage.QUALIFIED,
) -> Deal:
    """Turn a contacted lead into a deal worth `value`, in an open stage (or straight to won)."""
    if stage not in (*Deal.OPEN_STAGES, Deal.Stage.WON):
        raise TransitionError("A new deal starts in an open stage, or as won.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(
            lead, move="convert", actor=actor, note=note, data={"value": str(value), "currency": currency}
        )
        deal = Deal.objects.create(
            lead=lead,
            campaign_id=lead.campaign_id,
            value=value,
            currency=currency,
            owner=lead.owner,
            stage=stage,
            expected_close_date=expected_close_date,
            closed_at=event.created_at if stage == Deal.Stage.WON else None,
            created_at=event.created_at,
        )
        _close_handoff(lead, outcome=Handoff.Outcome.CONVERTED, now=event.created_at)
    return deal


def lead_return(*, lead: Lead, actor, reason: str, note: str = "") -> Lead:
    """Send a lead back to marketing; a reason is required and lands on the timeline. Marketing's
    follow-up clock starts, owned by the campaign's owner."""
    if not reason.strip():
        raise TransitionError("Say why the lead goes back to marketing.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(lead, move="return", actor=actor, note=note, data={"reason": reason})
        # Closing first cancels the sales clocks; the follow-up that starts after it is marketing's.
        handoff = _close_handoff(lead, outcome=Handoff.Outcome.RETURNED, now=event.created_at, return_reason=reason)
        deadline_set(handoff=handoff, kind=Deadline.Kind.FOLLOW_UP, now=event.created_at, owner=lead.campaign.owner)
        transaction.on_commit(partial(notify_lead_returned, lead.pk))
    return lead


def lead_disqualify(*, lead: Lead, actor, reason: str) -> Lead:
    """Take a lead off the path for good, with a reason: by marketing before the handoff, by its rep after."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        on_sales_side = lead.is_worked_by_sales
        move = disqualify_move(lead)
        check(lead, move, actor)
        if not reason.strip():
            raise TransitionError("Say why the lead is disqualified.")
        event = transition(lead, move=move, actor=actor, note=reason.strip())
        if on_sales_side:
            _close_handoff(lead, outcome=Handoff.Outcome.DISQUALIFIED, now=event.created_at)
        elif event.from_status == S.RETURNED:
            follow_up_meet(lead=lead, now=event.created_at)
    return lead


def lead_hold(*, lead: Lead, actor, reason: str) -> Lead:
    """Pause work on a lead (e.g. waiting on the customer); the reason is required and shown. The
    running SLA clock stops until the lead is resumed."""
    if not reason.strip():
        raise TransitionError("Say why the lead is on hold.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(lead, move="hold", actor=actor, note=reason, hold_reason=reason.strip())
        paused = deadlines_pause(handoff=_open_handoff(lead), now=event.created_at)
        if paused:
            LeadEvent.objects.create(
                lead=lead,
                kind=LeadEvent.Kind.CLOCK_PAUSED,
                actor=actor,
                note="SLA clock paused: "
                + "; ".join(f"{d.get_kind_display().lower()} was due {_local(d.due_at)}" for d in paused),
                data={"deadlines": [{"id": d.pk, "kind": d.kind, "due_at": d.due_at.isoformat()} for d in paused]},
                created_at=event.created_at,
            )
    return lead


def _local(when) -> str:
    """A time for a timeline note, in the active time zone (the acting user's), named."""
    return moment_text(when)


def _hours_minutes(span) -> str:
    hours, minutes = divmod(round(span.total_seconds() / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def lead_resume(*, lead: Lead, actor, note: str = "") -> Lead:
    """Take a lead off hold, back to the status it had before; its paused SLA clock runs again, its due
    time moved by the business time spent on hold."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        held = lead.events.filter(kind=LeadEvent.Kind.ON_HOLD).order_by("-created_at", "-id").first()
        back_to = held.from_status if held else S.CLAIMED
        event = transition(lead, move="resume", to=back_to, actor=actor, note=note, hold_reason="")
        resumed = deadlines_resume(handoff=_open_handoff(lead), now=event.created_at)
        if resumed:
            LeadEvent.objects.create(
                lead=lead,
                kind=LeadEvent.Kind.CLOCK_RESUMED,
                actor=actor,
                note="SLA clock resumed: "
                + "; ".join(
                    f"{_hours_minutes(d.held)} of business time on hold, "
                    f"{d.get_kind_display().lower()} now due {_local(d.due_at)}"
                    for d in resumed
                ),
                data={
                    "deadlines": [
                        {
                            "id": d.pk,
                            "kind": d.kind,
                            "held_seconds": round(d.held.total_seconds()),
                            "due_before": d.due_before.isoformat(),
                            "due_at": d.due_at.isoformat(),
                        }
                        for d in resumed
                    ]
                },
                created_at=event.created_at,
            )
    return lead


def lead_renurture(*, lead: Lead, actor, note: str = "") -> Lead:
    """Marketing takes a returned lead back to nurture, which meets its follow-up; its history stays."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(lead, move="renurture", actor=actor, note=note, owner=None)
        follow_up_meet(lead=lead, now=event.created_at)
    return lead


def leads_hand_off_bulk(*, leads: list[Lead], actor, note: str = "") -> tuple[list[Lead], list[tuple[Lead, str]]]:
    """Hand off each lead through `lead_hand_off`, each in its own transaction: a lead the rules
    refuse (not an MQL, already with sales) is reported with the reason and does not stop the others.
    Returns (handed off, [(refused lead, reason)])."""
    handed_off: list[Lead] = []
    refused: list[tuple[Lead, str]] = []
    for lead in leads:
        try:
            handoff = lead_hand_off(lead=lead, actor=actor, note=note)
        except TransitionError as exc:
            refused.append((lead, str(exc)))
        else:
            handed_off.append(handoff.lead)  # the locked, updated row: its new status and owner
    return handed_off, refused
