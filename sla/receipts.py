"""A receipt for a deadline: how its due time was worked out, step by step, enough to check by hand.

It is worked out again with the clock's own functions (`business_blocks`, `business_days`,
`business_time_between`, `add_business_time`), in the same order the clocks ran: the time the policy
allowed from the start, then each hold moving the due time by the business time it took. The receipt
then says whether it arrives at the due time the deadline holds, and by how much it differs if not
(a calendar edited since, say): the deadline's own times are the record, never rewritten.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sla.calendar import (
    WEEKDAYS,
    CalendarSpec,
    add_business_time,
    business_blocks,
    business_days,
    business_time_between,
    public_holidays_of,
)
from sla.models import BusinessCalendar, Deadline
from sla.tiers import PRIORITY_FLOORS


@dataclass(frozen=True)
class Block:
    """Business time counted: from `begin` to `end` (UTC)."""

    begin: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.begin


@dataclass(frozen=True)
class Skipped:
    """A local day between the start and the due time on which nothing was counted, and why."""

    day: date
    reason: str


@dataclass(frozen=True)
class Hold:
    """The lead on hold from `paused_at` to `resumed_at` (None: still on hold)."""

    paused_at: datetime
    resumed_at: datetime | None
    business: timedelta = timedelta(0)
    due_before: datetime | None = None
    due_after: datetime | None = None
    blocks: tuple[Block, ...] = ()


@dataclass
class Receipt:
    deadline: Deadline
    spec: CalendarSpec
    allowed: timedelta
    blocks: list[Block]
    skipped: list[Skipped]
    given_due_at: datetime
    warn_after: timedelta
    warn_at: datetime
    holds: list[Hold] = field(default_factory=list)
    due_at: datetime | None = None
    score: int | None = None
    days: list[tuple[date, datetime, datetime]] = field(default_factory=list)

    @property
    def counted(self) -> timedelta:
        return sum((block.length for block in self.blocks), timedelta(0))

    @property
    def block_rows(self) -> list[tuple[Block, timedelta]]:
        """Each block with the business time counted up to its end."""
        rows, total = [], timedelta(0)
        for block in self.blocks:
            total += block.length
            rows.append((block, total))
        return rows

    @property
    def week(self) -> list[tuple[str, tuple]]:
        """(weekday name, its opening hours) Monday to Sunday."""
        return list(zip(WEEKDAYS, self.spec.weekly, strict=True))

    @property
    def held(self) -> timedelta:
        return sum((hold.business for hold in self.holds), timedelta(0))

    @property
    def difference(self) -> timedelta:
        """The recorded due time minus the one worked out here: zero when the receipt checks out."""
        return self.deadline.due_at - self.due_at

    @property
    def checks_out(self) -> bool:
        return self.difference == timedelta(0) and self.given_due_at == self.deadline.given_due_at

    @property
    def tier_floors(self) -> dict[str, int]:
        return {str(tier): floor for tier, floor in PRIORITY_FLOORS.items()}


def calendar_owner_id(kind: str, claimed_by_id: int | None, owner_id: int | None) -> int | None:
    """Whose calendar a clock was set in: nobody's for a claim (the lead waits in the queue: the
    default calendar), the rep who took the lead for a first contact, the owner for a follow-up. By
    ids, so a replay of thousands of deadlines (replays/) asks the same question without a query."""
    if kind == Deadline.Kind.CLAIM:
        return None
    if kind == Deadline.Kind.FIRST_CONTACT:
        return claimed_by_id or owner_id
    return owner_id


def calendar_owner(deadline: Deadline) -> int | None:
    """The id of the person whose calendar `deadline` was set in (see `calendar_owner_id`)."""
    return calendar_owner_id(deadline.kind, deadline.handoff.claimed_by_id, deadline.owner_id)


def _skipped_days(spec: CalendarSpec, start: datetime, end: datetime, counted: set[date]) -> list[Skipped]:
    """The local days from `start` to `end` with no business time counted, each with its reason."""
    skipped = []
    day, last = start.astimezone(spec.zone).date(), end.astimezone(spec.zone).date()
    while day <= last:
        if day not in counted:
            holiday = public_holidays_of(spec.country, spec.subdivision, day.year).get(day)
            if not spec.weekly[day.weekday()]:
                reason = f"closed on {WEEKDAYS[day.weekday()]}s"
            elif holiday:
                reason = f"public holiday: {holiday}"
            elif day in spec.holidays:
                reason = "closed: a holiday added to the calendar"
            else:
                reason = "open hours before the start or after the due time"
            skipped.append(Skipped(day, reason))
        day += timedelta(days=1)
    return skipped


def deadline_receipt(
    deadline: Deadline, *, holds: list[tuple[datetime, datetime | None]], score: int | None = None
) -> Receipt:
    """The receipt of `deadline` (with its policy and handoff loaded), given the lead's holds while it
    ran as (paused at, resumed at or None) in order, and the lead's score when the clock started."""
    policy = deadline.policy
    spec = BusinessCalendar.objects.spec_for(calendar_owner(deadline))
    start = deadline.starts_at
    days: list[tuple[date, datetime, datetime]] = []
    if deadline.kind == Deadline.Kind.FOLLOW_UP:
        days = business_days(start, policy.follow_up_days, spec)
        given_due_at = days[-1][2]
        allowed = business_time_between(start, given_due_at, spec)
        blocks = [Block(*block) for block in business_blocks(start, allowed, spec)]
    else:
        allowed = policy.allowed(deadline.kind, deadline.priority)
        blocks = [Block(*block) for block in business_blocks(start, allowed, spec)]
        given_due_at = blocks[-1].end if blocks else add_business_time(start, allowed, spec)
    warn_after = policy.warn_after(allowed)
    warn_at = add_business_time(start, warn_after, spec)

    # The holds, as `deadlines_resume` moved the due time: by the business time on hold, in the
    # calendar of the deadline's owner.
    hold_spec = BusinessCalendar.objects.spec_for(deadline.owner)
    due = given_due_at
    moved = []
    for paused_at, resumed_at in holds:
        if resumed_at is None:
            moved.append(Hold(paused_at, None, due_before=due))
            continue
        held = business_time_between(paused_at, resumed_at, hold_spec)
        after = add_business_time(due, held, hold_spec) if held else due
        hold_blocks = tuple(Block(*block) for block in business_blocks(paused_at, held, hold_spec)) if held else ()
        moved.append(Hold(paused_at, resumed_at, held, due, after, hold_blocks))
        if deadline.warned_at is None or deadline.warned_at > resumed_at:
            warn_at = add_business_time(warn_at, held, hold_spec) if held else warn_at
        due = after

    counted_days = {block.begin.astimezone(spec.zone).date() for block in blocks if block.length}
    return Receipt(
        deadline=deadline,
        spec=spec,
        allowed=allowed,
        blocks=blocks,
        skipped=_skipped_days(spec, start, given_due_at, counted_days),
        given_due_at=given_due_at,
        warn_after=warn_after,
        warn_at=warn_at,
        holds=moved,
        due_at=due,
        score=score,
        days=days,
    )
