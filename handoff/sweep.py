"""The SLA sweep: find deadlines past their warning or due time and record each warning and each
breach exactly once, set by set.

Safe to run from any number of workers at the same moment (two beats by mistake included), and as
often as you like. Each batch is one transaction and one conditional `UPDATE … RETURNING` per kind
(breach, warning) whose rows are taken with `FOR UPDATE SKIP LOCKED`, so two sweeps never take the
same deadline and a repeated run finds it done (`breached_at` / `warned_at` set). The batch then
inserts in bulk the timeline events, the escalation steps and the breach notices of the rows it got
back, and hands the rest (emails, escalation steps, warning notices) to one task per batch after the
commit. A worker killed in the middle of a batch leaves nothing of it behind; the next sweep does it
again from the start.

Times are true: without an explicit `now` (tests pass one to sweep "as of" a moment), each batch
compares and records with the database's clock at that batch's statement, so `breached_at` is when
that breach was recorded, not when a long sweep started.
"""

import logging
from datetime import datetime, timedelta
from functools import cache, partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from leads.models import LeadEvent

from .bulk import rows_insert
from .escalation import escalations_open
from .health import sweep_heartbeat
from .models import Deadline
from .notifications import breach_notices_record
from .people import person_name

logger = logging.getLogger(__name__)


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _who(deadline: Deadline) -> str:
    if deadline.owner is None:
        return ""
    return f" (owner: {person_name(deadline.owner)})"


def breach_batch_query(now: datetime | Now, limit: int) -> QuerySet:
    """The next deadlines to breach: an ordered range scan of the partial index deadline_open_due_idx
    from its start, which ends at once when nothing is due, however many deadlines are running or met."""
    return Deadline.objects.due(now).order_by("due_at")[:limit]


def warning_batch_query(now: datetime | Now, limit: int) -> QuerySet:
    """The next deadlines to warn: a range scan of the partial index deadline_warn_due_idx. It may
    take deadlines already due, which `_record` locks but does not warn (no late warning); a condition
    on due_at here would tempt the planner to walk every running deadline in deadline_open_due_idx,
    since the table's statistics (met deadlines keep their past warning times) make `warn_at <= now`
    look common."""
    return Deadline.objects.warning_due(now).order_by("warn_at")[:limit]


def _record(field: str, *, limit: int, now: datetime | None) -> list[int]:
    """Lock the next `limit` deadlines due for `field` ("breached_at" or "warned_at") that no other
    sweep holds and set it on them in one statement, only where it is still unset (a warning only on
    deadlines not due yet); returns the ids it set. The time is `now`, or the database's clock."""
    sql, params = _statement(field, limit) if now is None else _compose(field, limit, now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@cache
def _statement(field: str, limit: int) -> tuple[str, tuple]:
    """The statement on the database's clock: the same every sweep, so composed once per process (the
    ORM's compiling would cost a sweep with nothing due more than the database does)."""
    return _compose(field, limit, None)


def _compose(field: str, limit: int, now: datetime | None) -> tuple[str, tuple]:
    batch = {"breached_at": breach_batch_query, "warned_at": warning_batch_query}[field](now or Now(), limit)
    select_sql, params = batch.select_for_update(skip_locked=True, of=("self",)).values("pk").query.sql_with_params()
    when, when_params = ("%s", (now,)) if now is not None else ("STATEMENT_TIMESTAMP()", ())
    # A warning is never recorded on a deadline already due: the breach is.
    before_due, before_due_params = (
        (f" AND deadline.due_at > {when}", when_params) if field == "warned_at" else ("", ())
    )
    # A breach's notices are written in its batch: it is notified in the same statement.
    also = f", breach_notified_at = {when}" if field == "breached_at" else ""
    table = Deadline._meta.db_table
    # Only names of ours are formatted in; every value is a parameter.
    sql = (
        f"WITH batch AS ({select_sql}) "  # noqa: S608 - see above
        f"UPDATE {table} AS deadline SET {field} = {when}{also} FROM batch "
        f"WHERE deadline.id = batch.pk AND deadline.{field} IS NULL{before_due} RETURNING deadline.id"
    )
    also_params = when_params if field == "breached_at" else ()
    return sql, (*params, *when_params, *also_params, *before_due_params)


@sweep_heartbeat
def sweep_deadlines(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Breach every deadline due by `now` and warn about every one past its warning time; returns
    how many breaches this call recorded. `now` defaults to the database's clock at each batch.

    With nothing to do this is two index probes on two small partial indexes, whatever the number of
    deadlines running or met.
    """
    if now is not None and timezone.is_naive(now):
        raise ValueError("sweep_deadlines needs an aware datetime")
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    breached = warned = 0
    while True:
        with transaction.atomic():
            breaches = _record("breached_at", limit=batch_size, now=now)
            warnings = _record("warned_at", limit=batch_size, now=now)
            if breaches:
                _breaches_record(breaches)
            if warnings:
                _warnings_record(warnings)
        breached += len(breaches)
        warned += len(warnings)
        if len(breaches) < batch_size and len(warnings) < batch_size:
            break
    if breached or warned:
        logger.info("SLA sweep recorded %d breach(es) and %d warning(s)", breached, warned)
    return breached


def _recorded(ids: list[int]) -> list[Deadline]:
    return list(Deadline.objects.filter(pk__in=ids).select_related("lead__campaign", "lead__owner", "owner"))


def _event(deadline: Deadline, kind: str, *, note: str, data: dict, created_at: datetime) -> dict:
    """A timeline event of the system about a deadline, as a row for `rows_insert`."""
    return {
        "lead": deadline.lead_id,
        "kind": kind,
        "actor": None,
        "from_status": "",
        "to_status": "",
        "note": note,
        "data": {
            "deadline": deadline.pk,
            "kind": deadline.kind,
            # Whose miss it is: the timeline's counts (handoff.counts) attribute it by this.
            "owner": deadline.owner_id,
            "due_at": deadline.due_at.isoformat(),
            **data,
        },
        "created_at": created_at,
    }


def _breaches_record(ids: list[int]) -> None:
    """Everything a batch of just-breached deadlines writes, in bulk: one BREACH event each, the
    escalation steps of the sales ones (started by one task after the commit), the breach notices."""
    deadlines = _recorded(ids)
    rows_insert(
        LeadEvent,
        [
            _event(
                deadline,
                LeadEvent.Kind.BREACH,
                note=(
                    f"{deadline.get_kind_display()} deadline missed{_who(deadline)}; "
                    f"it was due {_local(deadline.due_at)}."
                ),
                data={"detected_after_seconds": round(deadline.detection_delay.total_seconds())},
                created_at=deadline.breached_at,
            )
            for deadline in deadlines
        ],
    )
    escalations_open(ids)
    breach_notices_record(deadlines)


def _warnings_record(ids: list[int]) -> None:
    """One WARNING event per just-warned deadline, in bulk; one task per batch tells the owners."""
    from .tasks import notify_warnings

    deadlines = _recorded(ids)
    rows_insert(
        LeadEvent,
        [
            _event(
                deadline,
                LeadEvent.Kind.WARNING,
                note=(
                    f"{deadline.get_kind_display()} deadline is close{_who(deadline)}: due {_local(deadline.due_at)}."
                ),
                data={},
                created_at=deadline.warned_at,
            )
            for deadline in deadlines
        ],
    )
    owned = sorted(deadline.pk for deadline in deadlines if deadline.owner_id is not None)
    if owned:
        transaction.on_commit(partial(notify_warnings.delay, owned))


LOST_AFTER = timedelta(minutes=5)


def breach_notices_requeue(*, older_than: timedelta = LOST_AFTER, now: datetime | None = None) -> int:
    """Enqueue the notices of breaches recorded more than `older_than` ago and still not notified
    (the sweep writes them in the breach's own batch; these are breaches recorded otherwise, e.g. by
    an older release during a deploy). `breach_notify` runs once per breach. Returns how many."""
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
