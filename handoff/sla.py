"""Setting and closing SLA deadlines on a handoff.

Called by the lead services inside their transaction, with the lead row already locked; these
functions never decide whether a move is legal, only what it does to the clock.
"""

from datetime import datetime

from leads.models import priority_of

from .calendar import add_business_days, add_business_time, business_time_between
from .models import BusinessCalendar, Deadline, Handoff, SlaPolicy


def deadline_set(*, handoff: Handoff, kind: str, now: datetime, owner=None, score: int | None = None) -> Deadline:
    """Start the `kind` clock on `handoff` under the handoff's policy version, counted in business
    time of the owner's team calendar, else the default calendar.

    Sales deadlines get the time of the lead's priority tier (from `score`, else the lead's score now);
    the returned-lead follow-up gets the policy's business days. The warning time is set here too.
    """
    policy = handoff.policy
    spec = BusinessCalendar.objects.for_owner(owner).spec()
    priority = ""
    if kind == Deadline.Kind.FOLLOW_UP:
        allowed = policy.allowed(kind)
        due_at = add_business_days(now, policy.follow_up_days, spec)
        warn_at = add_business_time(now, policy.warn_after(business_time_between(now, due_at, spec)), spec)
    else:
        if score is None:
            score = handoff.lead.score
        priority = priority_of(score)
        allowed = policy.allowed(kind, priority)
        due_at = add_business_time(now, allowed, spec)
        warn_at = add_business_time(now, policy.warn_after(allowed), spec)
    return Deadline.objects.create(
        handoff=handoff,
        lead_id=handoff.lead_id,
        kind=kind,
        policy=policy,
        priority=priority,
        owner=owner,
        starts_at=now,
        allowed=allowed,
        given_due_at=due_at,
        due_at=due_at,
        warn_at=warn_at,
    )


def deadline_meet(*, handoff: Handoff, kind: str, now: datetime) -> int:
    """Stop the `kind` clock: met now (late if it was already breached). Returns rows changed."""
    return Deadline.objects.running().filter(handoff=handoff, kind=kind).update(met_at=now)


def deadlines_cancel(*, handoff: Handoff, now: datetime) -> int:
    """Stop every running clock of a handoff whose lead left the sales path."""
    return Deadline.objects.running().filter(handoff=handoff).update(cancelled_at=now)


def handoff_open(*, lead, actor, note: str, now: datetime) -> Handoff:
    """Open a new pass of the baton under the policy in force, with its claim clock running."""
    handoff = Handoff.objects.create(
        lead=lead, handed_off_by=actor, handed_off_at=now, note=note, policy=SlaPolicy.current()
    )
    deadline_set(handoff=handoff, kind=Deadline.Kind.CLAIM, now=now, score=lead.score)
    return handoff
