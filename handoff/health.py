"""Is the SLA sweep alive, and how quickly does it notice a breach?

A stopped worker records no breaches, and no breaches looks exactly like a perfect SLA. So every sweep
that finishes leaves a heartbeat, and /healthz, the dashboard and a banner on managers' pages read it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Max
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .models import Deadline, SweepHeartbeat
from .roles import Role, has_role

# Beat may run late now and then; three missed intervals in a row means nobody is sweeping.
STALE_AFTER_INTERVALS = 3
# The promise: a breach is recorded within a minute of its due time.
DETECTION_TARGET = timedelta(seconds=60)

# One statement whether or not the row exists yet (the first sweep on a new database, or after a
# transactional test flushed the table), and safe when several workers finish at the same moment.
_HEARTBEAT_UPSERT = """
    INSERT INTO handoff_sweepheartbeat AS beat
        (id, last_started_at, last_finished_at, last_breached, last_duration_ms, runs)
    VALUES (1, %s, %s, %s, %s, 1)
    ON CONFLICT (id) DO UPDATE SET
        last_started_at = EXCLUDED.last_started_at,
        last_finished_at = EXCLUDED.last_finished_at,
        last_breached = EXCLUDED.last_breached,
        last_duration_ms = EXCLUDED.last_duration_ms,
        runs = beat.runs + 1
"""


def heartbeat_record(*, started_at: datetime, finished_at: datetime, breached: int, duration_ms: int) -> None:
    """Overwrite the heartbeat with the run that just finished and count it."""
    with connection.cursor() as cursor:
        cursor.execute(_HEARTBEAT_UPSERT, [started_at, finished_at, breached, duration_ms])


def sweep_heartbeat(sweep: Callable[..., int]) -> Callable[..., int]:
    """Make every finished run of `sweep` (which returns how many it breached) leave a heartbeat.

    A wrapper rather than lines inside the sweep, so its exactly-once logic stays as it is. The times
    are the wall clock even when a test passes the sweep its own `now`: the heartbeat says when a
    worker really ran. A sweep that raises leaves none, so a worker failing on every run goes stale
    just like a dead one.
    """

    @wraps(sweep)
    def run(*args, **kwargs) -> int:
        started_at, clock = timezone.now(), time.monotonic()
        breached = sweep(*args, **kwargs)
        heartbeat_record(
            started_at=started_at,
            finished_at=timezone.now(),
            breached=breached,
            duration_ms=round((time.monotonic() - clock) * 1000),
        )
        return breached

    return run


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


@dataclass(frozen=True)
class DetectionDelay:
    """How long after their due time breaches were recorded: the sweep's promise is under a minute."""

    breaches: int
    median: timedelta | None
    max: timedelta | None

    @property
    def within_target(self) -> bool:
        return self.max is None or self.max <= DETECTION_TARGET


def breach_detection_delay(*, now: datetime, days: int = 7) -> DetectionDelay:
    """Median and worst delay between due time and recorded breach, over breaches recorded in the last
    `days` days. One aggregate query."""
    delay = F("breached_at") - F("due_at")
    figures = Deadline.objects.filter(breached_at__gt=now - timedelta(days=days), breached_at__lte=now).aggregate(
        breaches=Count("id"), median=Median(delay), max=Max(delay)
    )
    return DetectionDelay(**figures)
