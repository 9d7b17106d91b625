"""Escalation of a breached sales deadline: the policy's steps, run a set at a time.

The sweep writes, in a batch's transaction, one `Escalation` row per step of each deadline's policy
version in one `INSERT … SELECT` (`escalations_open_sql`), and enqueues one task for the batch after
the commit, through the outbox (`escalations_start`).
That task runs the first step of every deadline of the batch in one transaction (locked with SKIP
LOCKED, in id order; the steps of a kind together: the managers' notices in one insert, the leads to
move locked in one statement, the round-robin planned for the set), which marks them done with
their effect; then the next step of those with steps left, and so on. A step that already ran (the
message delivered twice, a retry after a crash) finds `done_at` set and does nothing.
"""

from datetime import datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from common.bulk import plan_for_sets, rows_insert
from common.localtime import moment_text
from common.outbox import outbox_send
from enforcement.notices import breach_notices_write
from leads.assignment import active_managers
from leads.models import Lead, LeadEvent
from leads.services import lead_requeue, leads_assign_after_breach, lock_leads
from notifications.models import Notification
from notifications.services import notify
from people.names import person_name
from sla.models import Deadline, Escalation, EscalationStep

# A step pending this long lost its task message; the safety net enqueues it again.
STUCK_AFTER = timedelta(minutes=5)
# A deadline still stuck after this many STUCK_AFTERs is enqueued alone (see escalations_requeue_stuck).
ALONE_AFTER = 3
# The safety net's budget per run: this many sets of STEP_BATCH deadlines, and deadlines alone.
REQUEUE_SETS = 4
REQUEUE_ALONE = 50


# The steps of each breached sales deadline of relation `deadlines` (the sweep's batch), from its own
# policy version, in order; one statement however many deadlines (no Python object per step). A step
# already written is left as it is. A follow-up (marketing-side) deadline has no escalation steps: its
# breach is notified only.
_OPEN_STEPS = """
INSERT INTO handoff_escalation (deadline_id, lead_id, step, position, created_at, outcome)
SELECT deadline.id, deadline.lead_id, steps.step, steps.position, deadline.breached_at, ''
FROM {deadlines} AS deadline
JOIN handoff_slapolicy AS policy ON policy.id = deadline.policy_id
CROSS JOIN LATERAL unnest(policy.escalation_steps) WITH ORDINALITY AS steps(step, position)
WHERE deadline.kind = ANY(%s) AND deadline.breached_at IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING deadline_id
"""


def escalations_open_sql(*, deadlines: str) -> tuple[str, list]:
    """The `INSERT … SELECT` of the escalation steps of the just-breached deadlines of relation
    `deadlines`, returning the id of the deadline of each step written; `escalations_start` starts them."""
    return _OPEN_STEPS.format(deadlines=deadlines), [list(Deadline.SALES_KINDS)]


def escalations_open(deadline_ids: list[int]) -> list[int]:
    """Write the escalation steps of these just-breached deadlines and start them (as the sweep does
    for its batch in its one statement); returns the ids of the deadlines that escalate."""
    steps, params = escalations_open_sql(deadlines="breached")
    with connection.cursor() as cursor:
        # Only SQL of ours is formatted in; every value is a parameter.
        sql = f"WITH breached AS (SELECT * FROM handoff_deadline WHERE id = ANY(%s)) {steps}"  # noqa: S608
        cursor.execute(sql, [list(deadline_ids), *params])
        escalating = sorted({row[0] for row in cursor.fetchall()})
    escalations_start(escalating)
    return escalating


def escalations_start(deadline_ids: list[int]) -> None:
    """Run the escalations just opened for these deadlines: one task for the set, written to the
    outbox in the caller's transaction and published after its commit. A sweep killed between its
    batch's commit and the publish leaves the task to the outbox relay, seconds later, not to the
    stuck steps' safety net after STUCK_AFTER (a SIGKILLed SLA worker left a batch's 3,000 steps
    pending for five minutes in the storm drill)."""
    from enforcement.tasks import run_escalations

    if deadline_ids:
        outbox_send(run_escalations, sorted(set(deadline_ids)))


def escalation_enqueue(deadline_id: int) -> None:
    """Enqueue the task that runs the next step of a deadline's escalation, after the commit."""
    # Imported here: the tasks module imports this one.
    from enforcement.tasks import run_escalation

    transaction.on_commit(partial(run_escalation.delay, deadline_id))


def escalation_step_run(*, deadline_id: int, now: datetime | None = None) -> Escalation | None:
    """Run the next step of a deadline's escalation, once, and enqueue the one after it.

    The step's effect, its timeline event (actor None: the system), `done_at` and `outcome` commit
    together. Returns the step run, or None when there is nothing to run: every step is done, or
    another worker holds the next one right now (that worker enqueues what follows). A message
    delivered twice therefore runs the next pending step or nothing, never a step twice.
    """
    ran, more = _steps_run([deadline_id], now=now)
    if more:
        escalation_enqueue(deadline_id)
    return ran[0] if ran else None


# Deadlines whose next steps run together, in one transaction.
STEP_BATCH = 500


def escalations_run(*, deadline_ids: list[int], now: datetime | None = None) -> int:
    """Run every pending step of these deadlines' escalations, in each policy's order, a set at a time:
    the next step of up to STEP_BATCH deadlines in one transaction (as `escalation_step_run` does for
    one), then the step after it of those with steps left, until none are. A deadline whose next step
    another worker holds is left to that worker. Returns how many steps ran."""
    ran, pending = 0, sorted(set(deadline_ids))
    while pending:
        more = []
        for start in range(0, len(pending), STEP_BATCH):
            done, left = _steps_run(pending[start : start + STEP_BATCH], now=now)
            ran += len(done)
            more += left
        pending = more
    return ran


def _steps_run(deadline_ids: list[int], *, now: datetime | None) -> tuple[list[Escalation], list[int]]:
    """Run the next step of each of these deadlines in one transaction: the steps of a kind together,
    their timeline events in one insert, `done_at` and `outcome` in one update. Returns the steps run
    and the ids of their deadlines with steps left after them."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("escalation_step_run needs an aware datetime")
    with transaction.atomic():
        plan_for_sets()
        escalations = _lock_next_steps(deadline_ids)
        if not escalations:
            return [], []
        outcomes: dict[int, Outcome] = {}
        for step, run in STEPS.items():
            of_step = [escalation for escalation in escalations if escalation.step == step]
            if of_step:
                outcomes.update(run(of_step))
        max_length = Escalation._meta.get_field("outcome").max_length
        rows_insert(
            LeadEvent,
            [
                {
                    "lead": escalation.lead_id,
                    "kind": LeadEvent.Kind.ESCALATED,
                    "actor": None,
                    "from_status": "",
                    "to_status": "",
                    "note": outcomes[escalation.pk][0],
                    "data": {"deadline": escalation.deadline_id, "escalation": escalation.pk, "step": escalation.step},
                    "created_at": now,
                }
                for escalation in escalations
                if not outcomes[escalation.pk][1]
            ],
        )
        for escalation in escalations:
            escalation.done_at = now
            escalation.outcome = outcomes[escalation.pk][0][:max_length]
        more = _steps_done(escalations, now)
    return escalations, more


# The set's steps marked done with their outcomes in one statement (an ORM `bulk_update` composes a
# CASE per row in Python: 1.3 s of a set of 500), which also answers whose deadlines have steps left:
# those with a step after the one just done (steps run in order, so those are pending), found through
# the (deadline, position) index and not by `done_at` (see _LOWEST_PENDING).
_STEPS_DONE = """
WITH done AS (
  UPDATE handoff_escalation AS escalation SET done_at = %s, outcome = step.outcome
    FROM unnest(%s::bigint[], %s::text[]) AS step(id, outcome)
   WHERE escalation.id = step.id
  RETURNING escalation.deadline_id, escalation.position
)
SELECT DISTINCT done.deadline_id FROM done
 WHERE EXISTS (SELECT 1 FROM handoff_escalation AS later
                WHERE later.deadline_id = done.deadline_id AND later.position > done.position)
 ORDER BY done.deadline_id
"""


def _steps_done(escalations: list[Escalation], now: datetime) -> list[int]:
    """Mark the set's steps done at `now` with their outcomes; returns the ids of their deadlines with
    steps left after them."""
    with connection.cursor() as cursor:
        cursor.execute(
            _STEPS_DONE,
            [now, [escalation.pk for escalation in escalations], [escalation.outcome for escalation in escalations]],
        )
        return [row[0] for row in cursor.fetchall()]


# The lowest pending step of each deadline, read through the deadline's own steps (its index), one
# deadline at a time. Never with a condition `done_at IS NULL` on the table, nor as one `deadline_id =
# ANY(...)` scan: in a storm the table's statistics lag far behind the 300,000 steps a minute writes,
# and the planner took the partial index of pending steps (escalation_pending_idx) for a small one and
# walked every pending step of the storm (0.3-14 s a set), or scanned the whole table in parallel for
# the set's 500 deadlines (840 ms a set, by `EXPLAIN ANALYZE` in the 100,000 storm drill). A lookup per
# deadline is an index probe whatever the statistics say.
_LOWEST_PENDING = """
SELECT next_step.id
  FROM unnest(%s::bigint[]) AS deadline(id)
 CROSS JOIN LATERAL (SELECT id, done_at FROM handoff_escalation AS escalation
                      WHERE escalation.deadline_id = deadline.id
                      ORDER BY escalation.done_at IS NOT NULL, escalation.position LIMIT 1) AS next_step
 WHERE next_step.done_at IS NULL
 ORDER BY next_step.id
"""


def _lock_next_steps(deadline_ids: list[int]) -> list[Escalation]:
    """Lock the lowest pending step of each deadline, skipping those another worker holds, in id
    order. Only the lowest: skipping a locked step to take a later one would run the policy out of
    order. A step done since the statement began is not taken (checked again on the locked row,
    which FOR UPDATE reads as last committed)."""
    with connection.cursor() as cursor:
        cursor.execute(_LOWEST_PENDING, [sorted(set(deadline_ids))])
        lowest = [row[0] for row in cursor.fetchall()]
    if not lowest:
        return []
    locked = (
        Escalation.objects.filter(pk__in=lowest)
        .select_for_update(skip_locked=True, of=("self",))
        # What the steps read of each: the deadline, who missed it, its handoff's clock. The leads a step
        # moves it locks and reads itself (lock_leads); five joined rows a step were a third of a set's Python.
        .select_related("deadline__owner", "deadline__handoff")
        .order_by("pk")
    )
    return [escalation for escalation in locked if escalation.done_at is None]


def escalations_requeue_stuck(*, older_than: timedelta = STUCK_AFTER, now: datetime | None = None) -> int:
    """Enqueue again each deadline with a step still pending that was written more than `older_than`
    ago: its task message was lost (a broker restart, a worker killed between a sweep batch's commit
    and its fan-out). Running a step is idempotent, so a step merely slow is safe to enqueue twice.

    The first times, they go out in sets of STEP_BATCH, like a sweep batch's, so a lost batch of a
    thousand breaches is two tasks again, not thousands; a deadline still stuck after
    ALONE_AFTER × `older_than` goes alone, so a step that keeps failing holds up only its own
    deadline, not a set. Returns how many deadlines were enqueued."""
    from enforcement.tasks import run_escalations

    now = now or timezone.now()
    # Answered from the partial index of pending steps (escalation_pending_idx).
    stuck = (
        Escalation.objects.filter(done_at__isnull=True, created_at__lt=now - older_than)
        .order_by("deadline_id")
        .values_list("deadline_id", "created_at")
        .distinct()
    )
    in_sets, alone = [], []
    for deadline_id, created_at in stuck:
        (in_sets if created_at >= now - ALONE_AFTER * older_than else alone).append(deadline_id)
    # A fixed budget per run: in a storm, steps merely waiting behind emails look stuck too, and
    # handing them all out again would bury the queue under duplicates (they would do nothing, but
    # each is a message to take). What is left goes next minute.
    in_sets = sorted(set(in_sets))[: REQUEUE_SETS * STEP_BATCH]
    alone = sorted(set(alone) - set(in_sets))[:REQUEUE_ALONE]
    for start in range(0, len(in_sets), STEP_BATCH):
        transaction.on_commit(partial(run_escalations.delay, in_sets[start : start + STEP_BATCH]))
    for deadline_id in alone:
        escalation_enqueue(deadline_id)
    return len(in_sets) + len(alone)


# --- The steps ---------------------------------------------------------------------------------
# Each takes the locked steps of its kind of one set and returns, per step id, (outcome, whether it
# wrote the timeline event itself); a step that moved the lead leaves the service's REQUEUED or
# ASSIGNED event as its record. They run inside the set's transaction.
Outcome = tuple[str, bool]


def _when(moment: datetime) -> str:
    return moment_text(moment)


def _team_managers(owner_ids: set[int]) -> dict[int, object]:
    """The active manager of each owner's sales team (the first by id, as `team_manager_of`)."""
    if not owner_ids:
        return {}
    rows = list(
        active_managers().filter(managed_teams__reps__user__in=owner_ids).values_list("managed_teams__reps__user", "pk")
    )
    users = {user.pk: user for user in active_managers().filter(pk__in={pk for _, pk in rows})}
    # Highest id first, so the lowest id of an owner's managers is written last and stays.
    return {owner_id: users[manager_id] for owner_id, manager_id in sorted(rows, key=lambda row: -row[1])}


def _notify_manager(escalations: list[Escalation]) -> dict[int, Outcome]:
    """Tell the manager of the owner's team, or every active manager if there is no such manager
    (the owner has no team or manager, or nobody owned the deadline: a claim missed in the queue).

    It is the breach notice itself (same key): a manager the breach notice already reached is not
    told twice, and one it did not reach (the notice's task not yet run, or lost) is told here. The
    set's notices are written in one insert."""
    deadlines = [escalation.deadline for escalation in escalations]
    team_managers = _team_managers({deadline.owner_id for deadline in deadlines if deadline.owner_id})
    every_manager = list(active_managers()) if len(team_managers) < len(deadlines) else []
    recipients = {
        deadline: [team_managers[deadline.owner_id]] if deadline.owner_id in team_managers else every_manager
        for deadline in deadlines
    }
    told = [(deadline.pk, user.pk) for deadline, users in recipients.items() for user in users]
    told_now = breach_notices_write(told)
    outcomes = {}
    for escalation in escalations:
        deadline = escalation.deadline
        what = deadline.get_kind_display().lower()
        users = recipients[deadline]
        already = "" if told_now.get(deadline.pk) else " (the breach notice had already reached them)"
        if not users:
            outcome = f"Nobody to tell about the missed {what} deadline: there is no active manager."
        elif deadline.owner_id in team_managers:
            owner = person_name(deadline.owner)
            outcome = f"Escalated to {person_name(users[0])}, manager of {owner}'s team{already}."
        else:
            names = ", ".join(person_name(user) for user in users)
            outcome = f"Escalated to every manager ({names}): the owner has no team manager{already}."
        outcomes[escalation.pk] = (outcome, False)
    return outcomes


# The moves that change who holds a lead, or that it waits in the queue.
_MOVES = (
    LeadEvent.Kind.ASSIGNED,
    LeadEvent.Kind.CLAIMED,
    LeadEvent.Kind.REQUEUED,
    LeadEvent.Kind.RETURNED,
    LeadEvent.Kind.HANDED_OFF,
)


def _moved_by_people(escalations: list[Escalation]) -> set[int]:
    """The escalations whose lead a person moved after the deadline fell due: a manager who gave it to
    someone (even back to the rep who missed it), a rep who put it back in the queue. Who holds the
    lead, or that it waits in the queue under a new claim clock, is then that person's decision, taken
    after the miss (whether the sweep had recorded it yet or not); the steps that move the lead leave
    it alone. The system's own moves (an earlier step taking it back) do not count, nor does the move
    that started the pass's clock (the claim or assignment a first contact is counted from). One query."""
    if not escalations:
        return set()

    def since(escalation: Escalation) -> datetime:
        handoff = escalation.deadline.handoff
        return max(escalation.deadline.due_at, handoff.claimed_at or handoff.handed_off_at)

    latest = dict(
        LeadEvent.objects.filter(
            lead_id__in={escalation.lead_id for escalation in escalations},
            kind__in=_MOVES,
            actor__isnull=False,
            created_at__gt=min(since(escalation) for escalation in escalations),
        )
        .order_by()
        .values_list("lead_id")
        .annotate(Max("created_at"))
    )
    return {
        escalation.pk
        for escalation in escalations
        if escalation.lead_id in latest and latest[escalation.lead_id] > since(escalation)
    }


def _return_to_queue(escalations: list[Escalation]) -> dict[int, Outcome]:
    """Take the lead back from the rep who missed the deadline, if they still hold it and it is
    still not met; otherwise leave it where it is. The set's leads are locked in one statement."""
    outcomes = {}
    # A claim missed in the queue has nobody to take the lead from, whatever happens next: its owner is
    # only ever set by the late claim that meets it. Read once for the set, without the leads' locks.
    unowned = [escalation for escalation in escalations if escalation.deadline.owner_id is None]
    met = dict(
        Deadline.objects.filter(pk__in=[escalation.deadline_id for escalation in unowned]).values_list("pk", "met_at")
    )
    for escalation in unowned:
        what = escalation.deadline.get_kind_display().lower()
        met_at = met.get(escalation.deadline_id)
        outcomes[escalation.pk] = (
            f"The lead was not taken back: the {what} was done, late, on {_when(met_at)}."
            if met_at
            else f"The lead was not taken back: no rep had it; the {what} deadline passed in the queue.",
            False,
        )
    owned = [escalation for escalation in escalations if escalation.pk not in outcomes]
    leads = lock_leads([escalation.lead_id for escalation in owned])
    decided = _moved_by_people(owned)
    for escalation in owned:
        outcomes[escalation.pk] = _take_back(escalation, leads[escalation.lead_id], decided=escalation.pk in decided)
    return outcomes


def _take_back(escalation: Escalation, lead: Lead, *, decided: bool) -> Outcome:
    deadline = escalation.deadline
    what = deadline.get_kind_display().lower()
    # Read again under the lead's lock: every move that meets, cancels or hands over the clock holds it.
    deadline.refresh_from_db(fields=["met_at", "cancelled_at"])
    owner = deadline.owner
    if deadline.met_at is not None:
        return f"The lead was not taken back: the {what} was done, late, on {_when(deadline.met_at)}.", False
    if lead.status != Lead.Status.CLAIMED:
        return f"The lead was not taken back: it is {lead.get_status_display().lower()} now.", False
    if lead.owner_id != owner.pk or deadline.cancelled_at is not None:
        return f"The lead was not taken back: {person_name(owner)}, who missed the {what}, no longer has it.", False
    if decided:
        return f"The lead was not taken back: someone gave it to {person_name(owner)} again after the miss.", False
    lead_requeue(
        lead=lead,
        actor=None,
        reason=(
            f"Escalation: {person_name(owner)} missed the {what} deadline (due {_when(deadline.due_at)}); "
            "the lead is back in the queue with a new claim clock."
        ),
    )
    return f"Took the lead back from {person_name(owner)}; it is in the queue again with a new claim clock.", True


def _reassign(escalations: list[Escalation]) -> dict[int, Outcome]:
    """Give each lead that waits in the queue to the next available rep other than the one who missed
    the deadline, the round-robin planned for the set; a lead that missed its sales deadlines twice
    or more goes to a manager."""
    leads = lock_leads([escalation.lead_id for escalation in escalations])
    decided = _moved_by_people(escalations)
    outcomes = {}
    waiting = []
    for escalation in escalations:
        lead = leads[escalation.lead_id]
        if lead.status != Lead.Status.HANDED_OFF:
            status = lead.get_status_display().lower()
            outcomes[escalation.pk] = (f"The lead was not reassigned: it is {status}, not waiting in the queue.", False)
        elif escalation.pk in decided:
            outcomes[escalation.pk] = (
                "The lead was not reassigned: someone moved it after the miss, "
                "and its new claim deadline decides what happens next.",
                False,
            )
        else:
            waiting.append(escalation)
    breaches = dict(
        Deadline.objects.filter(
            lead_id__in=[escalation.lead_id for escalation in waiting],
            kind__in=Deadline.SALES_KINDS,
            breached_at__isnull=False,
        )
        .order_by()
        .values_list("lead_id")
        .annotate(Count("pk"))
    )
    assignees = leads_assign_after_breach(
        breaches=[(leads[e.lead_id], e.deadline.owner, breaches.get(e.lead_id, 0) >= 2) for e in waiting]
    )
    for escalation, assignee in zip(waiting, assignees, strict=True):
        outcomes[escalation.pk] = _reassigned(
            escalation, leads[escalation.lead_id], assignee, breaches.get(escalation.lead_id, 0)
        )
    return outcomes


def _reassigned(escalation: Escalation, lead: Lead, assignee, breaches: int) -> Outcome:
    to_manager = breaches >= 2
    if assignee is None:
        nobody = (
            "no active manager" if to_manager else "no rep is available (capacity, out of office, automatic assignment)"
        )
        return f"The lead stays in the queue: {nobody}.", False
    # The new owner's first-contact clock is already running: tell them now, not at the warning.
    what = escalation.deadline.get_kind_display().lower()
    notify(
        user=assignee,
        kind=Notification.Kind.ESCALATION if to_manager else Notification.Kind.ASSIGNED,
        title=f"{'Escalated' if to_manager else 'Assigned'} to you: {lead.full_name}",
        body=(
            f"Lead {lead.full_name} ({lead.company or lead.email}) is yours after a missed {what} deadline"
            + (f" (its sales deadlines were missed {breaches} times)" if to_manager else "")
            + ". Its first-contact clock is running."
        ),
        lead=lead,
        key=f"escalation:{escalation.pk}",
    )
    if to_manager:
        return (
            f"Gave the lead to {person_name(assignee)}, a manager: its sales deadlines were missed {breaches} times.",
            True,
        )
    return f"Gave the lead to {person_name(assignee)}, the next available rep.", True


STEPS = {
    EscalationStep.NOTIFY_MANAGER: _notify_manager,
    EscalationStep.RETURN_TO_QUEUE: _return_to_queue,
    EscalationStep.REASSIGN: _reassign,
}
