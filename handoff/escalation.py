"""Escalation of a breached sales deadline: the policy's steps, each in its own Celery task.

The sweep calls `escalations_open` in a batch's transaction: it writes one `Escalation` row per step of
each deadline's policy version, in one insert, and enqueues one task for the batch after the commit.
That task runs the first step of each deadline, each step in its own transaction that marks it done,
then enqueues one task for the steps that follow. A step that already ran (the message delivered
twice, a retry after a crash) finds `done_at` set and does nothing.
"""

from datetime import datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from leads.assignment import active_managers, team_manager_of
from leads.models import Lead, LeadEvent
from leads.services import lead_assign_after_breach, lead_requeue, lock_lead

from .models import Deadline, Escalation, EscalationStep, Notification
from .notifications import breach_notice, notify
from .people import person_name

# A step pending this long lost its task message; the safety net enqueues it again.
STUCK_AFTER = timedelta(minutes=5)


# The steps of each breached sales deadline, from its own policy version, in order; in one statement
# however many deadlines (no Python object per step). A step already written is left as it is.
_OPEN_STEPS = """
INSERT INTO handoff_escalation (deadline_id, lead_id, step, position, created_at, outcome)
SELECT deadline.id, deadline.lead_id, steps.step, steps.position, deadline.breached_at, ''
FROM handoff_deadline AS deadline
JOIN handoff_slapolicy AS policy ON policy.id = deadline.policy_id
CROSS JOIN LATERAL unnest(policy.escalation_steps) WITH ORDINALITY AS steps(step, position)
WHERE deadline.id = ANY(%s) AND deadline.kind = ANY(%s) AND deadline.breached_at IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING deadline_id
"""


def escalations_open(deadline_ids: list[int]) -> list[int]:
    """Write the escalation steps of just-breached sales deadlines in one insert and start them with one
    task after the commit; returns the ids of the deadlines that escalate. A follow-up (marketing-side)
    deadline has no escalation steps: its breach is notified only."""
    from .tasks import run_escalations

    with connection.cursor() as cursor:
        cursor.execute(_OPEN_STEPS, [list(deadline_ids), list(Deadline.SALES_KINDS)])
        escalating = sorted({row[0] for row in cursor.fetchall()})
    if escalating:
        transaction.on_commit(partial(run_escalations.delay, escalating))
    return escalating


def escalation_enqueue(deadline_id: int) -> None:
    """Enqueue the task that runs the next step of a deadline's escalation, after the commit."""
    # Imported here: the tasks module imports this one.
    from .tasks import run_escalation

    transaction.on_commit(partial(run_escalation.delay, deadline_id))


def escalation_step_run(*, deadline_id: int, now: datetime | None = None) -> Escalation | None:
    """Run the next step of a deadline's escalation, once, and enqueue the one after it.

    The step's effect, its timeline event (actor None: the system), `done_at` and `outcome` commit
    together. Returns the step run, or None when there is nothing to run: every step is done, or
    another worker holds the next one right now (that worker enqueues what follows). A message
    delivered twice therefore runs the next pending step or nothing, never a step twice.
    """
    escalation, more = _step_run(deadline_id=deadline_id, now=now)
    if more:
        escalation_enqueue(deadline_id)
    return escalation


def escalations_run(*, deadline_ids: list[int], now: datetime | None = None) -> int:
    """Run the next step of each deadline's escalation, as `escalation_step_run` does for one, and
    enqueue one task for the deadlines with steps left: a task per batch of breaches and step, not per
    breach. Returns how many steps ran."""
    from .tasks import run_escalations

    ran, more = 0, []
    for deadline_id in deadline_ids:
        escalation, pending = _step_run(deadline_id=deadline_id, now=now)
        ran += escalation is not None
        if pending:
            more.append(deadline_id)
    if more:
        transaction.on_commit(partial(run_escalations.delay, more))
    return ran


def _step_run(*, deadline_id: int, now: datetime | None) -> tuple[Escalation | None, bool]:
    """Run the deadline's next step in its own transaction; returns it (None if there was none to
    run) and whether steps are left after it."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("escalation_step_run needs an aware datetime")
    with transaction.atomic():
        escalation = _lock_next_step(deadline_id)
        if escalation is None:
            return None, False
        outcome, on_timeline = STEPS[escalation.step](escalation)
        if not on_timeline:
            LeadEvent.objects.create(
                lead_id=escalation.lead_id,
                kind=LeadEvent.Kind.ESCALATED,
                actor=None,
                note=outcome,
                data={"deadline": deadline_id, "escalation": escalation.pk, "step": escalation.step},
                created_at=now,
            )
        escalation.done_at = now
        escalation.outcome = outcome[: Escalation._meta.get_field("outcome").max_length]
        escalation.save(update_fields=["done_at", "outcome"])
        more = Escalation.objects.filter(deadline_id=deadline_id, done_at__isnull=True).exists()
    return escalation, more


def _lock_next_step(deadline_id: int) -> Escalation | None:
    """Lock the lowest pending step of the deadline; None if there is none or another worker holds it.
    Only the lowest: skipping a locked step to take a later one would run the policy out of order."""
    pending = Escalation.objects.filter(deadline_id=deadline_id, done_at__isnull=True)
    first = pending.order_by("position").values_list("pk", flat=True).first()
    if first is None:
        return None
    return (
        pending.filter(pk=first)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("deadline__lead__campaign", "deadline__owner")
        .first()
    )


def escalations_requeue_stuck(*, older_than: timedelta = STUCK_AFTER, now: datetime | None = None) -> int:
    """Enqueue again each deadline with a step still pending that was written more than `older_than`
    ago: its task message was lost (a broker restart, a worker killed before it enqueued the next
    step). Running a step is idempotent, so a step merely slow is safe to enqueue twice. Returns how
    many deadlines were enqueued."""
    now = now or timezone.now()
    # Answered from the partial index of pending steps (escalation_pending_idx).
    deadline_ids = list(
        Escalation.objects.filter(done_at__isnull=True, created_at__lt=now - older_than)
        .order_by()
        .values_list("deadline_id", flat=True)
        .distinct()
    )
    for deadline_id in deadline_ids:
        escalation_enqueue(deadline_id)
    return len(deadline_ids)


# --- The steps ---------------------------------------------------------------------------------
# Each runs inside the step's transaction and returns (outcome, whether it wrote the timeline event
# itself); a step that moved the lead leaves the service's REQUEUED or ASSIGNED event as its record.
Outcome = tuple[str, bool]


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _notify_manager(escalation: Escalation) -> Outcome:
    """Tell the manager of the owner's team, or every active manager if there is no such manager
    (the owner has no team or manager, or nobody owned the deadline: a claim missed in the queue).

    It is the breach notice itself (same key): a manager the breach notice already reached is not
    told twice, and one it did not reach (the notice's task not yet run, or lost) is told here."""
    deadline = escalation.deadline
    owner = deadline.owner
    team_manager = team_manager_of(owner)
    recipients = [team_manager] if team_manager else list(active_managers())
    what = deadline.get_kind_display().lower()
    if not recipients:
        return f"Nobody to tell about the missed {what} deadline: there is no active manager.", False
    told_now = [user for user in recipients if breach_notice(user=user, deadline=deadline) is not None]
    already = "" if told_now else " (the breach notice had already reached them)"
    if team_manager:
        return f"Escalated to {person_name(team_manager)}, manager of {person_name(owner)}'s team{already}.", False
    names = ", ".join(person_name(user) for user in recipients)
    return f"Escalated to every manager ({names}): the owner has no team manager{already}.", False


def _return_to_queue(escalation: Escalation) -> Outcome:
    """Take the lead back from the rep who missed the deadline, if they still hold it and it is
    still not met; otherwise leave it where it is."""
    deadline = escalation.deadline
    what = deadline.get_kind_display().lower()
    lead = lock_lead(deadline.lead_id)
    # Read again under the lead's lock: every move that meets, cancels or hands over the clock holds it.
    deadline.refresh_from_db(fields=["owner", "met_at", "cancelled_at"])
    owner = deadline.owner
    if owner is None:
        return f"Nothing to take back: the {what} was missed in the queue, not by a rep.", False
    if deadline.met_at is not None:
        return f"Nothing to take back: the {what} was logged late, {_when(deadline.met_at)}.", False
    if lead.status != Lead.Status.CLAIMED:
        return f"Nothing to take back: the lead is {lead.get_status_display().lower()}.", False
    if lead.owner_id != owner.pk or deadline.cancelled_at is not None:
        return f"Nothing to take back: {person_name(owner)} no longer holds the pass whose {what} was missed.", False
    # A manager who reassigned the lead after the breach (even back to the rep who missed it) has
    # decided who holds it; the escalation does not overrule that.
    if lead.events.filter(kind=LeadEvent.Kind.ASSIGNED, created_at__gt=deadline.breached_at).exists():
        return f"Nothing to take back: the lead was reassigned to {person_name(owner)} after the breach.", False
    lead_requeue(
        lead=lead,
        actor=None,
        reason=(
            f"Escalation: {person_name(owner)} missed the {what} deadline (due {_when(deadline.due_at)}); "
            "the lead is back in the queue with a new claim clock."
        ),
    )
    return f"Took the lead back from {person_name(owner)}; it is in the queue again with a new claim clock.", True


def _reassign(escalation: Escalation) -> Outcome:
    """Give the lead, if it waits in the queue, to the next available rep other than the one who
    missed the deadline; a lead that missed its sales deadlines twice or more goes to a manager."""
    deadline = escalation.deadline
    lead = lock_lead(deadline.lead_id)
    if lead.status != Lead.Status.HANDED_OFF:
        return f"Nobody to reassign to: the lead is {lead.get_status_display().lower()}, not in the queue.", False
    breaches = Deadline.objects.filter(
        lead_id=lead.pk, kind__in=Deadline.SALES_KINDS, breached_at__isnull=False
    ).count()
    to_manager = breaches >= 2
    assignee = lead_assign_after_breach(lead=lead, breached_by=deadline.owner, to_manager=to_manager)
    if assignee is None:
        nobody = (
            "no active manager" if to_manager else "no rep is available (capacity, out of office, automatic assignment)"
        )
        return f"The lead stays in the queue: {nobody}.", False
    # The new owner's first-contact clock is already running: tell them now, not at the warning.
    what = deadline.get_kind_display().lower()
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
