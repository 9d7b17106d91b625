"""The SLA sweep: find deadlines past their warning or due time and record each warning and each
breach exactly once.

Safe to run from any number of workers at the same moment (two beats by mistake included), and as
often as you like: each batch locks its rows with SKIP LOCKED, so two sweeps never take the same
deadline, and every record is a conditional UPDATE (`warned_at IS NULL`, `breached_at IS NULL`) that a
repeated run finds already done. A batch is one transaction: a worker killed in the middle of one
leaves nothing of it behind, and the next sweep does it again from the start.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from leads.models import LeadEvent

from .escalation import escalations_open
from .health import sweep_heartbeat
from .models import Deadline
from .people import person_name

logger = logging.getLogger(__name__)


def _who(deadline: Deadline) -> str:
    if deadline.owner is None:
        return ""
    return f" (owner: {person_name(deadline.owner)})"


@sweep_heartbeat
def sweep_deadlines(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Warn about every deadline past its warning time and breach every deadline due by `now`;
    returns how many breaches this call recorded.

    With nothing to do this is one query on two small partial indexes, whatever the number of
    deadlines running (see `DeadlineQuerySet.sweepable`).
    """
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("sweep_deadlines needs an aware datetime")
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    breached = warned = 0
    while True:
        with transaction.atomic():
            batch = list(
                Deadline.objects.sweepable(now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at")[:batch_size]
            )
            # Fetched apart, and only when something is due: joins would double the cost of the
            # sweep that finds nothing, which is almost every sweep.
            prefetch_related_objects(batch, "lead", "owner")
            for deadline in batch:
                if deadline.due_at <= now:
                    breached += _breach(deadline, now=now)
                else:
                    warned += _warn(deadline, now=now)
        if len(batch) < batch_size:
            break
    if breached or warned:
        logger.info("SLA sweep recorded %d breach(es) and %d warning(s)", breached, warned)
    return breached


def _warn(deadline: Deadline, *, now: datetime) -> int:
    """Record one warning; 0 if another sweep already did (or the deadline was met meanwhile)."""
    from .tasks import notify_warning

    if not Deadline.objects.warning_due(now).filter(pk=deadline.pk).update(warned_at=now):
        return 0
    due = timezone.localtime(deadline.due_at)
    LeadEvent.objects.create(
        lead=deadline.lead,
        kind=LeadEvent.Kind.WARNING,
        actor=None,
        note=f"{deadline.get_kind_display()} deadline is close{_who(deadline)}: due {due:%Y-%m-%d %H:%M}.",
        data={"deadline": deadline.pk, "kind": deadline.kind, "due_at": deadline.due_at.isoformat()},
        created_at=now,
    )
    if deadline.owner_id is not None:
        transaction.on_commit(partial(notify_warning.delay, deadline.pk))
    return 1


def _breach(deadline: Deadline, *, now: datetime) -> int:
    """Record one breach and start its escalation; 0 if another sweep already did."""
    # Imported here: the tasks module imports this one.
    from .tasks import notify_breach

    if not Deadline.objects.due(now).filter(pk=deadline.pk).update(breached_at=now):
        return 0
    late_by = now - deadline.due_at
    due = timezone.localtime(deadline.due_at)
    LeadEvent.objects.create(
        lead=deadline.lead,
        kind=LeadEvent.Kind.BREACH,
        actor=None,
        note=f"{deadline.get_kind_display()} deadline missed{_who(deadline)}; it was due {due:%Y-%m-%d %H:%M}.",
        data={
            "deadline": deadline.pk,
            "kind": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
            "detected_after_seconds": round(late_by.total_seconds()),
        },
        created_at=now,
    )
    escalations_open(deadline, now=now)
    transaction.on_commit(partial(notify_breach.delay, deadline.pk))
    return 1


LOST_AFTER = timedelta(minutes=5)


def breach_notices_requeue(*, older_than: timedelta = LOST_AFTER, now: datetime | None = None) -> int:
    """Enqueue again the notice of each breach recorded more than `older_than` ago and still not
    notified: its task message was lost (a worker killed while holding it; the broker would only give
    it back after its visibility timeout). `breach_notify` runs once per breach, so a notice that was
    merely slow is not sent twice. Returns how many were enqueued."""
    from .tasks import notify_breach

    now = now or timezone.now()
    # Answered from the partial index of unnotified breaches (deadline_breach_unnotified_idx).
    lost = list(
        Deadline.objects.filter(
            breached_at__isnull=False, breach_notified_at__isnull=True, breached_at__lt=now - older_than
        ).values_list("pk", flat=True)
    )
    for deadline_id in lost:
        notify_breach.delay(deadline_id)
    return len(lost)
