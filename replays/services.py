"""Asking for a replay of a draft and running it: the one door (pages, tests and the benchmark call it)."""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from people.roles import Role, has_role
from replays import tasks
from replays.models import MAX_WEEKS, Replay, ReplayFlip
from replays.recompute import period_count, replay_period
from sla.agreement import draft_replay_record
from sla.models import PolicyDraft, SlaPolicy

logger = logging.getLogger(__name__)

# A replay left running this long was lost with its worker (killed, restarted): a new delivery of its
# task may take it over.
STALE_AFTER = timedelta(minutes=15)
FLIPS_BATCH = 5000


def replay_request(*, draft: PolicyDraft, actor, weeks: int, now: datetime | None = None) -> Replay:
    """Ask for a replay of the draft's current revision on the `weeks` weeks up to now. Recorded on
    the draft's record at once (who replayed which revision, when); a worker does the work."""
    if not has_role(actor, Role.MANAGERS):
        raise PermissionDenied("Only managers replay SLA policy drafts.")
    if not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"Replay between 1 and {MAX_WEEKS} weeks.")
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, so the revision copied here is the one recorded, even with an edit racing.
        draft = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        replay = Replay.objects.create(
            draft=draft,
            revision=draft.revision,
            content_hash=draft.content_hash,
            values=draft.values,
            weeks=weeks,
            period_start=now - timedelta(weeks=weeks),
            period_end=now,
            requested_by=actor,
            requested_at=now,
        )
        draft_replay_record(
            draft=draft, actor=actor, note=f"On the last {weeks} weeks (replay report {replay.pk})", now=now
        )
        transaction.on_commit(lambda: tasks.run_replay.delay(replay.pk))
    return replay


def replay_policy(replay: Replay) -> SlaPolicy:
    """The policy the replay runs: the draft's values as they were when it was asked for (unsaved)."""
    return SlaPolicy(**replay.values, version=0)


def replay_run(*, replay_id: int) -> Replay | None:
    """Run a queued replay (or one whose worker was lost) and store its report. Idempotent: a second
    delivery finds it taken or done and returns None. A failure is stored on the report."""
    now = timezone.now()
    taken = (
        Replay.objects.filter(pk=replay_id)
        .filter(status__in=[Replay.Status.QUEUED, Replay.Status.RUNNING])
        .exclude(status=Replay.Status.RUNNING, started_at__gt=now - STALE_AFTER)
        .update(status=Replay.Status.RUNNING, started_at=now, done=0, total=0)
    )
    if not taken:
        return None
    replay = Replay.objects.get(pk=replay_id)
    try:
        return _run(replay)
    except Exception as exc:
        logger.exception("Replay %s failed", replay_id)
        Replay.objects.filter(pk=replay_id).update(
            status=Replay.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:300]
        )
        raise


def _run(replay: Replay) -> Replay:
    total = period_count(replay.period_start, replay.period_end)
    Replay.objects.filter(pk=replay.pk).update(total=total)

    def progress(done: int) -> None:
        Replay.objects.filter(pk=replay.pk).update(done=min(done, total))

    summary, flips = replay_period(
        policy=replay_policy(replay), start=replay.period_start, end=replay.period_end, progress=progress
    )
    with transaction.atomic():
        ReplayFlip.objects.bulk_create(
            (
                ReplayFlip(
                    replay_id=replay.pk,
                    deadline_id=flip.deadline_id,
                    lead_id=flip.lead_id,
                    kind=flip.kind,
                    priority=flip.priority,
                    owner_id=flip.owner_id,
                    starts_at=flip.starts_at,
                    recorded_due_at=flip.recorded_due_at,
                    replayed_due_at=flip.replayed_due_at,
                    stopped_at=flip.stopped_at,
                    now_met=flip.now_met,
                )
                for flip in flips
            ),
            batch_size=FLIPS_BATCH,
        )
        replay.summary = summary
        replay.total = replay.done = summary["deadlines"]
        replay.status, replay.finished_at = Replay.Status.DONE, timezone.now()
        replay.save(update_fields=["summary", "total", "done", "status", "finished_at"])
    return replay
