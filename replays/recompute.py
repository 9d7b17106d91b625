"""Work out again what a policy would have made of the deadlines of a past period.

Set-based: the period's deadlines are read in one statement (streamed), the leads' holds in one, the
calendars in two, the escalation steps recorded in one; everything else is Python, and every due time
comes from the live SLA's own functions — `sla.clocks.clock_times` (what `deadline_set` runs) and
`sla.clocks.hold_moves` (what `deadlines_resume` runs) over `sla.calendar`'s block math — never from
a copy of them.

What it assumes, and the report says so: people would have acted at the same moments (claims, first
contacts, holds, resumes, returns, conversions happened when they did); each deadline keeps the tier
it had and its start; calendars and teams are today's; a lead is paused by a hold only if its clock is
still ahead of its due time (as `deadlines_pause` decides); the sweep records a warning or a breach
the moment it falls due. What a different breach would have set off in turn (a lead taken back and
handed out again) is not invented: the deadlines those escalations opened are replayed as they were.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count

from campaigns.models import Campaign
from leads.models import LeadEvent, RepProfile, SalesTeam
from people.names import name_of
from sla.calendar import CalendarSpec
from sla.clocks import clock_times, hold_moves
from sla.models import BusinessCalendar, Deadline, Escalation, EscalationStep, SlaPolicy
from sla.receipts import calendar_owner_id
from sla.tiers import Priority

MET, MISSED, CANCELLED, RUNNING = "met", "missed", "cancelled", "running"
SALES, MARKETING = "sales", "marketing"
# Rows the progress bar moves by.
PROGRESS_EVERY = 10_000
DIMENSIONS = ("side", "kind", "tier", "rep", "team", "campaign")

Hold = tuple[datetime, datetime | None]

_COLUMNS = (
    "id",
    "lead_id",
    "kind",
    "priority",
    "owner_id",
    "handoff__claimed_by_id",
    "campaign_id",
    "starts_at",
    "due_at",
    "met_at",
    "cancelled_at",
    "breached_at",
    "warned_at",
    "paused_at",
    "met_by_escalation",
)


def outcome(*, due_at: datetime, met_at, cancelled_at, paused: bool, end: datetime) -> str:
    """How a deadline stands at `end`: met by its due time; missed (met late, cancelled after its due
    time, or past due and still running); cancelled before its due time or while on hold; running
    (on hold, or not due yet). The dashboard's rule: met when met at or before the due time, and due
    means breached (the sweep's `due_at <= now`)."""
    if met_at is not None:
        return MET if met_at <= due_at else MISSED
    if cancelled_at is not None:
        return CANCELLED if paused or cancelled_at < due_at else MISSED
    if paused:
        return RUNNING
    return MISSED if due_at <= end else RUNNING


@dataclass(frozen=True, slots=True)
class Replayed:
    """One deadline under the replayed policy."""

    due_at: datetime
    warn_at: datetime
    paused: bool
    warned: bool
    outcome: str


def replay_deadline(
    *,
    policy: SlaPolicy,
    kind: str,
    priority: str,
    starts_at: datetime,
    spec: CalendarSpec,
    hold_spec: CalendarSpec,
    holds: list[Hold],
    met_at: datetime | None,
    cancelled_at: datetime | None,
    end: datetime,
) -> Replayed:
    """Run one clock again under `policy`: set at its start as `deadline_set` sets it (in `spec`),
    paused by each hold of its lead that finds it still ahead of its due time and moved on resume as
    `deadlines_resume` moves it (in `hold_spec`), then judged at `end`."""
    _, due_at, warn_at = clock_times(policy=policy, kind=kind, priority=priority, start=starts_at, spec=spec)
    stopped = met_at if cancelled_at is None else cancelled_at if met_at is None else min(met_at, cancelled_at)
    last = end if stopped is None else min(stopped, end)
    paused = warned = False
    for paused_at, resumed_at in holds:
        if paused_at < starts_at:
            continue
        if paused_at >= last or due_at <= paused_at:
            # After the clock stopped; or the clock was already due when the lead went on hold: a hold
            # never hides a miss (and every later hold finds it due too).
            break
        warned = warned or warn_at <= paused_at
        if resumed_at is None or resumed_at > last:
            paused, last = True, paused_at
            break
        _, due_at, warn_at = hold_moves(
            due_at=due_at, warn_at=warn_at, warned=warned, paused_at=paused_at, now=resumed_at, spec=hold_spec
        )
    warned = warned or warn_at <= last
    judged = outcome(due_at=due_at, met_at=met_at, cancelled_at=cancelled_at, paused=paused, end=end)
    return Replayed(due_at, warn_at, paused, warned and judged != CANCELLED, judged)


def holds_of_leads(start: datetime) -> dict[int, list[Hold]]:
    """{lead id: [(put on hold at, resumed at or None), …] in order} for the holds from `start` on,
    in one statement over the timeline's "put on hold" and "resumed" events."""
    holds: dict[int, list[Hold]] = defaultdict(list)
    events = (
        LeadEvent.objects.filter(kind__in=[LeadEvent.Kind.ON_HOLD, LeadEvent.Kind.RESUMED], created_at__gte=start)
        .order_by("lead_id", "created_at", "id")
        .values_list("lead_id", "kind", "created_at")
    )
    for lead_id, kind, created_at in events.iterator(chunk_size=5000):
        lead_holds = holds[lead_id]
        if kind == LeadEvent.Kind.ON_HOLD:
            lead_holds.append((created_at, None))
        elif lead_holds and lead_holds[-1][1] is None:
            lead_holds[-1] = (lead_holds[-1][0], created_at)
    return holds


class Calendars:
    """Each person's calendar spec as `BusinessCalendar.objects.spec_for` gives it (their team's, else
    the default), for everyone at once: two statements."""

    def __init__(self):
        self.team_of: dict[int, int | None] = {}
        calendar_of: dict[int, int] = {}
        for user_id, team_id, calendar_id in RepProfile.objects.values_list("user_id", "team_id", "team__calendar_id"):
            self.team_of[user_id] = team_id
            if calendar_id is not None:
                calendar_of[user_id] = calendar_id
        specs = BusinessCalendar.objects.specs(set(calendar_of.values()))
        self.default = specs[None]
        self.spec_of = {user_id: specs[calendar_id] for user_id, calendar_id in calendar_of.items()}

    def spec(self, user_id: int | None) -> CalendarSpec:
        return self.spec_of.get(user_id, self.default) if user_id is not None else self.default


def period_deadlines(start: datetime, end: datetime):
    """The deadlines that started in [start, end), as they happened (streamed, one statement)."""
    return (
        Deadline.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .values_list(*_COLUMNS, named=True)
        .iterator(chunk_size=5000)
    )


def period_count(start: datetime, end: datetime) -> int:
    """How many deadlines started in [start, end): the progress bar's whole."""
    return Deadline.objects.filter(starts_at__gte=start, starts_at__lt=end).count()


def replay_deadlines(
    *, policy: SlaPolicy, start: datetime, end: datetime, calendars: Calendars | None = None
) -> Iterator[tuple[object, Replayed]]:
    """Each deadline of the period as it happened (a row of `_COLUMNS`) with its replay under `policy`."""
    calendars = calendars or Calendars()
    holds = holds_of_leads(start)
    for row in period_deadlines(start, end):
        yield (
            row,
            replay_deadline(
                policy=policy,
                kind=row.kind,
                priority=row.priority,
                starts_at=row.starts_at,
                spec=calendars.spec(calendar_owner_id(row.kind, row.handoff__claimed_by_id, row.owner_id)),
                hold_spec=calendars.spec(row.owner_id),
                holds=holds.get(row.lead_id, ()),
                met_at=row.met_at,
                cancelled_at=row.cancelled_at,
                end=end,
            ),
        )


def recorded_outcome(row, end: datetime) -> str:
    """How the deadline stands at `end` as it happened, by the same rule as a replayed one."""
    return outcome(
        due_at=row.due_at, met_at=row.met_at, cancelled_at=row.cancelled_at, paused=row.paused_at is not None, end=end
    )


@dataclass
class Flip:
    """A deadline that changes side (see `replays.models.ReplayFlip`)."""

    deadline_id: int
    lead_id: int
    kind: str
    priority: str
    owner_id: int | None
    starts_at: datetime
    recorded_due_at: datetime
    replayed_due_at: datetime
    stopped_at: datetime | None
    now_met: bool


class Tally:
    """Counts side by side, as it happened (`recorded`) and under the draft (`replayed`).

    Per deadline it adds one to a counter per side keyed by (kind, tier, campaign, owner, met) and to
    a few consequence counts; the tables per side, kind, tier, rep, team and campaign are summed from
    those counters once at the end (a few thousand keys, not a few hundred thousand rows)."""

    def __init__(self, policy: SlaPolicy, calendars: Calendars):
        self.policy, self.calendars = policy, calendars
        self.decided: tuple[Counter, Counter] = (Counter(), Counter())
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.flips: list[Flip] = []
        self.deadlines = self.same_due = 0
        steps = policy.escalation_steps or []
        self.steps, self.notices = len(steps), int(EscalationStep.NOTIFY_MANAGER in steps)

    def add(self, row, replayed: Replayed, end: datetime) -> None:
        self.deadlines += 1
        self.same_due += replayed.due_at == row.due_at
        recorded = recorded_outcome(row, end)
        recorded_owner = replayed_owner = row.owner_id
        if row.kind == Deadline.Kind.CLAIM:
            # A claim missed in the queue stays the queue's; one met in time is the claimer's (see
            # `sla.clocks._meet`).
            claimer = None if row.met_by_escalation else row.owner_id or row.handoff__claimed_by_id
            replayed_owner = claimer if replayed.outcome == MET else None
        for counter, owner, judged in (
            (self.decided[0], recorded_owner, recorded),
            (self.decided[1], replayed_owner, replayed.outcome),
        ):
            if judged in (MET, MISSED):
                counter[row.kind, row.priority, row.campaign_id, owner, judged == MET] += 1
        self._consequences(row, recorded, replayed)
        if recorded != replayed.outcome and {recorded, replayed.outcome} == {MET, MISSED}:
            self.flips.append(
                Flip(
                    row.id,
                    row.lead_id,
                    row.kind,
                    row.priority,
                    replayed_owner if replayed.outcome == MET else recorded_owner,
                    row.starts_at,
                    row.due_at,
                    replayed.due_at,
                    row.met_at or row.cancelled_at,
                    replayed.outcome == MET,
                )
            )

    def _consequences(self, row, recorded: str, replayed: Replayed) -> None:
        """Breaches and warnings per side, each as it happened and under the draft; the escalation
        steps and manager notices a sales breach sets off under the draft."""
        side = MARKETING if row.kind == Deadline.Kind.FOLLOW_UP else SALES
        counts = self.counts
        missed = replayed.outcome == MISSED
        if row.breached_at is not None:
            counts[f"breaches_{side}"][0] += 1
        if recorded == MISSED:
            counts[f"missed_{side}"][0] += 1
        if row.warned_at is not None:
            counts[f"warnings_{side}"][0] += 1
        if replayed.warned:
            counts[f"warnings_{side}"][1] += 1
        if missed:
            counts[f"breaches_{side}"][1] += 1
            counts[f"missed_{side}"][1] += 1
            if side == SALES:
                counts["escalation_steps"][1] += self.steps
                counts["manager_notices"][1] += self.notices

    def rows(self) -> dict[str, dict]:
        """{dimension: {key: [decided, met as it happened, decided, met under the draft]}}."""
        rows: dict[str, dict] = {dimension: defaultdict(lambda: [0, 0, 0, 0]) for dimension in DIMENSIONS}
        team_of = self.calendars.team_of
        for column, counter in ((0, self.decided[0]), (2, self.decided[1])):
            for (kind, priority, campaign_id, owner, met), count in counter.items():
                sales = kind != Deadline.Kind.FOLLOW_UP
                keys = [
                    ("side", SALES if sales else MARKETING),
                    ("kind", kind),
                    ("campaign", campaign_id),
                    ("rep", owner),
                    ("team", team_of.get(owner) if owner is not None else None),
                ]
                if sales:
                    keys.append(("tier", priority))
                for dimension, key in keys:
                    counts = rows[dimension][key]
                    counts[column] += count
                    counts[column + 1] += count if met else 0
        return rows

    def recorded_escalations(self, start: datetime, end: datetime) -> None:
        """The escalation steps the period's breaches really had, in one statement."""
        steps = (
            Escalation.objects.filter(deadline__starts_at__gte=start, deadline__starts_at__lt=end)
            .values_list("step")
            .annotate(count=Count("id"))
            .order_by()
        )
        for step, count in steps:
            self.counts["escalation_steps"][0] += count
            if step == EscalationStep.NOTIFY_MANAGER:
                self.counts["manager_notices"][0] += count

    def _labels(self, rows: dict[str, dict]) -> dict[str, dict]:
        """Names for the people, teams and campaigns in the rows, as they are now: three statements."""
        users = get_user_model().objects.filter(pk__in=[key for key in rows["rep"] if key is not None])
        return {
            "rep": {
                pk: name_of(*names) for pk, *names in users.values_list("pk", "first_name", "last_name", "username")
            },
            "team": dict(SalesTeam.objects.filter(pk__in=[k for k in rows["team"] if k]).values_list("pk", "name")),
            "campaign": dict(
                Campaign.objects.filter(pk__in=[k for k in rows["campaign"] if k]).values_list("pk", "name")
            ),
            "side": {SALES: "Sales", MARKETING: "Marketing"},
            "kind": dict(Deadline.Kind.choices),
            "tier": dict(Priority.choices),
        }

    def summary(self) -> dict:
        """The report's figures as JSON: {"deadlines", "same_due", "counts": {name: [as it happened,
        under the draft]}, "rows": {dimension: [[key, label, decided, met, decided, met], …]}}, labels
        as they were when it ran (a report is never worked out again)."""
        rows = self.rows()
        labels = self._labels(rows)
        nobody = {"rep": "The queue (nobody had claimed it)", "team": "No team", "campaign": "No campaign"}
        return {
            "deadlines": self.deadlines,
            "same_due": self.same_due,
            "flips_to_missed": sum(not flip.now_met for flip in self.flips),
            "flips_to_met": sum(flip.now_met for flip in self.flips),
            "counts": dict(self.counts),
            "rows": {
                dimension: [
                    [key, labels[dimension].get(key) or nobody.get(dimension, str(key)), *counts]
                    for key, counts in keyed.items()
                ]
                for dimension, keyed in rows.items()
            },
        }


def replay_period(
    *, policy: SlaPolicy, start: datetime, end: datetime, progress: Callable[[int], None] | None = None
) -> tuple[dict, list[Flip]]:
    """Replay every deadline that started in [start, end) under `policy`: (the summary, the flips).
    `progress(done)` is called every PROGRESS_EVERY deadlines."""
    calendars = Calendars()
    tally = Tally(policy, calendars)
    for done, (row, replayed) in enumerate(
        replay_deadlines(policy=policy, start=start, end=end, calendars=calendars), 1
    ):
        tally.add(row, replayed, end)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    tally.recorded_escalations(start, end)
    return tally.summary(), tally.flips
