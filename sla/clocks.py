"""Setting, pausing and closing SLA deadlines on a handoff.

Called by the lead services inside their transaction, with the lead row already locked; these
functions never decide whether a move is legal, only what it does to the clock.
"""

from datetime import datetime, timedelta

from sla.calendar import CalendarSpec, add_business_days, add_business_time, business_time_between
from sla.models import BusinessCalendar, Deadline, Handoff, SlaPolicy
from sla.tiers import priority_of


def deadline_set(*, handoff: Handoff, kind: str, now: datetime, owner=None, score: int | None = None) -> Deadline:
    """Start the `kind` clock on `handoff` under the handoff's policy version, counted in business
    time of the owner's team calendar, else the default calendar.

    Sales deadlines get the time of the lead's priority tier (from `score`, else the lead's score now);
    the returned-lead follow-up gets the policy's business days. The warning time is set here too.
    """
    spec = BusinessCalendar.objects.spec_for(owner)
    priority = ""
    if kind != Deadline.Kind.FOLLOW_UP:
        priority = priority_of(handoff.lead.score if score is None else score)
    allowed, due_at, warn_at = clock_times(policy=handoff.policy, kind=kind, priority=priority, start=now, spec=spec)
    return Deadline.objects.create(
        handoff=handoff,
        lead_id=handoff.lead_id,
        campaign_id=handoff.lead.campaign_id,
        kind=kind,
        policy=handoff.policy,
        priority=priority,
        owner=owner,
        starts_at=now,
        allowed=allowed,
        given_due_at=due_at,
        due_at=due_at,
        warn_at=warn_at,
    )


def clock_times(
    *, policy: SlaPolicy, kind: str, priority: str, start: datetime, spec: CalendarSpec
) -> tuple[timedelta, datetime, datetime]:
    """(allowed, due time, warning time) of a `kind` clock started at `start` under `policy`, counted
    in `spec`: a sales clock the business hours of its `priority` tier, the follow-up the policy's
    business days. Pure: `deadline_set` and a replay of a draft (replays/) both call it, so a replay
    runs the very clock the live SLA runs."""
    if kind == Deadline.Kind.FOLLOW_UP:
        allowed = policy.allowed(kind)
        due_at = add_business_days(start, policy.follow_up_days, spec)
        warn_at = add_business_time(start, policy.warn_after(business_time_between(start, due_at, spec)), spec)
    else:
        allowed = policy.allowed(kind, priority)
        due_at = add_business_time(start, allowed, spec)
        warn_at = add_business_time(start, policy.warn_after(allowed), spec)
    return allowed, due_at, warn_at


def hold_moves(
    *, due_at: datetime, warn_at: datetime | None, warned: bool, paused_at: datetime, now: datetime, spec: CalendarSpec
) -> tuple[timedelta, datetime, datetime | None]:
    """(business time on hold, due time, warning time) of a clock paused at `paused_at` and resumed
    at `now`: both times move by exactly the business time on hold, the warning time only if the
    warning was not yet given (`warned`). A hold entirely outside open hours moves nothing."""
    held = business_time_between(paused_at, now, spec)
    if held:
        due_at = add_business_time(due_at, held, spec)
        if not warned and warn_at is not None:
            warn_at = add_business_time(warn_at, held, spec)
    return held, due_at, warn_at


def _meet(deadlines, *, now: datetime, by=None, by_escalation: bool = False) -> int:
    """Mark each running deadline of `deadlines` met at `now`, with the business time it took (one
    calendar computation per deadline, in the calendar it was set in, so the dashboard's percentiles
    read a column). A deadline nobody held (a claim) names `by`, who met it, when a person met it by
    its due time; one already past due stays the queue's (the miss is where it was missed), and one
    an escalation met (`by_escalation`) is marked so and names nobody. Returns how many."""
    met = list(deadlines.running().select_related("owner").select_for_update(of=("self",)).order_by("pk"))
    specs = {}
    for deadline in met:
        if deadline.owner_id not in specs:
            specs[deadline.owner_id] = BusinessCalendar.objects.spec_for(deadline.owner)
        deadline.met_at = now
        deadline.business_seconds = business_seconds_taken(deadline, specs[deadline.owner_id])
        deadline.met_by_escalation = by_escalation
        if deadline.owner_id is None and by is not None and not by_escalation and now <= deadline.due_at:
            deadline.owner = by
        deadline.save(update_fields=["met_at", "business_seconds", "owner", "met_by_escalation"])
    return len(met)


def business_seconds_taken(deadline: Deadline, spec) -> int:
    """Whole seconds of business time from the deadline's start to when it was met, leaving out the
    business time spent on hold (so far, and in a pause still open)."""
    taken = business_time_between(deadline.starts_at, deadline.met_at, spec) - deadline.paused_for
    if deadline.paused_at is not None and deadline.paused_at < deadline.met_at:
        taken -= business_time_between(deadline.paused_at, deadline.met_at, spec)
    return max(int(taken.total_seconds()), 0)


def deadline_meet(*, handoff: Handoff, kind: str, now: datetime, by=None, by_escalation: bool = False) -> int:
    """Stop the `kind` clock: met now (late if it was already breached), by `by` if the clock had no
    owner and is met in time by a person (a claim: the rep who took the lead); by an escalation when
    `by_escalation`. Returns rows changed."""
    return _meet(Deadline.objects.filter(handoff=handoff, kind=kind), now=now, by=by, by_escalation=by_escalation)


def deadlines_cancel(*, handoff: Handoff, now: datetime) -> int:
    """Stop every running clock of a handoff whose lead left the sales path."""
    return Deadline.objects.running().filter(handoff=handoff).update(cancelled_at=now)


def deadlines_pause(*, handoff: Handoff, now: datetime) -> list[Deadline]:
    """Stop the clocks of a lead put on hold: every ticking deadline of `handoff` still ahead of its
    due time gets `paused_at = now`. Returns the paused deadlines.

    One already past its due time is left ticking even if the sweep has not recorded the breach yet:
    it was missed before the hold, and putting the lead on hold must not hide that. The rows are
    locked, so a breach the sweep records meanwhile is seen and that deadline is left alone.
    """
    deadlines = list(
        Deadline.objects.ticking()
        .filter(handoff=handoff, breached_at__isnull=True, due_at__gt=now)
        .select_for_update()
        .order_by("pk")
    )
    Deadline.objects.filter(pk__in=[deadline.pk for deadline in deadlines]).update(paused_at=now)
    for deadline in deadlines:
        deadline.paused_at = now
    return deadlines


def deadlines_resume(*, handoff: Handoff, now: datetime) -> list[Deadline]:
    """Start the paused clocks of `handoff` again. Resuming moves the due time by exactly the business
    time spent on hold (in the calendar of the deadline's owner), and the warning time too unless the
    warning was already given. Returns the resumed deadlines, each with two extra attributes for the
    timeline: `held` (the business time on hold) and `due_before` (the due time before it moved).
    """
    deadlines = list(
        Deadline.objects.running()
        .filter(handoff=handoff, paused_at__isnull=False)
        .select_related("owner")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    specs = {}
    for deadline in deadlines:
        if deadline.owner_id not in specs:
            specs[deadline.owner_id] = BusinessCalendar.objects.spec_for(deadline.owner)
        deadline.due_before = deadline.due_at
        deadline.held, deadline.due_at, deadline.warn_at = hold_moves(
            due_at=deadline.due_at,
            warn_at=deadline.warn_at,
            warned=deadline.warned_at is not None,
            paused_at=deadline.paused_at,
            now=now,
            spec=specs[deadline.owner_id],
        )
        deadline.paused_for += deadline.held
        deadline.paused_at = None
        deadline.save(update_fields=["due_at", "warn_at", "paused_for", "paused_at"])
    return deadlines


def follow_up_meet(*, lead, now: datetime) -> int:
    """Marketing acted on a returned lead (re-nurtured, disqualified or merged it): its running
    follow-up clock is met. Returns rows changed (0 when there was none)."""
    return _meet(Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FOLLOW_UP), now=now)


def deadlines_business_seconds_fill(*, batch_size: int = 1000) -> int:
    """Set `business_seconds` on met deadlines that have none (met before the column existed, or
    written by a bulk fill). Returns how many it filled."""
    filled, after = 0, 0
    specs = {}
    while True:
        # From where the last batch ended (keyset), not from the start: each batch reads only its own
        # rows, so a million deadlines cost a million rows read, not half a million batches' worth.
        batch = list(
            Deadline.objects.filter(met_at__isnull=False, business_seconds__isnull=True, pk__gt=after)
            .select_related("owner")
            .order_by("pk")[:batch_size]
        )
        if batch:
            after = batch[-1].pk
        for deadline in batch:
            if deadline.owner_id not in specs:
                specs[deadline.owner_id] = BusinessCalendar.objects.spec_for(deadline.owner)
            deadline.business_seconds = business_seconds_taken(deadline, specs[deadline.owner_id])
        Deadline.objects.bulk_update(batch, ["business_seconds"])
        filled += len(batch)
        if len(batch) < batch_size:
            return filled


def handoff_open(*, lead, actor, note: str, now: datetime, source: str = Handoff.Source.HAND_OFF) -> Handoff:
    """Open a new pass of the baton under the policy in force, with its claim clock running: marketing's
    hand-off, or (`source`) the lead put back in the queue by a person or an escalation."""
    handoff = Handoff.objects.create(
        lead=lead,
        campaign_id=lead.campaign_id,
        handed_off_by=actor,
        handed_off_at=now,
        source=source,
        note=note,
        policy=SlaPolicy.current(),
    )
    deadline_set(handoff=handoff, kind=Deadline.Kind.CLAIM, now=now, score=lead.score)
    return handoff
