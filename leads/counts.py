"""The timeline's read model: `EventCount` rows kept current by a trigger, rebuilt by a command.

The one definition of how an event is counted is `COUNTS_SELECT`: the trigger on `leads_leadevent`
(migration handoff 0009) runs it over each INSERT statement's new rows, and `counts_rebuild` runs it
over the whole timeline. A test checks that the two agree on a random history.

Events are counted per day of the site's zone (settings.TIME_ZONE, written into the trigger when it
is installed; `counts_rebuild` installs it again, so after a change of TIME_ZONE the days follow the
new zone). Pages sum `EventCount` rows over the days of the period they show (`counts_sum`): every
period, week and month the pages show is a run of whole local days, so their cost is bounded by
campaigns x people x days shown, never by the number of leads or events. A key may have a row per
slot (concurrent writers add to rows of their own: `leads.tally.COUNT_SLOT_FUNCTION`); every read
here sums, so the slots add up.

A month of daily rows holds every (campaign, person) pair that did something: at a million leads a
quarter is ~400,000 rows. `EventMonthCount` keeps each month's sums per campaign and per person apart
(a few thousand rows a month), kept from the daily rows by a trigger on `handoff_eventcount`
(`MONTHS_TRIGGER_SQL`), so `counts_grouped` reads the whole months of a period from there and only the
days at its edges from the daily rows; an edge month with fewer days outside the period than inside
(the running month: the days after today hold nothing) is read as its sums less the days outside.
`EventWeekCount` keeps the same sums per week of the month (days 1–7, 8–14, 15–21, 22–28, 29 to the
end), so those edge days are whole weeks and at most three days either side of each (`plan_spans`).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from common.triggers import drop_transition_triggers, rollup_triggers
from leads.models import EventCount, EventMonthCount, EventWeekCount
from leads.tally import COUNT_SLOT_FUNCTION, site_zone
from leads.targets import add_months, month_start

# How one event is counted. `{events}` is the relation of timeline rows to count: the trigger's
# transition table `new_events`, or `leads_leadevent` for a rebuild; `{zone}` is settings.TIME_ZONE.
# - day: the day in the site's zone (whatever the session's zone);
# - subgroup: what the kind splits by;
# - user: the rep an event names (claims, assignments), the deadline owner of a breach or warning
#   (`owner` in its data), else the actor. Only what the event itself holds, never the lead's
#   current owner or a rep's current team: a rebuild must count what the trigger counted. Group by
#   team at read time through the users' teams.
# - amount: the value converted or won.
COUNTS_SELECT = """
SELECT (e.created_at AT TIME ZONE '{zone}')::date AS day,
       e.kind,
       LEFT(CASE
         WHEN e.kind IN ('breach', 'warning', 'escalated', 'activity') THEN COALESCE(e.data->>'kind', '')
         WHEN e.kind = 'returned' THEN COALESCE(e.data->>'reason', '')
         WHEN e.kind = 'deal_stage' THEN COALESCE(e.data->>'to', '')
         WHEN e.kind = 'captured' THEN COALESCE(e.data->>'source', '')
         ELSE ''
       END, 100) AS subgroup,
       l.campaign_id,
       w.user_id,
       COUNT(*) AS value,
       COALESCE(SUM(CASE
         WHEN e.kind = 'converted' THEN (e.data->>'value')::numeric
         WHEN e.kind = 'deal_stage' AND e.data->>'to' = 'won' THEN COALESCE((e.data->>'value')::numeric, d.value)
       END), 0) AS amount
  FROM {events} e
  JOIN leads_lead l ON l.id = e.lead_id
  CROSS JOIN LATERAL (
    SELECT COALESCE(
      CASE WHEN e.data->>'rep' ~ '^[0-9]+$' THEN (e.data->>'rep')::integer END,
      CASE WHEN e.data->>'owner' ~ '^[0-9]+$' THEN (e.data->>'owner')::integer END,
      e.actor_id
    ) AS user_id
  ) w
  LEFT JOIN leads_deal d ON d.lead_id = e.lead_id AND e.kind = 'deal_stage'
 GROUP BY 1, 2, 3, 4, 5
 ORDER BY 1, 2, 3, 4, 5
"""

# Into this transaction's slot (`leads.tally.COUNT_SLOT_FUNCTION`: concurrent writers never share a
# row; a key's count is the sum over its slots), taken once per statement.
COUNTS_UPSERT = """
INSERT INTO handoff_eventcount (day, kind, subgroup, campaign_id, user_id, value, amount, slot)
SELECT counted.*, (SELECT handoff_count_slot()) FROM ({select}) AS counted
ON CONFLICT (day, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = handoff_eventcount.value + EXCLUDED.value,
       amount = handoff_eventcount.amount + EXCLUDED.amount
"""


def counts_select(events: str) -> str:
    """COUNTS_SELECT over the relation `events`, for the site's zone as configured now."""
    return COUNTS_SELECT.format(events=events, zone=site_zone())


def trigger_sql() -> str:
    """The trigger function and trigger, for the migration that installs them and for the rebuild,
    which installs them again for the current settings.TIME_ZONE."""
    upsert = COUNTS_UPSERT.format(select=counts_select("new_events"))
    return (
        COUNT_SLOT_FUNCTION
        + f"""
CREATE OR REPLACE FUNCTION handoff_count_events() RETURNS trigger AS $$
BEGIN
{upsert};
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS handoff_count_events ON leads_leadevent;
CREATE TRIGGER handoff_count_events
  AFTER INSERT ON leads_leadevent
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION handoff_count_events();
"""
    )


DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS handoff_count_events ON leads_leadevent;
DROP FUNCTION IF EXISTS handoff_count_events();
"""


# A rollup of the daily rows (`{table}`, keyed by `{span}`, the first day of the span `{start}` computes
# from a day `c.day`) from changes of daily rows `{{changes}}` (day, kind, subgroup, campaign_id,
# user_id, slot, value, amount; a removed row with its value negated): each daily row adds to its
# span's row per campaign and its span's row per person, in its own slot.
_ROLLUP_UPSERT = """
INSERT INTO {table} ({span}, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT {start}, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM ({{changes}}) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT ({span}, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = {table}.value + EXCLUDED.value,
       amount = {table}.amount + EXCLUDED.amount
"""
MONTHS_UPSERT = _ROLLUP_UPSERT.format(
    table="leads_eventmonthcount", span="month", start="date_trunc('month', c.day)::date"
)
# A day's week of the month starts on day 1, 8, 15, 22 or 29 (`week_start`).
WEEKS_UPSERT = _ROLLUP_UPSERT.format(
    table="leads_eventweekcount", span="week", start="c.day - (EXTRACT(DAY FROM c.day)::int - 1) % 7"
)
_DAILY = (
    "SELECT day, kind, subgroup, campaign_id, user_id, slot, {sign}value AS value, {sign}amount AS amount FROM {rows}"
)


def _changes(parts: tuple[tuple[str, str], ...]) -> str:
    return " UNION ALL ".join(_DAILY.format(rows=rows, sign=sign) for rows, sign in parts)


def months_upsert(*parts: tuple[str, str]) -> str:
    """MONTHS_UPSERT over relations of daily rows, each with its sign ("" adds, "-" takes out)."""
    return MONTHS_UPSERT.format(changes=_changes(parts))


def weeks_upsert(*parts: tuple[str, str]) -> str:
    """WEEKS_UPSERT over relations of daily rows, each with its sign ("" adds, "-" takes out)."""
    return WEEKS_UPSERT.format(changes=_changes(parts))


MONTHS_TRIGGER_SQL = rollup_triggers("handoff_count_event_months", "handoff_eventcount", months_upsert)
MONTHS_DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_event_months", "handoff_eventcount")

MONTHS_FILL_SQL = "DELETE FROM leads_eventmonthcount;\n" + months_upsert(("handoff_eventcount", ""))  # noqa: S608 - constant SQL

WEEKS_TRIGGER_SQL = rollup_triggers("handoff_count_event_weeks", "handoff_eventcount", weeks_upsert)
WEEKS_DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_event_weeks", "handoff_eventcount")
WEEKS_FILL_SQL = "DELETE FROM leads_eventweekcount;\n" + weeks_upsert(("handoff_eventcount", ""))  # noqa: S608 - constant SQL


def event_months_fill(cursor) -> None:
    """Recount `EventMonthCount` and `EventWeekCount` from the daily rows: for the rebuild, and for
    writers that fill the daily rows with triggers off (`seed_scale`)."""
    cursor.execute(MONTHS_FILL_SQL)
    cursor.execute(WEEKS_FILL_SQL)


def counts_rebuild() -> int:
    """Recompute every count from the timeline; returns the number of rows written. Installs the
    trigger again, so after a change of settings.TIME_ZONE the days follow the new zone.

    Holds a SHARE lock on the timeline meanwhile, so no event is inserted between the wipe and the
    recount (inserts wait, then count themselves through the trigger as usual)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE leads_leadevent IN SHARE MODE")
        cursor.execute(trigger_sql())
        cursor.execute("DELETE FROM handoff_eventcount")
        cursor.execute(COUNTS_UPSERT.format(select=counts_select("leads_leadevent")))
        rows = cursor.rowcount
        cursor.execute(MONTHS_TRIGGER_SQL)
        cursor.execute(WEEKS_TRIGGER_SQL)
        event_months_fill(cursor)
    return rows


def counts_sum(
    kind: str, *, first_day: date, last_day: date, by: tuple[str, ...] = (), where: Q | None = None
) -> list[dict]:
    """Events of `kind` on the local days `first_day` to `last_day` (both included), summed and grouped
    by the `EventCount` fields in `by`; returns dicts with the `by` fields plus `value` and `amount`."""
    rows = EventCount.objects.filter(kind=kind, day__gte=first_day, day__lte=last_day)
    if where is not None:
        rows = rows.filter(where)
    rows = rows.values(*by).annotate(value=Sum("value"), amount=Sum("amount")).order_by(*by)
    return [{**row, "amount": row["amount"] or Decimal(0)} for row in rows]


# What `counts_grouped` can group by, and its column; GROUPING() reports them as bits 2, 1, 0 (set: not grouped).
_GROUPABLE = {"subgroup": "subgroup", "campaign": "campaign_id", "user": "user_id"}
COUNTS_GROUPED = """
SELECT kind, {columns}, {grouping}, SUM(value)::bigint, SUM(amount)
  FROM ({rows}) AS e
 GROUP BY GROUPING SETS ({sets})
"""


def _grouped_sql(rows: str, sets: list[tuple[str, ...]]) -> str:
    """COUNTS_GROUPED over `rows` for `sets`; a column no set names is NULL, reported as not grouped
    (GROUPING() takes only columns some set groups by)."""
    columns, bits = [], []
    for bit, (name, column) in zip((4, 2, 1), _GROUPABLE.items(), strict=True):
        if any(name in names for names in sets):
            columns.append(column)
            bits.append(f"GROUPING({column}) * {bit}")
        else:
            columns.append(f"NULL AS {column}")
            bits.append(str(bit))
    grouping_sets = ", ".join("(kind, " + ", ".join(_GROUPABLE[name] for name in names) + ")" for names in sets)
    return COUNTS_GROUPED.format(columns=", ".join(columns), grouping=" + ".join(bits), rows=rows, sets=grouping_sets)


def months_read(first_day: date, last_day: date, *, today: date) -> list[date]:
    """The first days of the calendar months to read from `EventMonthCount` for `first_day`..`last_day`:
    those lying wholly inside, and a month at either edge with fewer days outside the period than
    inside (its sums less the days outside: the running month less the days after `today`, which hold
    no events yet, instead of a month of daily rows)."""
    months, month = [], month_start(first_day)
    while month <= last_day:
        end = add_months(month, 1) - timedelta(days=1)
        inside = (min(end, last_day) - max(month, first_day)).days + 1
        # Days after today hold nothing to read: count only those up to it.
        outside = (max(month, first_day) - month).days + max((min(end, today) - last_day).days, 0)
        if outside < inside:
            months.append(month)
        month = add_months(month, 1)
    return months


def week_start(day: date) -> date:
    """The first day of `day`'s week of the month: the 1st, 8th, 15th, 22nd or 29th."""
    return day - timedelta(days=(day.day - 1) % 7)


@dataclass
class SpanPlan:
    """What to read for a run of days, each part with its sign (1 adds, -1 takes out): whole months
    (`EventMonthCount`), weeks of the month (`EventWeekCount`) and runs of days (`EventCount`, first and
    last day included)."""

    months: list[date] = field(default_factory=list)
    weeks: dict[date, int] = field(default_factory=dict)
    days: list[tuple[date, date, int]] = field(default_factory=list)

    def add_days(self, first: date, last: date, sign: int) -> None:
        if first <= last:
            self.days.append((first, last, sign))

    def weeks_signed(self, sign: int) -> list[date]:
        return [week for week, signed in self.weeks.items() if signed == sign]

    def days_signed(self, sign: int) -> list[tuple[date, date]]:
        return [(first, last) for first, last, signed in self.days if signed == sign]


def plan_spans(first_day: date, last_day: date, *, today: date) -> SpanPlan:
    """The cheapest reading of `first_day`..`last_day` from months, weeks of the month and days: the
    months `months_read` picks, then each stretch left over or read too much (a part of one month, at
    the period's edge) as the whole weeks of it, and each week that stretch covers in part as its days
    inside, or as the week less its days outside when those are fewer. Days after `today` hold nothing
    to read (they cost nothing)."""
    plan = SpanPlan(months=months_read(first_day, last_day, today=today))
    one = timedelta(days=1)
    if plan.months:
        after = add_months(plan.months[-1], 1) - one
        stretches = [
            (first_day, plan.months[0] - one, 1),
            (plan.months[0], first_day - one, -1),
            (after + one, last_day, 1),
            (last_day + one, after, -1),
        ]
    else:  # the period cut at each month's end
        stretches, day = [], first_day
        while day <= last_day:
            end = min(add_months(month_start(day), 1) - one, last_day)
            stretches.append((day, end, 1))
            day = end + one

    def cost(first: date, end: date) -> int:
        return max((min(end, today + one) - first).days, 0)

    for first, last, sign in stretches:
        # A week's sums cost about a day's rows.
        weeks, runs = weeks_cover(
            first, last + one, day_of=lambda day: day, bound=lambda day: day, cost=cost, week_cost=1
        )
        for week in weeks:
            plan.weeks[week] = plan.weeks.get(week, 0) + sign
        for run_first, run_end, run_sign in runs:
            plan.add_days(run_first, run_end - one, sign * run_sign)
    plan.weeks = {week: sign for week, sign in plan.weeks.items() if sign}
    return plan


def weeks_cover(first, end, *, day_of, bound, cost, week_cost: float, usable=None) -> tuple[list[date], list]:
    """The stretch [first, end) — of days, or of moments — as the weeks of the month it touches and runs
    of it: each week it covers whole, and each it covers in part whose part outside costs `week_cost`
    less than its part inside (the week, less its part outside); the rest as runs. `day_of` gives a
    point's local day, `bound` a day's first point, `cost` what a run [a, b) costs to read, `usable` (if
    given) whether a week [a, b) may be read at all. Returns (the weeks, [(start, end, 1 or -1)]): the
    weeks add, each run adds (1) or takes out (-1) — the same for `plan_spans` and the deadlines' hours
    (`reporting.outcomes._weeks_read`)."""
    weeks: list[date] = []
    runs: list = []
    week = week_start(day_of(first))
    while first < end and (week_from := bound(week)) < end:
        following = min(week + timedelta(days=7), add_months(month_start(week), 1))
        week_to = bound(following)
        part = (max(first, week_from), min(end, week_to))
        apart = cost(week_from, part[0]) + cost(part[1], week_to)
        if (usable is None or usable(week_from, week_to)) and (
            part == (week_from, week_to) or apart + week_cost < cost(*part)
        ):
            weeks.append(week)
            runs += [(start, stop, -1) for start, stop in ((week_from, part[0]), (part[1], week_to)) if start < stop]
        else:
            runs.append((*part, 1))
        week = following
    return weeks, runs


def _days_q(runs: list[tuple[date, date]]) -> Q:
    """The daily rows of `runs`; none for no run (a condition that compiles: `pk__in=[]` would not)."""
    q = Q(day__isnull=True)
    for first, last in runs:
        q |= Q(day__gte=first, day__lte=last)
    return q


def _side(names: tuple[str, ...], *, where: Q | None) -> str | None:
    """Which side of `EventMonthCount` holds a grouping set's months (None: only the daily rows do). A
    person's months are not split by campaign, so a campaign filter needs the daily rows for them."""
    if "user" not in names:
        return EventMonthCount.Side.CAMPAIGN
    if "campaign" not in names and not where:
        return EventMonthCount.Side.USER
    return None


def _set_key(names) -> tuple[str, ...]:
    """A grouping set's names in `_GROUPABLE`'s order, as the rows' GROUPING() values give them back."""
    return tuple(name for name in _GROUPABLE if name in names)


def _sql(rows) -> tuple[str, tuple]:
    return rows.values_list("kind", *_GROUPABLE.values(), "value", "amount").query.sql_with_params()


def _signed_sql(rows, sign: int) -> tuple[str, tuple]:
    """`_sql`, each row's value and amount taken out instead of added when `sign` is -1."""
    if sign > 0:
        return _sql(rows)
    less = rows.annotate(less_value=-F("value"), less_amount=-F("amount"))
    return less.values_list("kind", *_GROUPABLE.values(), "less_value", "less_amount").query.sql_with_params()


def counts_grouped(
    kinds: list[str],
    *,
    first_day: date,
    last_day: date,
    sets: tuple[tuple[str, ...], ...],
    where: Q | None = None,
    only: dict[tuple[str, ...], list[str]] | None = None,
) -> list[dict]:
    """Events of `kinds` on the local days `first_day` to `last_day`, summed per kind and each grouping
    set of `sets` ("subgroup", "campaign", "user") in one query: a page that wants totals per campaign and
    per person reads a few thousand sums instead of every (campaign, person) pair. The months lying
    wholly in the period come from `EventMonthCount`, the weeks of the month at its edges from
    `EventWeekCount`, the few days left from `EventCount` (`plan_spans`; a set naming both a campaign and
    a person from the daily rows alone). `only` names the kinds a set is wanted for, where fewer than
    `kinds` (the people's side of the dashboard: three of five kinds, a few thousand rows fewer to read
    where the set has its side's rollups to itself). Returns dicts with "kind", the set's fields,
    `value` and `amount`."""
    where = where or Q()
    only = {_set_key(names): kinds for names, kinds in (only or {}).items()}
    plan = plan_spans(first_day, last_day, today=timezone.localdate(timezone.now(), timezone.get_default_timezone()))
    daily = EventCount.objects.filter(kind__in=kinds).filter(where)
    by_side: dict[str | None, list[tuple[str, ...]]] = defaultdict(list)
    for names in sets:
        by_side[_side(names, where=where) if plan.months or plan.weeks else None].append(names)
    statements, params, prefix = [], [], ""
    for side, side_sets in by_side.items():
        side_kinds = sorted({kind for names in side_sets for kind in only.get(_set_key(names), kinds)})
        if side is None:
            sql, sql_params = _sql(daily.filter(day__gte=first_day, day__lte=last_day, kind__in=side_kinds))
        else:
            # The side's months and weeks (those taken out negated), and the edge days.
            spans = [
                (EventMonthCount, "month", plan.months, 1),
                *((EventWeekCount, "week", plan.weeks_signed(sign), sign) for sign in (1, -1)),
            ]
            parts, sql_params = [], []
            for model, span, listed, sign in spans:
                if not listed:
                    continue
                rows = model.objects.filter(**{f"{span}__in": listed}, side=side, kind__in=side_kinds).filter(where)
                part_sql, part_params = _signed_sql(rows, sign)
                parts.append(f"({part_sql})")
                sql_params.extend(part_params)
            parts.append("(SELECT * FROM edges WHERE kind = ANY(%s))")
            sql_params.append(side_kinds)
            sql = " UNION ALL ".join(parts)
        statements.append(_grouped_sql(sql, side_sets))
        params.extend(sql_params)
    if any(side is not None for side in by_side):
        # The edge days are read once, whichever sides add them to their months and weeks: the period's
        # days outside those read, and (taken off) their days outside the period.
        edge_sql, edge_params = _signed_sql(daily.filter(_days_q(plan.days_signed(1))), 1)
        less_sql, less_params = _signed_sql(daily.filter(_days_q(plan.days_signed(-1))), -1)
        prefix = f"WITH edges AS MATERIALIZED (({edge_sql}) UNION ALL ({less_sql})) "  # noqa: S608 - ORM SQL
        params = [*edge_params, *less_params, *params]
    with connection.cursor() as cursor:
        cursor.execute(prefix + " UNION ALL ".join(statements), params)
        found = cursor.fetchall()
    # The fields each GROUPING() value names, worked out once (a few thousand rows, a handful of values).
    grouped = {
        grouping: [(at, name) for at, name in enumerate(_GROUPABLE) if not grouping & (4 >> at)]
        for grouping in range(8)
    }
    # A set sharing its statement with another (the daily rows of a short period) is summed for that
    # one's kinds too: those rows are left out.
    wanted = {
        grouping: set(only.get(_set_key([name for _, name in names]), kinds)) for grouping, names in grouped.items()
    }
    results = []
    for kind, subgroup, campaign, user, grouping, value, amount in found:
        if not value and not amount:
            continue  # nothing counted: a month's sums less its days outside the period may cancel out
        if kind not in wanted[grouping]:
            continue
        row = {"kind": kind, "value": value, "amount": amount or Decimal(0)}
        fields = (subgroup, campaign, user)
        for at, name in grouped[grouping]:
            row[name] = fields[at]
        results.append(row)
    return results
