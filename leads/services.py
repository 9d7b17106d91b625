"""Every state change of a lead: one function per move, the only doors views, tasks and commands use.

Each function takes the acting user, runs in one transaction, locks the lead row, lets
`transitions.transition` check the move and write the timeline event, and keeps the SLA clocks of
the lead's handoff in step.
"""

from decimal import Decimal

from django.db import transaction

from handoff.models import Deadline, Handoff
from handoff.roles import Role, has_role
from handoff.sla import deadline_meet, deadline_set, deadlines_cancel, handoff_open

from .models import Deal, Lead, LeadEvent
from .transitions import TransitionError, transition

S = Lead.Status


class LeadAlreadyClaimed(TransitionError):
    """Another rep won the claim; the message names them."""


def lock_lead(lead_id: int) -> Lead:
    # No select_related here: when the lock waits on a concurrent claim, PostgreSQL re-reads the
    # locked row but not the joined one, so a joined owner could come back empty beside a set owner_id.
    return Lead.objects.select_for_update(of=("self",)).get(pk=lead_id)


def _open_handoff(lead: Lead) -> Handoff:
    return Handoff.objects.select_related("policy").get(lead=lead, closed_at__isnull=True)


def _require(actor, *roles: str) -> None:
    if not has_role(actor, *roles):
        raise TransitionError("Your role does not allow this action.")


def _require_owner(lead: Lead, actor) -> None:
    """Sales moves on a claimed lead are for its owner (or a manager stepping in)."""
    if lead.owner_id != actor.pk and not has_role(actor, Role.MANAGERS):
        raise TransitionError("Only the rep who owns this lead can do that.")


def _close_handoff(lead: Lead, *, outcome: str, now, return_reason: str = "") -> None:
    handoff = _open_handoff(lead)
    deadlines_cancel(handoff=handoff, now=now)
    handoff.closed_at = now
    handoff.outcome = outcome
    handoff.return_reason = return_reason
    handoff.save(update_fields=["closed_at", "outcome", "return_reason"])


def lead_qualify(*, lead: Lead, actor, note: str = "") -> Lead:
    """Mark a new lead as a marketing-qualified lead."""
    _require(actor, Role.MARKETING, Role.MANAGERS)
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        transition(lead, to=S.MQL, actor=actor, note=note)
    return lead


def lead_hand_off(*, lead: Lead, actor, note: str = "") -> Handoff:
    """Pass an MQL to sales: it waits in the queue with a claim deadline from the current policy."""
    _require(actor, Role.MARKETING, Role.MANAGERS)
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        event = transition(lead, to=S.HANDED_OFF, actor=actor, note=note, owner=None)
        handoff = handoff_open(lead=lead, actor=actor, note=note, now=event.created_at)
    return handoff


def lead_claim(*, lead: Lead, rep) -> Lead:
    """Take a waiting lead from the queue. Under concurrency exactly one rep wins; the others get
    LeadAlreadyClaimed naming the winner."""
    _require(rep, Role.SALES)
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        if lead.is_worked_by_sales:
            who = "you" if lead.owner_id == rep.pk else lead.owner.get_full_name() or lead.owner.username
            raise LeadAlreadyClaimed(f"Too late: {who} already claimed this lead.")
        event = transition(lead, to=S.CLAIMED, actor=rep, owner=rep)
        handoff = _open_handoff(lead)
        now = event.created_at
        handoff.claimed_by = rep
        handoff.claimed_at = now
        handoff.save(update_fields=["claimed_by", "claimed_at"])
        deadline_meet(handoff=handoff, kind=Deadline.Kind.CLAIM, now=now)
        deadline_set(handoff=handoff, kind=Deadline.Kind.FIRST_CONTACT, now=now, owner=rep)
    return lead


def lead_log_first_contact(*, lead: Lead, actor, note: str = "") -> Lead:
    """Record that the owner reached the lead; stops the first-contact clock."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        _require_owner(lead, actor)
        event = transition(lead, to=S.CONTACTED, actor=actor, note=note)
        deadline_meet(handoff=_open_handoff(lead), kind=Deadline.Kind.FIRST_CONTACT, now=event.created_at)
    return lead


def lead_convert(*, lead: Lead, actor, value: Decimal, currency: str = "EUR", note: str = "") -> Deal:
    """Turn a contacted lead into a deal worth `value`."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        _require_owner(lead, actor)
        event = transition(
            lead, to=S.CONVERTED, actor=actor, note=note, data={"value": str(value), "currency": currency}
        )
        deal = Deal.objects.create(
            lead=lead, value=value, currency=currency, owner=lead.owner, created_at=event.created_at
        )
        _close_handoff(lead, outcome=Handoff.Outcome.CONVERTED, now=event.created_at)
    return deal


def lead_return(*, lead: Lead, actor, reason: str, note: str = "") -> Lead:
    """Send a lead back to marketing; a reason is required and lands on the timeline."""
    if not reason.strip():
        raise TransitionError("Say why the lead goes back to marketing.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        _require_owner(lead, actor)
        event = transition(lead, to=S.RETURNED, actor=actor, note=note, data={"reason": reason})
        _close_handoff(lead, outcome=Handoff.Outcome.RETURNED, now=event.created_at, return_reason=reason)
    return lead


def lead_disqualify(*, lead: Lead, actor, note: str = "") -> Lead:
    """Take a lead off the path for good: by marketing before the handoff, by its rep after."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        on_sales_side = lead.is_worked_by_sales
        if on_sales_side:
            _require_owner(lead, actor)
        else:
            _require(actor, Role.MARKETING, Role.MANAGERS)
        event = transition(lead, to=S.DISQUALIFIED, actor=actor, note=note)
        if on_sales_side:
            _close_handoff(lead, outcome=Handoff.Outcome.DISQUALIFIED, now=event.created_at)
    return lead


def lead_hold(*, lead: Lead, actor, reason: str) -> Lead:
    """Pause work on a lead (e.g. waiting on the customer); the reason is required and shown."""
    if not reason.strip():
        raise TransitionError("Say why the lead is on hold.")
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        _require_owner(lead, actor)
        # The SLA engine will pause the running clock here (issue: pause/resume in business time).
        transition(lead, to=S.ON_HOLD, actor=actor, note=reason, hold_reason=reason.strip())
    return lead


def lead_resume(*, lead: Lead, actor, note: str = "") -> Lead:
    """Take a lead off hold, back to the status it had before."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        _require_owner(lead, actor)
        held = lead.events.filter(kind=LeadEvent.Kind.ON_HOLD).order_by("-created_at", "-id").first()
        back_to = held.from_status if held else S.CLAIMED
        transition(lead, to=back_to, actor=actor, note=note, hold_reason="")
    return lead


def lead_renurture(*, lead: Lead, actor, note: str = "") -> Lead:
    """Marketing takes a returned lead back to nurture; its history stays."""
    _require(actor, Role.MARKETING, Role.MANAGERS)
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        transition(lead, to=S.NEW, actor=actor, note=note, owner=None)
    return lead
