"""Is the SLA sweep alive, and how quickly does it notice a breach?

A stopped worker records no breaches, and no breaches looks exactly like a perfect SLA. So every sweep
leaves a heartbeat, after each batch of a long one too, and /healthz, the dashboard and a banner on
managers' pages read it.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Max
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from enforcement.models import SweepHeartbeat
from people.roles import Role, has_role
from sla.models import Deadline

# Beat may run late now and then; three missed intervals in a row means nobody is sweeping.
STALE_AFTER_INTERVALS = 3
# The promise: a breach is recorded within two sweep intervals of its due time at the 99th percentile
# (10 s with the default 5 s interval): up to one interval until the next sweep, and one for the sweep
# itself and beat's jitter.
DETECTION_TARGET_INTERVALS = 2


def detection_target() -> timedelta:
    """How soon after its due time a breach is promised to be recorded (at the 99th percentile)."""
    return timedelta(seconds=DETECTION_TARGET_INTERVALS * settings.SLA_SWEEP_INTERVAL)


# One statement whether or not the row exists yet (the first sweep on a new database, or after a
# transactional test flushed the table), and safe when several workers finish at the same moment. Its
# commit does not wait for the disk: a heartbeat lost in a database crash costs nothing, and a storm's
# sweep writes one per batch.
_HEARTBEAT_UPSERT = """
    SET LOCAL synchronous_commit TO OFF;
    INSERT INTO handoff_sweepheartbeat AS beat
        (id, last_started_at, last_finished_at, last_breached, last_duration_ms, runs)
    VALUES (1, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO UPDATE SET
        last_started_at = EXCLUDED.last_started_at,
        last_finished_at = EXCLUDED.last_finished_at,
        last_breached = EXCLUDED.last_breached,
        last_duration_ms = EXCLUDED.last_duration_ms,
        runs = beat.runs + EXCLUDED.runs
"""


def heartbeat_record(
    *, started_at: datetime, finished_at: datetime, breached: int, duration_ms: int, finished: bool = True
) -> None:
    """Overwrite the heartbeat with the run that just finished (`finished`, counted) or with how far a
    run still going has got (not counted)."""
    # One query message of two statements: PostgreSQL runs them as one transaction, so the SET LOCAL
    # holds for the upsert alone (inside a caller's transaction, for the rest of it: harmless).
    with connection.cursor() as cursor:
        cursor.execute(_HEARTBEAT_UPSERT, [started_at, finished_at, breached, duration_ms, int(finished)])


class SweepRun:
    """The heartbeat of one sweep run: `beat` after each of its batches but the last, `finish` at the
    end. The times are the wall clock even when a test passes the sweep its own `now`: the heartbeat
    says when a worker really ran. A run that raises before its first batch ends leaves none, so a
    worker failing on every run goes stale just like a dead one; a long storm never looks stale."""

    def __init__(self) -> None:
        self.started_at, self.clock = timezone.now(), time.monotonic()

    def beat(self, *, breached: int) -> None:
        self._record(breached, finished=False)

    def finish(self, *, breached: int) -> None:
        self._record(breached, finished=True)

    def _record(self, breached: int, *, finished: bool) -> None:
        heartbeat_record(
            started_at=self.started_at,
            finished_at=timezone.now(),
            breached=breached,
            duration_ms=round((time.monotonic() - self.clock) * 1000),
            finished=finished,
        )


@dataclass(frozen=True)
class SweepStatus:
    last_run_at: datetime | None
    age: timedelta | None
    interval: timedelta
    stale: bool
    last_breached: int | None = None
    last_duration_ms: int | None = None

    @property
    def age_seconds(self) -> int | None:
        return None if self.age is None else int(self.age.total_seconds())

    def as_json(self) -> dict:
        return {
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "age_seconds": self.age_seconds,
            "stale": self.stale,
        }


def sweep_status(*, now: datetime) -> SweepStatus:
    """When the sweep last finished, as of `now`; stale if never, or more than three intervals ago. One query."""
    interval = timedelta(seconds=settings.SLA_SWEEP_INTERVAL)
    beat = SweepHeartbeat.objects.filter(pk=1).first()
    if beat is None:
        return SweepStatus(last_run_at=None, age=None, interval=interval, stale=True)
    # A worker whose clock runs a little ahead must not produce a negative age.
    age = max(now - beat.last_finished_at, timedelta(0))
    return SweepStatus(
        last_run_at=beat.last_finished_at,
        age=age,
        interval=interval,
        stale=age > STALE_AFTER_INTERVALS * interval,
        last_breached=beat.last_breached,
        last_duration_ms=beat.last_duration_ms,
    )


def sweep_context(request) -> dict:
    """Template context for the stale-sweep banner: managers only, and read lazily, so a page that
    does not show it costs no query and other roles never cost one."""
    if not has_role(request.user, Role.MANAGERS):
        return {}
    return {"sweep_status": SimpleLazyObject(lambda: sweep_status(now=timezone.now()))}


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the middle of the ordered values, interpolated."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


class Percentile99(Median):
    template = "%(function)s(0.99) WITHIN GROUP (ORDER BY %(expressions)s)"


@dataclass(frozen=True)
class DetectionDelay:
    """How long after their due time breaches were recorded, against the promise (`detection_target`)."""

    breaches: int
    median: timedelta | None
    p99: timedelta | None
    max: timedelta | None
    target: timedelta

    @property
    def within_target(self) -> bool:
        return self.p99 is None or self.p99 <= self.target


def breach_detection_delay(*, now: datetime, days: int = 7) -> DetectionDelay:
    """Median, 99th percentile and worst delay between due time and recorded breach, over breaches
    recorded in the last `days` days. One aggregate query."""
    delay = F("breached_at") - F("due_at")
    figures = Deadline.objects.filter(breached_at__gt=now - timedelta(days=days), breached_at__lte=now).aggregate(
        breaches=Count("id"), median=Median(delay), p99=Percentile99(delay), max=Max(delay)
    )
    return DetectionDelay(**figures, target=detection_target())
