"""The deadlines' read model: `DeadlineOutcome` rows kept current by a trigger, rebuilt by a command.

The one definition of how a deadline is counted is `OUTCOMES_SELECT`: the trigger on
`handoff_deadline` (migration handoff 0015) takes each statement's old rows out and puts its new rows
in, and `outcomes_rebuild` runs it over every deadline. A test checks that the two agree on a random
history.

A deadline's contribution depends on its row alone, never on the time of reading: a running deadline
counts as late in the hour of its due time (in the future, for most). So `outcome_rows` reads the
hours that have fully passed from here, and the hour still running from the deadlines themselves
(a range of `deadline_decided_idx` an hour long): a period costs its hours x kinds x campaigns x
owners, never its number of deadlines.
"""

import datetime
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import BigIntegerField, CharField, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from common.localtime import local_midnight
from common.triggers import drop_transition_triggers, rollup_triggers
from leads.counts import weeks_cover
from leads.tally import site_zone
from leads.targets import add_months, month_bounds, month_start
from reporting.models import DeadlineOutcome, DeadlineOutcomeMonth, DeadlineOutcomeWeek
from sla.models import Deadline

# On time: met by the due time by a person. Late: not met by the due time, whoever met it afterwards (an
# escalation too: the miss is still a miss). Met by an escalation by the due time (a lead it gave someone
# at once): neither, shown beside. The grid's counts of deadlines, as OUTCOMES_SELECT counts them.
ON_TIME = Q(met_at__isnull=False, met_at__lte=F("due_at"), met_by_escalation=False)
LATE = Q(met_at__isnull=True) | Q(met_at__gt=F("due_at"))
BY_ESCALATION = Q(met_by_escalation=True, met_at__lte=F("due_at"))
GRID = {
    "on_time": Count("due_at", filter=ON_TIME),
    "late": Count("due_at", filter=LATE),
    "recorded": Count("due_at", filter=Q(breached_at__isnull=False)),
    "by_escalation": Count("due_at", filter=BY_ESCALATION),
    "late_by_escalation": Count("due_at", filter=Q(met_by_escalation=True, met_at__gt=F("due_at"))),
}
COUNTED = tuple(GRID)

# How the deadlines of `{rows}` (a transition table, or handoff_deadline for a rebuild) are counted,
# each with `{sign}` (+1 put in, -1 taken out). Exactly the conditions of `dashboard.decided_deadlines`
# and its GRID: a deadline counts when met, or when neither paused nor cancelled by its due time.
OUTCOMES_SELECT = """
SELECT date_trunc('hour', LEAST(d.met_at, d.due_at), 'UTC') AS hour,
       d.kind,
       d.campaign_id,
       d.owner_id,
       {sign} * COUNT(*) FILTER (WHERE d.met_at <= d.due_at AND NOT d.met_by_escalation) AS on_time,
       {sign} * COUNT(*) FILTER (WHERE d.met_at IS NULL OR d.met_at > d.due_at) AS late,
       {sign} * COUNT(*) FILTER (WHERE d.breached_at IS NOT NULL) AS recorded,
       {sign} * COUNT(*) FILTER (WHERE d.met_at <= d.due_at AND d.met_by_escalation) AS by_escalation,
       {sign} * COUNT(*) FILTER (WHERE d.met_at > d.due_at AND d.met_by_escalation) AS late_by_escalation
  FROM {rows} d
 WHERE d.met_at IS NOT NULL OR (d.paused_at IS NULL AND (d.cancelled_at IS NULL OR d.cancelled_at > d.due_at))
 GROUP BY 1, 2, 3, 4
"""

# Adds up the contributions (an update's old and new rows may cancel out) and applies them in key order,
# so two writers upserting the same rows take their locks in the same order.
OUTCOMES_UPSERT = """
INSERT INTO handoff_deadlineoutcome (hour, kind, campaign_id, owner_id, on_time, late, recorded, by_escalation,
                                     late_by_escalation)
SELECT hour, kind, campaign_id, owner_id, SUM(on_time), SUM(late), SUM(recorded), SUM(by_escalation),
       SUM(late_by_escalation)
  FROM ({changes}) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(on_time) <> 0 OR SUM(late) <> 0 OR SUM(recorded) <> 0 OR SUM(by_escalation) <> 0
    OR SUM(late_by_escalation) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (hour, kind, campaign_id, owner_id) DO UPDATE
   SET on_time = handoff_deadlineoutcome.on_time + EXCLUDED.on_time,
       late = handoff_deadlineoutcome.late + EXCLUDED.late,
       recorded = handoff_deadlineoutcome.recorded + EXCLUDED.recorded,
       by_escalation = handoff_deadlineoutcome.by_escalation + EXCLUDED.by_escalation,
       late_by_escalation = handoff_deadlineoutcome.late_by_escalation + EXCLUDED.late_by_escalation
"""


def _upsert(*parts: tuple[str, int]) -> str:
    changes = " UNION ALL\n".join(OUTCOMES_SELECT.format(rows=rows, sign=sign) for rows, sign in parts)
    return OUTCOMES_UPSERT.format(changes=changes)


def trigger_sql() -> str:
    """The trigger function and its three triggers (PostgreSQL allows transition tables on a trigger
    for one event only), for the migration that installs them."""
    return f"""
CREATE OR REPLACE FUNCTION handoff_count_deadline_outcomes() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
{_upsert(("new_deadlines", 1))};
  ELSIF TG_OP = 'UPDATE' THEN
{_upsert(("old_deadlines", -1), ("new_deadlines", 1))};
  ELSE
{_upsert(("old_deadlines", -1))};
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_deadline_outcomes_insert ON handoff_deadline;
CREATE TRIGGER handoff_deadline_outcomes_insert
  AFTER INSERT ON handoff_deadline REFERENCING NEW TABLE AS new_deadlines
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_deadline_outcomes();
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_update ON handoff_deadline;
CREATE TRIGGER handoff_deadline_outcomes_update
  AFTER UPDATE ON handoff_deadline REFERENCING OLD TABLE AS old_deadlines NEW TABLE AS new_deadlines
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_deadline_outcomes();
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_delete ON handoff_deadline;
CREATE TRIGGER handoff_deadline_outcomes_delete
  AFTER DELETE ON handoff_deadline REFERENCING OLD TABLE AS old_deadlines
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_deadline_outcomes();
"""


DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_insert ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_update ON handoff_deadline;
DROP TRIGGER IF EXISTS handoff_deadline_outcomes_delete ON handoff_deadline;
DROP FUNCTION IF EXISTS handoff_count_deadline_outcomes();
"""


def outcomes_upsert(deadlines: str) -> str:
    """The statement adding the outcomes of the deadlines of relation `deadlines` to the read model (the
    whole table for a rebuild; a part of it to check the read model's rows of that part)."""
    return _upsert((deadlines, 1))


REBUILD_SQL = outcomes_upsert("handoff_deadline")


# `DeadlineOutcomeMonth` (or `DeadlineOutcomeWeek`) from changes of hourly rows `{changes}` (a removed
# row's counts negated): each hour adds to its local month's (week's) row per owner and per campaign, in
# this transaction's slot (`leads.tally.COUNT_SLOT_FUNCTION`: a month's row per owner "nobody", the
# queue's claims of every campaign, would otherwise be one row every hand-off waits on). `{zone}` is
# settings.TIME_ZONE.
_MONTH_COUNTED = ("on_time", "late", "recorded", "by_escalation", "late_by_escalation")


def _rollup_upsert(table: str, span: str, start: str) -> str:
    """The upsert into rollup `table`, keyed by `span`, the first day `start` computes from `c.hour`."""
    return (
        f"""
INSERT INTO {table} ({span}, per, kind, campaign_id, owner_id, """  # noqa: S608 - constant SQL, no input
        + ", ".join(_MONTH_COUNTED)
        + f""", slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT {start}, s.side, c.kind,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END, CASE WHEN s.side = 'owner' THEN c.owner_id END, """  # noqa: S608
        + ", ".join(f"SUM(c.{name})" for name in _MONTH_COUNTED)
        + """
  FROM ({changes}) c CROSS JOIN (VALUES ('owner'), ('campaign')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5
HAVING """
        + " OR ".join(f"SUM(c.{name}) <> 0" for name in _MONTH_COUNTED)
        + f"""
 ORDER BY 1, 2, 3, 4, 5) AS summed
ON CONFLICT ({span}, per, kind, campaign_id, owner_id, slot) DO UPDATE SET """
        + ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in _MONTH_COUNTED)
    )


MONTHS_UPSERT = _rollup_upsert(
    "reporting_deadlineoutcomemonth", "month", "date_trunc('month', c.hour AT TIME ZONE '{zone}')::date"
)
# A local day's week of the month starts on day 1, 8, 15, 22 or 29 (`leads.counts.week_start`).
WEEKS_UPSERT = _rollup_upsert(
    "reporting_deadlineoutcomeweek",
    "week",
    "(c.hour AT TIME ZONE '{zone}')::date - (EXTRACT(DAY FROM c.hour AT TIME ZONE '{zone}')::int - 1) % 7",
)


def _changes(parts: tuple[tuple[str, str], ...]) -> str:
    hourly = "SELECT hour, kind, campaign_id, owner_id, " + ", ".join(
        "{sign}" + f"{name} AS {name}" for name in _MONTH_COUNTED
    )
    return " UNION ALL ".join((hourly + " FROM {rows}").format(sign=sign, rows=rows) for rows, sign in parts)


def _months_upsert(*parts: tuple[str, str]) -> str:
    return MONTHS_UPSERT.format(changes=_changes(parts), zone=site_zone())


def _weeks_upsert(*parts: tuple[str, str]) -> str:
    return WEEKS_UPSERT.format(changes=_changes(parts), zone=site_zone())


def months_trigger_sql() -> str:
    """The triggers keeping `DeadlineOutcomeMonth` and `DeadlineOutcomeWeek` equal to the hours' sums,
    for the current TIME_ZONE."""
    return rollup_triggers("handoff_count_outcome_months", "handoff_deadlineoutcome", _months_upsert) + rollup_triggers(
        "handoff_count_outcome_weeks", "handoff_deadlineoutcome", _weeks_upsert
    )


MONTHS_DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_outcome_months", "handoff_deadlineoutcome")
WEEKS_DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_outcome_weeks", "handoff_deadlineoutcome")


def outcome_months_upsert(hours: str) -> str:
    """The statement adding the hourly rows of relation `hours` to `DeadlineOutcomeMonth`."""
    return _months_upsert((hours, ""))


def outcome_weeks_upsert(hours: str) -> str:
    """The statement adding the hourly rows of relation `hours` to `DeadlineOutcomeWeek`."""
    return _weeks_upsert((hours, ""))


def outcome_months_fill(cursor) -> None:
    """Recount `DeadlineOutcomeMonth` and `DeadlineOutcomeWeek` from the hourly rows: for the rebuild,
    and for writers that fill the hours with triggers off (`seed_scale`)."""
    cursor.execute("DELETE FROM reporting_deadlineoutcomemonth")
    cursor.execute(outcome_months_upsert("handoff_deadlineoutcome"))
    cursor.execute("DELETE FROM reporting_deadlineoutcomeweek")
    cursor.execute(outcome_weeks_upsert("handoff_deadlineoutcome"))


def outcomes_rebuild() -> int:
    """Recount every deadline; returns the number of rows written. Holds a SHARE lock on the deadlines
    meanwhile, so none changes between the wipe and the recount (writers wait, then count as usual)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE handoff_deadline IN SHARE MODE")
        cursor.execute("DELETE FROM handoff_deadlineoutcome")
        cursor.execute(REBUILD_SQL)
        rows = cursor.rowcount
        # The months' trigger has the zone written in: installed again, then the months recounted.
        cursor.execute(months_trigger_sql())
        outcome_months_fill(cursor)
        return rows


# --- Reading ------------------------------------------------------------------------------------
def _hour_floor(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)


def _hour_ceil(moment: datetime.datetime) -> datetime.datetime:
    floor = _hour_floor(moment)
    return floor if floor == moment else floor + datetime.timedelta(hours=1)


def outcome_rows(
    deadlines: Callable[[datetime.datetime, datetime.datetime], QuerySet[Deadline]],
    outcomes: QuerySet[DeadlineOutcome],
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    by: tuple[str, ...],
    week_zone=None,
    sides: tuple[str, ...] = (),
    months: QuerySet[DeadlineOutcomeMonth] | None = None,
    weeks: QuerySet[DeadlineOutcomeWeek] | None = None,
) -> list[dict]:
    """On time, late, recorded and the escalation's (`COUNTED`) for the deadlines decided from `start`
    to `end` (and before `now`), grouped `by` "kind", "owner", "campaign" (and "week" of `week_zone`).
    With `sides` ("owner", "campaign"), grouped `by` and each side apart instead (a row's `side` names
    it, `key` holds its value): a page that wants figures per person and per campaign reads a few
    hundred rows, not every (person, campaign) pair of the period; `months` (`DeadlineOutcomeMonth`, with
    the same filters; None when a filter needs the pairs) then answers the local months wholly inside
    the hours that have passed, and an edge month (the running one, above all) whose hours outside the
    period are fewer to read than its hours inside, less those hours (`_months_read`); `weeks`
    (`DeadlineOutcomeWeek`, the same filters) the weeks of the month in the hours left at the edges,
    each partly covered week as its hours or as the week less its hours outside (`_weeks_read`).
    `outcomes` (the read model) and `deadlines` (a function of a start and an end giving the deadlines
    decided then, annotated with `decided`) carry the same filters: the whole UTC hours that have passed
    are summed from the first, the edges (the hour still running, a part-hour) counted from the second.
    Rows of the parts are not merged: add them up."""
    end = min(end, now)
    if end <= start:
        return []
    first, last = min(_hour_ceil(start), end), max(_hour_floor(end), start)
    rows: list[dict] = []
    if first < last:
        counted = outcomes.filter(hour__gte=first, hour__lt=last)
        if week_zone is not None:
            counted = counted.annotate(week=TruncWeek("hour", tzinfo=week_zone))
        rollups = bool(sides) and months is not None and weeks is not None and week_zone is None
        read = _months_read(first, last) if rollups else []
        # The months' rows, less their hours outside [first, last); the hours inside and outside them,
        # as whole weeks of the month where that reads fewer rows.
        inside, outside = _split(first, last, [month_bounds(month) for month in read])
        read_weeks, inside, outside = _weeks_read(inside, outside) if rollups else ({}, inside, outside)
        if read or read_weeks:
            spans = [(months.filter(month__in=read), 1)] if read else []
            for sign in (1, -1):
                listed = [week for week, signed in read_weeks.items() if signed == sign]
                spans += [(weeks.filter(week__in=listed), sign)] if listed else []
            rows += _hours_grouped(
                outcomes.filter(_hours_in(inside)),
                by,
                sides,
                spans,
                less=outcomes.filter(_hours_in(outside)) if outside else None,
            )
        else:
            rows += _hours_grouped(counted, by, sides)
    for edge_start, edge_end in ((start, first), (max(last, first), end)):
        if edge_start < edge_end:
            edge = deadlines(edge_start, edge_end)
            if week_zone is not None:
                edge = edge.annotate(week=TruncWeek("decided", tzinfo=week_zone))
            rows += _grouped(edge, by, sides, GRID)
    return rows


def _grouped(rows: QuerySet, by: tuple[str, ...], sides: tuple[str, ...], counted: dict) -> list[dict]:
    """`rows` counted per `by`, or per `by` and each of `sides` apart (one query: a UNION ALL)."""
    if not sides:
        return list(rows.values(*by).annotate(**counted).order_by())
    parts = [
        rows.values(*by, key=F(side)).annotate(side=Value(side, output_field=CharField()), **counted).order_by()
        for side in sides
    ]
    return list(parts[0].union(*parts[1:], all=True))


def _hours_grouped(
    hours: QuerySet[DeadlineOutcome],
    by: tuple[str, ...],
    sides: tuple[str, ...],
    spans: list[tuple[QuerySet, int]] = (),
    less: QuerySet[DeadlineOutcome] | None = None,
) -> list[dict]:
    """The hourly rows summed per `by`, or per `by` and each of `sides` apart in one pass over them
    (GROUPING SETS: the hours are read once, whatever the sides), with the rows of each side of the
    `spans` (monthly or weekly sums, each with its sign: 1 adds, -1 takes out) and the hourly rows
    `less` taken off, all summed per key (one query)."""
    summed = {name: Sum(name) for name in COUNTED}
    if not sides:
        return list(hours.values(*by).annotate(**summed).order_by())
    inner, params = hours.values(*by, *sides, *COUNTED).query.sql_with_params()
    params = list(params)
    if less is not None:
        negated = {f"less_{name}": -F(name) for name in COUNTED}
        less_sql, less_params = less.values(*by, *sides, **negated).query.sql_with_params()
        inner = f"({inner}) UNION ALL ({less_sql})"
        params.extend(less_params)
    key, label = sides[-1], f"'{sides[-1]}'"
    if len(sides) > 1:
        key = "CASE " + " ".join(f"WHEN GROUPING({side}) = 0 THEN {side}" for side in sides[:-1]) + f" ELSE {key} END"
        label = "CASE " + " ".join(f"WHEN GROUPING({side}) = 0 THEN '{side}'" for side in sides[:-1])
        label += f" ELSE '{sides[-1]}' END"
    grouping_sets = ", ".join("(" + ", ".join((*by, side)) + ")" for side in sides)
    statements = [
        f"SELECT {', '.join(by)}, {key}, {label}, "  # noqa: S608 - our column names, params apart
        + ", ".join(f"SUM({name})::bigint" for name in COUNTED)
        + f" FROM ({inner}) AS h GROUP BY GROUPING SETS ({grouping_sets})"
    ]
    for rows, sign in spans:
        # The sums as bigint (SUM of a bigint is a numeric): integers from the driver, not a Decimal a figure.
        signed = {name: Cast(Sum(name) * sign, BigIntegerField()) for name in COUNTED}
        for side in sides:
            label_value = Value(side, output_field=CharField())
            part = rows.filter(per=side).values(*by, key=F(side)).annotate(side=label_value, **signed).order_by()
            sql, part_params = part.query.sql_with_params()
            statements.append(f"({sql})")
            params.extend(part_params)
    names = (*by, "key", "side", *COUNTED)
    sql = " UNION ALL ".join(statements)
    if len(statements) > 1:
        # One row per key, the parts added up: a week taken out nets against its month in SQL.
        columns = ", ".join(names)
        sql = (
            f"SELECT {', '.join((*by, 'key', 'side'))}, "  # noqa: S608 - our column names
            + ", ".join(f"SUM({name})::bigint" for name in COUNTED)
            + f" FROM ({sql}) AS parts({columns}) GROUP BY {', '.join((*by, 'key', 'side'))}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # A row of zeros counts nothing (a month's sums less its hours outside the period may cancel
        # out): left out, so it adds no empty row for a person or team to the page.
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall() if any(row[len(by) + 2 :])]


def _on_whole_hours(*moments: datetime.datetime) -> bool:
    """Whether each moment falls on a whole UTC hour (the hourly rows cannot be split: a month or week
    bound in a zone half an hour off UTC can only be read from the hours)."""
    return not any(moment.astimezone(datetime.UTC).minute for moment in moments)


def _months_read(first: datetime.datetime, last: datetime.datetime) -> list[datetime.date]:
    """The local months to read from the monthly sums for the hours [first, last): those lying wholly
    inside, and a month at either edge whose hours outside are fewer than its hours inside (the month's
    sums less the hours outside). Hours after now count like any others: they hold the running
    deadlines due later (at a million leads ~500 hourly rows a day for the week ahead, against
    ~2,000 a day behind), so the running month early in the month is its first weeks and today's
    hours, not the month less the weeks ahead. Only months whose bounds fall on whole UTC hours (the
    hourly rows cannot be split; a zone half an hour off UTC has none)."""
    months, month = [], month_start(first)
    while (bounds := month_bounds(month))[0] < last:
        if not _on_whole_hours(*bounds):
            return []
        inside = min(bounds[1], last) - max(bounds[0], first)
        outside = max(first, bounds[0]) - bounds[0] + max(bounds[1] - last, datetime.timedelta(0))
        if outside < inside:
            months.append(month)
        month = add_months(month, 1)
    return months


# A week's sums per side read about as many rows as this many hours of hourly rows (at a million leads
# ~930 rows a week, ~90 rows an hour): a week is taken less its hours outside only if that reads fewer.
WEEK_IN_HOURS = 10


def _weeks_read(
    inside: list[tuple[datetime.datetime, datetime.datetime]],
    outside: list[tuple[datetime.datetime, datetime.datetime]],
) -> tuple[dict[datetime.date, int], list, list]:
    """The hour spans to add (`inside`) and take off (`outside`) read as the local weeks of the month they
    cover (days 1–7, 8–14, 15–21, 22–28, 29 to the end) and hours: each week a span covers whole, and
    each it covers in part whose hours outside the span are fewer to read than those inside (the week
    less them). Returns ({week: sign}, the hours to add, the hours to take off). Only weeks whose bounds
    fall on whole UTC hours are used."""
    zone = timezone.get_default_timezone()
    weeks: dict[datetime.date, int] = {}
    hours: dict[int, list] = {1: [], -1: []}

    def cost(span_start: datetime.datetime, span_end: datetime.datetime) -> float:
        return (span_end - span_start).total_seconds() / 3600

    for spans, sign in ((inside, 1), (outside, -1)):
        for first, last in spans:
            found, runs = weeks_cover(
                first,
                last,
                day_of=lambda moment: timezone.localdate(moment, zone),
                bound=lambda day: local_midnight(day, zone),
                cost=cost,
                week_cost=WEEK_IN_HOURS,
                usable=_on_whole_hours,
            )
            for week in found:
                weeks[week] = weeks.get(week, 0) + sign
            for run_start, run_end, run_sign in runs:
                hours[sign * run_sign].append((run_start, run_end))
    return {week: sign for week, sign in weeks.items() if sign}, hours[1], hours[-1]


def _split(
    first: datetime.datetime, last: datetime.datetime, spans: list[tuple[datetime.datetime, datetime.datetime]]
) -> tuple[list, list]:
    """[first, last) less the `spans` (in order, not overlapping), and the parts of the spans outside it."""
    inside, outside, moment = [], [], first
    for span_start, span_end in spans:
        if moment < span_start:
            inside.append((moment, min(span_start, last)))
        if span_start < first:
            outside.append((span_start, first))
        if last < span_end:
            outside.append((max(last, span_start), span_end))
        moment = max(moment, span_end)
    if moment < last:
        inside.append((moment, last))
    return [span for span in inside if span[0] < span[1]], outside


def _hours_in(spans: list[tuple[datetime.datetime, datetime.datetime]]) -> Q:
    """The hourly rows of `spans`; none for no span (a condition that compiles: `pk__in=[]` would not)."""
    q = Q(hour__isnull=True)
    for span_start, span_end in spans:
        q |= Q(hour__gte=span_start, hour__lt=span_end)
    return q
