"""Setting and closing SLA deadlines on a handoff.

Called by the lead services inside their transaction, with the lead row already locked; these
functions never decide whether a move is legal, only what it does to the clock.
"""

from datetime import datetime

from .calendar import add_business_time
from .models import BusinessCalendar, Deadline, Handoff, SlaPolicy


def deadline_set(*, handoff: Handoff, kind: str, now: datetime, owner=None) -> Deadline:
    """Start the `kind` clock on `handoff`, with the time its policy allows as of `now`, counted in
    business time: the calendar of the owner's team, else the default calendar."""
    allowed = handoff.policy.allowed(kind)
    spec = BusinessCalendar.objects.for_owner(owner).spec()
    return Deadline.objects.create(
        handoff=handoff,
        lead_id=handoff.lead_id,
        kind=kind,
        policy=handoff.policy,
        owner=owner,
        starts_at=now,
        allowed=allowed,
        due_at=add_business_time(now, allowed, spec),
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
    deadline_set(handoff=handoff, kind=Deadline.Kind.CLAIM, now=now)
    return handoff
