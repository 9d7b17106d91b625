"""The SLA sweep: find deadlines past due and record each breach exactly once.

Safe to run from any number of workers at the same moment, and as often as you like: each batch
locks its rows with SKIP LOCKED, so two sweeps never take the same deadline, and the breach itself
is a conditional UPDATE (`breached_at IS NULL`) that a repeated run finds already done.
"""

import logging
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from leads.models import LeadEvent

from .health import sweep_heartbeat
from .models import Deadline

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


@sweep_heartbeat
def sweep_deadlines(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Mark every deadline due by `now` as breached; returns how many this call breached."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("sweep_deadlines needs an aware datetime")
    breached = 0
    while True:
        with transaction.atomic():
            batch = list(
                Deadline.objects.due(now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("lead", "owner")
                .order_by("due_at")[:batch_size]
            )
            for deadline in batch:
                breached += _breach(deadline, now=now)
        if len(batch) < batch_size:
            break
    if breached:
        logger.info("SLA sweep recorded %d breach(es)", breached)
    return breached


def _breach(deadline: Deadline, *, now: datetime) -> int:
    """Record one breach; 0 if another sweep already did."""
    # Imported here: the tasks module imports this one.
    from .tasks import notify_breach

    if not Deadline.objects.due(now).filter(pk=deadline.pk).update(breached_at=now):
        return 0
    late_by = now - deadline.due_at
    due = timezone.localtime(deadline.due_at)
    who = f" (owner: {deadline.owner.get_full_name() or deadline.owner.username})" if deadline.owner else ""
    LeadEvent.objects.create(
        lead=deadline.lead,
        kind=LeadEvent.Kind.BREACH,
        actor=None,
        note=f"{deadline.get_kind_display()} deadline missed{who}; it was due {due:%Y-%m-%d %H:%M}.",
        data={
            "deadline": deadline.pk,
            "kind": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
            "detected_after_seconds": round(late_by.total_seconds()),
        },
        created_at=now,
    )
    transaction.on_commit(partial(notify_breach.delay, deadline.pk))
    return 1
