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
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from common.triggers import drop_transition_triggers, rollup_triggers
from leads.models import EventCount, EventMonthCount
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


# `EventMonthCount` from changes of daily rows `{changes}` (day, kind, subgroup, campaign_id, user_id,
# slot, value, amount; a removed row with its value negated): each daily row adds to its month's row
# per campaign and its month's row per person, in its own slot.
MONTHS_UPSERT = """
INSERT INTO leads_eventmonthcount (month, side, kind, subgroup, campaign_id, user_id, slot, value, amount)
SELECT date_trunc('month', c.day)::date, s.side, c.kind, c.subgroup,
       CASE WHEN s.side = 'campaign' THEN c.campaign_id END,
       CASE WHEN s.side = 'user' THEN c.user_id END,
       c.slot, SUM(c.value), SUM(c.amount)
  FROM ({changes}) c CROSS JOIN (VALUES ('campaign'), ('user')) AS s(side)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(c.value) <> 0 OR SUM(c.amount) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (month, side, kind, subgroup, campaign_id, user_id, slot) DO UPDATE
   SET value = leads_eventmonthcount.value + EXCLUDED.value,
       amount = leads_eventmonthcount.amount + EXCLUDED.amount
"""
_DAILY = (
    "SELECT day, kind, subgroup, campaign_id, user_id, slot, {sign}value AS value, {sign}amount AS amount FROM {rows}"
)


def months_upsert(*parts: tuple[str, str]) -> str:
    """MONTHS_UPSERT over relations of daily rows, each with its sign ("" adds, "-" takes out)."""
    return MONTHS_UPSERT.format(changes=" UNION ALL ".join(_DAILY.format(rows=rows, sign=sign) for rows, sign in parts))


MONTHS_TRIGGER_SQL = rollup_triggers("handoff_count_event_months", "handoff_eventcount", months_upsert)
MONTHS_DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_event_months", "handoff_eventcount")

MONTHS_FILL_SQL = "DELETE FROM leads_eventmonthcount;\n" + months_upsert(("handoff_eventcount", ""))  # noqa: S608 - constant SQL


def event_months_fill(cursor) -> None:
    """Recount `EventMonthCount` from the daily rows: for the rebuild, and for writers that fill the
    daily rows with triggers off (`seed_scale`)."""
    cursor.execute(MONTHS_FILL_SQL)


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


def _days_apart(first_day: date, last_day: date, months: list[date]) -> tuple[Q, Q]:
    """The days of `first_day`..`last_day` outside `months` (a run of months), and the days of `months`
    outside it: two ranges each, either of them empty."""
    after = add_months(months[-1], 1) - timedelta(days=1)
    inside = Q(day__gte=first_day, day__lt=months[0]) | Q(day__gt=after, day__lte=last_day)
    outside = Q(day__gte=months[0], day__lt=first_day) | Q(day__gt=last_day, day__lte=after)
    return inside, outside


def _side(names: tuple[str, ...], *, where: Q | None) -> str | None:
    """Which side of `EventMonthCount` holds a grouping set's months (None: only the daily rows do). A
    person's months are not split by campaign, so a campaign filter needs the daily rows for them."""
    if "user" not in names:
        return EventMonthCount.Side.CAMPAIGN
    if "campaign" not in names and not where:
        return EventMonthCount.Side.USER
    return None


def _sql(rows) -> tuple[str, tuple]:
    return rows.values_list("kind", *_GROUPABLE.values(), "value", "amount").query.sql_with_params()


def counts_grouped(
    kinds: list[str], *, first_day: date, last_day: date, sets: tuple[tuple[str, ...], ...], where: Q | None = None
) -> list[dict]:
    """Events of `kinds` on the local days `first_day` to `last_day`, summed per kind and each grouping
    set of `sets` ("subgroup", "campaign", "user") in one query: a page that wants totals per campaign and
    per person reads a few thousand sums instead of every (campaign, person) pair. The months lying
    wholly in the period come from `EventMonthCount`, the days at its edges from `EventCount` (a set
    naming both a campaign and a person from the daily rows alone); an edge month whose days outside
    the period are fewer, as its sums less those days (`months_read`). Returns dicts with "kind", the set's
    fields, `value` and `amount`."""
    where = where or Q()
    months = months_read(first_day, last_day, today=timezone.localdate(timezone.now(), timezone.get_default_timezone()))
    daily = EventCount.objects.filter(kind__in=kinds).filter(where)
    by_side: dict[str | None, list[tuple[str, ...]]] = defaultdict(list)
    for names in sets:
        by_side[_side(names, where=where) if months else None].append(names)
    statements, params, prefix = [], [], ""
    for side, side_sets in by_side.items():
        if side is None:
            sql, sql_params = _sql(daily.filter(day__gte=first_day, day__lte=last_day))
        else:
            month_rows = EventMonthCount.objects.filter(side=side, kind__in=kinds, month__in=months).filter(where)
            month_sql, sql_params = _sql(month_rows)
            sql = f"({month_sql}) UNION ALL (SELECT * FROM edges)"  # noqa: S608 - the ORM's SQL, params apart
        statements.append(_grouped_sql(sql, side_sets))
        params.extend(sql_params)
    if any(side is not None for side in by_side):
        # The edge days are read once, whichever sides add them to their months: the period's days
        # outside the months read, and (taken off) the days of those months outside the period.
        inside, outside = _days_apart(first_day, last_day, months)
        edge_sql, edge_params = _sql(daily.filter(inside))
        less = daily.filter(outside).annotate(less_value=-F("value"), less_amount=-F("amount"))
        less_sql, less_params = less.values_list(
            "kind", *_GROUPABLE.values(), "less_value", "less_amount"
        ).query.sql_with_params()
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
    results = []
    for kind, subgroup, campaign, user, grouping, value, amount in found:
        if not value and not amount:
            continue  # nothing counted: a month's sums less its days outside the period may cancel out
        row = {"kind": kind, "value": value, "amount": amount or Decimal(0)}
        fields = (subgroup, campaign, user)
        for at, name in grouped[grouping]:
            row[name] = fields[at]
        results.append(row)
    return results
