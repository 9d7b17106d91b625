"""The SLA sweep: find deadlines past their warning or due time and record each warning and each
breach exactly once, set by set.

Safe to run from any number of workers at the same moment (two beats by mistake included), and as
often as you like. Each batch is one transaction and one conditional `UPDATE … RETURNING` per kind
(breach, warning) whose rows are taken with `FOR UPDATE SKIP LOCKED`, so two sweeps never take the
same deadline and a repeated run finds it done (`breached_at` / `warned_at` set). One more statement
per kind then writes, from the ids it got back, the timeline events, the escalation steps and the
breach notices, composed in the database (`INSERT … SELECT`: no Python per row), and the batch hands
the fan-out (emails, escalation steps, warning notices) to tasks per batch after the commit. A worker
killed in the middle of a batch leaves nothing of it behind; the next sweep does it again from the
start.

Times are true: without an explicit `now` (tests pass one to sweep "as of" a moment), each batch
compares and records with the database's clock at that batch's statement, so `breached_at` is when
that breach was recorded, not when a long sweep started. Others see it at the batch's commit, a
fraction of a second later: each batch announces its breaches on BREACHES_CHANNEL, delivered at the
commit, and the storm drill measures that delay (detection by visibility).
"""

import logging
from datetime import datetime, timedelta
from functools import cache, partial
from operator import itemgetter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from common.bulk import choice_label_sql, iso_datetime_sql, plan_for_sets, round_half_even_sql
from common.localtime import SQL_MOMENT_FORMAT
from enforcement.escalation import escalations_open_sql, escalations_start
from enforcement.health import SweepRun
from enforcement.notices import breach_emails_send, breach_notices_sql, breach_recipients_sql
from leads.models import LeadEvent
from people.names import person_name_sql
from sla.models import Deadline

logger = logging.getLogger(__name__)

# Deadlines due within this window count as fresh: each batch takes up to 1/FRESH_SHARE of its size
# of them, newest first, before the backlog in due order.
FRESH_WINDOW = timedelta(minutes=1)
FRESH_SHARE = 10
# Breach notices the safety net enqueues at most per run.
REQUEUE_NOTICES = 500


def breach_batch_query(now: datetime | Now, limit: int) -> QuerySet:
    """The next deadlines to breach: an ordered range scan of the partial index deadline_open_due_idx
    from its start, which ends at once when nothing is due, however many deadlines are running or met."""
    return Deadline.objects.due(now).order_by("due_at")[:limit]


def fresh_breach_batch_query(now: datetime | Now, limit: int) -> QuerySet:
    """The deadlines that fell due in the last FRESH_WINDOW, newest first: the same index read
    backwards from `now`, a short range. Taken before the backlog, so a deadline falling due while a
    storm's thousands are being recorded is recorded within the promise, not after the storm."""
    since = (
        now - FRESH_WINDOW
        if isinstance(now, datetime)
        else ExpressionWrapper(now - FRESH_WINDOW, output_field=DateTimeField())
    )
    return Deadline.objects.due(now).filter(due_at__gt=since).order_by("-due_at")[:limit]


def warning_batch_query(now: datetime | Now, limit: int) -> QuerySet:
    """The next deadlines to warn: a range scan of the partial index deadline_warn_due_idx. It may
    take deadlines already due, which `_record` locks but does not warn (no late warning); a condition
    on due_at here would tempt the planner to walk every running deadline in deadline_open_due_idx,
    since the table's statistics (met deadlines keep their past warning times) make `warn_at <= now`
    look common."""
    return Deadline.objects.warning_due(now).order_by("warn_at")[:limit]


def _warnings_take(*, limit: int, now: datetime | None) -> list[int]:
    """Lock the next `limit` deadlines due for a warning that no other sweep holds and set `warned_at`
    on them in one statement, only where it is still unset and the deadline not due yet; returns the
    ids it set. The time is `now`, or the database's clock."""
    sql, params = _warnings_statement(limit) if now is None else _warnings_compose(limit, now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@cache
def _warnings_statement(limit: int) -> tuple[str, tuple]:
    """The statement on the database's clock: the same every sweep, so composed once per process (the
    ORM's compiling would cost a sweep with nothing due more than the database does)."""
    return _warnings_compose(limit, None)


def _when(now: datetime | None) -> tuple[str, tuple]:
    """The time a batch records: `now`, or the database's clock at the statement."""
    return ("%s", (now,)) if now is not None else ("STATEMENT_TIMESTAMP()", ())


def _warnings_compose(limit: int, now: datetime | None) -> tuple[str, tuple]:
    batch = warning_batch_query(now or Now(), limit)
    select_sql, params = batch.select_for_update(skip_locked=True, of=("self",)).values("pk").query.sql_with_params()
    when, when_params = _when(now)
    table = Deadline._meta.db_table
    # The batch's rows are found by primary key, from an array: joined to the batch instead, the planner
    # (before plan_for_sets, which an idle sweep does not pay for) hashed every running deadline, a
    # sequential scan of 100,000 in a storm. A warning is never recorded on a deadline already due:
    # the breach is. Only names of ours are formatted in; every value is a parameter.
    sql = (
        f"WITH batch AS ({select_sql}) "  # noqa: S608 - see above
        f"UPDATE {table} AS deadline SET warned_at = {when} "
        f"WHERE deadline.id = ANY(ARRAY(SELECT pk FROM batch)) AND deadline.warned_at IS NULL "
        f"AND deadline.due_at > {when} RETURNING deadline.id"
    )
    return sql, (*params, *when_params, *when_params)


def _breaches_take(batch_size: int, now: datetime | None) -> tuple[list[int], bool]:
    """Lock one batch of deadlines to breach, in one statement: up to `batch_size` due ones oldest
    first and up to a share of the batch (1/FRESH_SHARE) of those that fell due in the last
    FRESH_WINDOW, newest first; the batch is the fresh ones and the oldest for the rest — so a
    deadline falling due during a storm waits one batch, not the storm. Returns the ids and whether
    a backlog is left. With nothing due it is two index probes.

    Only locked here (`FOR UPDATE SKIP LOCKED`; the rows a batch locks beyond its size are left for
    the next one): `_breaches_record` marks them in the statement that writes everything else. The
    mark fires `DeadlineOutcome`'s count trigger, whose row for the hour two sweeps share and hold
    until their commits; marked here, in the batch's first statement, it made a second sweep wait
    for the first's whole batch."""
    sql, params = _take_statement(batch_size) if now is None else _take_compose(batch_size, now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    due = [deadline_id for deadline_id, is_fresh, _ in sorted(rows, key=itemgetter(2)) if not is_fresh]
    if len(due) < batch_size:  # everything due is in `due`, the fresh ones too
        return sorted(due), False
    fresh = {deadline_id for deadline_id, is_fresh, _ in rows if is_fresh}
    oldest = [deadline_id for deadline_id in due if deadline_id not in fresh][: batch_size - len(fresh)]
    return sorted(fresh | set(oldest)), True


@cache
def _take_statement(batch_size: int) -> tuple[str, tuple]:
    """The take on the database's clock, composed once per process (see `_warnings_statement`)."""
    return _take_compose(batch_size, None)


def _take_compose(batch_size: int, now: datetime | None) -> tuple[str, tuple]:
    def locked(query: QuerySet) -> tuple[str, tuple]:
        return query.select_for_update(skip_locked=True, of=("self",)).values("pk", "due_at").query.sql_with_params()

    due_sql, due_params = locked(breach_batch_query(now or Now(), batch_size))
    fresh_sql, fresh_params = locked(fresh_breach_batch_query(now or Now(), max(1, batch_size // FRESH_SHARE)))
    # Only SQL of ours is formatted in; every value is a parameter.
    sql = (
        f"WITH due AS ({due_sql}), fresh AS ({fresh_sql}) "  # noqa: S608 - see above
        "SELECT pk, false, due_at FROM due UNION ALL SELECT pk, true, due_at FROM fresh"
    )
    return sql, (*due_params, *fresh_params)


def sweep_deadlines(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Breach every deadline due by `now` and warn about every one past its warning time; returns
    how many breaches this call recorded. `now` defaults to the database's clock at each batch.

    With nothing to do this is two index probes on two small partial indexes, whatever the number of
    deadlines running or met.
    """
    if now is not None and timezone.is_naive(now):
        raise ValueError("sweep_deadlines needs an aware datetime")
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    run = SweepRun()
    breached = warned = 0
    while True:
        with transaction.atomic():
            breaches, backlog = _breaches_take(batch_size, now)
            warnings = _warnings_take(limit=batch_size, now=now)
            if breaches or warnings:  # an idle sweep stays its two probes
                plan_for_sets()
            if breaches:
                _breaches_record(breaches, now)
            if warnings:
                _warnings_record(warnings)
        breached += len(breaches)
        warned += len(warnings)
        if not backlog and len(warnings) < batch_size:
            break
        run.beat(breached=breached)
    run.finish(breached=breached)
    if breached or warned:
        logger.info("SLA sweep recorded %d breach(es) and %d warning(s)", breached, warned)
    return breached


# A timeline event of the system about each deadline of a sweep's batch, composed in the database.
# `data` keeps the shape the timeline's counts read (leads.counts attributes the miss by "owner").
_EVENTS = """
INSERT INTO leads_leadevent (lead_id, kind, actor_id, from_status, to_status, note, data, created_at)
SELECT deadline.lead_id, %s, NULL, '', '',
       {label} || {note},
       jsonb_build_object('deadline', deadline.id, 'kind', deadline.kind, 'owner', deadline.owner_id,
                          'due_at', {due_at}){data},
       deadline.{field}
  FROM {deadlines} AS deadline
  LEFT JOIN {users} AS owner ON owner.id = deadline.owner_id
 CROSS JOIN LATERAL (
   SELECT CASE WHEN owner.id IS NULL THEN '' ELSE ' (owner: ' || {owner_name} || ')' END AS who,
          to_char(deadline.due_at AT TIME ZONE %s, '{moment_format}') AS due
 ) AS said
"""

# What each kind of event says after the deadline's kind ("Claim"), and adds to its data.
_SAID = {
    "breached_at": (
        LeadEvent.Kind.BREACH,
        "' deadline missed' || said.who || '; it was due ' || said.due || '.'",
        " || jsonb_build_object('detected_after_seconds', "
        + round_half_even_sql("extract(epoch FROM deadline.breached_at - deadline.due_at)")
        + ")",
    ),
    "warned_at": (LeadEvent.Kind.WARNING, "' deadline is close' || said.who || ': due ' || said.due || '.'", ""),
}


def _events_sql(field: str, *, deadlines: str) -> tuple[str, list]:
    """The `INSERT … SELECT` of the BREACH or WARNING event (by `field`) of each deadline of relation
    `deadlines`, dated when the batch recorded it, its note in the site's zone."""
    kind, note, data = _SAID[field]
    label, label_params = choice_label_sql("deadline.kind", Deadline.Kind.choices)
    sql = _EVENTS.format(
        label=label,
        note=note,
        due_at=iso_datetime_sql("deadline.due_at"),
        moment_format=SQL_MOMENT_FORMAT,
        data=data,
        field=field,
        deadlines=deadlines,
        users=get_user_model()._meta.db_table,
        owner_name=person_name_sql("owner"),
    )
    return sql, [kind, *label_params, timezone.get_current_timezone_name()]


# `breached_at` is the time of the batch's statement; others see the breach when the batch commits,
# up to a batch's duration later. The batch announces its breaches on this channel, and PostgreSQL
# delivers the announcement at the commit: whoever listens (the storm drill) learns when each breach
# became visible, by its `breached_at` (one per statement, so at most three per batch, see
# _breaches_take). An announcement nobody listens to costs nothing.
BREACHES_CHANNEL = "sla_breaches"
_ANNOUNCE = """
SELECT pg_notify(%s, string_agg(DISTINCT extract(epoch FROM breached_at)::text, ' '))
  FROM handoff_deadline WHERE id = ANY(%s)
"""


def _breaches_record(ids: list[int], now: datetime | None) -> None:
    """Everything a batch of deadlines just locked to breach writes, in one statement composed in the
    database: the breach itself (`breached_at` and `breach_notified_at`, at `now` or the statement's
    time, only where still unset), one BREACH event each, the escalation steps of the sales ones, the
    breach notices. Python is left
    only the fan-out after the commit: one task for the escalations, the email tasks."""
    events, event_params = _events_sql("breached_at", deadlines="breached")
    steps, step_params = escalations_open_sql(deadlines="breached")
    recipients, recipient_params = breach_recipients_sql(deadlines="breached")
    notices, notice_params = breach_notices_sql(deadlines="breached", told="told")
    # Only SQL of ours is formatted in; every value is a parameter.
    when, when_params = _when(now)
    sql = (
        f"WITH breached AS (UPDATE handoff_deadline AS deadline SET breached_at = {when}, "  # noqa: S608 - see above
        f"breach_notified_at = {when} WHERE deadline.id = ANY(%s) AND deadline.breached_at IS NULL "
        "RETURNING deadline.*), "
        f"events AS ({events}), steps AS ({steps}), told AS ({recipients}), {notices} "
        "SELECT 'step', deadline_id, true FROM steps UNION ALL SELECT delivery, id, new FROM notices"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [*when_params, *when_params, ids, *event_params, *step_params, *recipient_params, *notice_params]
        )
        written = cursor.fetchall()
        cursor.execute(_ANNOUNCE, [BREACHES_CHANNEL, ids])
    escalations_start([deadline_id for what, deadline_id, _ in written if what == "step"])
    breach_emails_send([(notice_id, delivery, None, new) for delivery, notice_id, new in written if delivery != "step"])


def _warnings_record(ids: list[int]) -> None:
    """One WARNING event per just-warned deadline, in one statement; one task per batch tells the owners."""
    from enforcement.tasks import notify_warnings

    events, event_params = _events_sql("warned_at", deadlines="warned")
    sql = (
        "WITH warned AS (SELECT * FROM handoff_deadline WHERE id = ANY(%s)), "  # noqa: S608 - see _breaches_record
        f"events AS ({events}) SELECT id FROM warned WHERE owner_id IS NOT NULL ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, *event_params])
        owned = [row[0] for row in cursor.fetchall()]
    if owned:
        transaction.on_commit(partial(notify_warnings.delay, owned))


LOST_AFTER = timedelta(minutes=5)


def breach_notices_requeue(*, older_than: timedelta = LOST_AFTER, now: datetime | None = None) -> int:
    """Enqueue the notices of breaches recorded more than `older_than` ago and still not notified
    (the sweep writes them in the breach's own batch; these are breaches recorded otherwise, e.g. by
    an older release during a deploy). `breach_notify` runs once per breach. Returns how many."""
    from enforcement.tasks import notify_breach

    now = now or timezone.now()
    # Answered from the partial index of unnotified breaches (deadline_breach_unnotified_idx).
    lost = list(
        Deadline.objects.filter(
            breached_at__isnull=False, breach_notified_at__isnull=True, breached_at__lt=now - older_than
        )
        .order_by("breached_at")
        .values_list("pk", flat=True)[:REQUEUE_NOTICES]  # a budget per run: the rest goes next time
    )
    for deadline_id in lost:
        notify_breach.delay(deadline_id)
    return len(lost)
