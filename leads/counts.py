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
"""

from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum

from leads.models import EventCount
from leads.tally import COUNT_SLOT_FUNCTION, site_zone

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
SELECT kind, subgroup, campaign_id, user_id, GROUPING(subgroup, campaign_id, user_id),
       SUM(value)::bigint, SUM(amount)
  FROM ({rows}) AS e
 GROUP BY GROUPING SETS ({sets})
"""


def counts_grouped(
    kinds: list[str], *, first_day: date, last_day: date, sets: tuple[tuple[str, ...], ...], where: Q | None = None
) -> list[dict]:
    """Events of `kinds` on the local days `first_day` to `last_day`, summed per kind and each grouping
    set of `sets` ("subgroup", "campaign", "user") in one pass over the rows: a page that wants totals per
    campaign and per person reads a few hundred sums instead of every (campaign, person) pair. Returns
    dicts with "kind", the set's fields, `value` and `amount`."""
    rows = EventCount.objects.filter(kind__in=kinds, day__gte=first_day, day__lte=last_day)
    if where is not None:
        rows = rows.filter(where)
    sql, params = rows.values_list("kind", *_GROUPABLE.values(), "value", "amount").query.sql_with_params()
    grouping_sets = ", ".join("(kind, " + ", ".join(_GROUPABLE[name] for name in names) + ")" for names in sets)
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_GROUPED.format(rows=sql, sets=grouping_sets), params)
        found = cursor.fetchall()
    results = []
    for kind, subgroup, campaign, user, grouping, value, amount in found:
        row = {"kind": kind, "value": value, "amount": amount or Decimal(0)}
        for bit, (name, field) in enumerate(zip(_GROUPABLE, (subgroup, campaign, user), strict=True)):
            if not grouping & (4 >> bit):
                row[name] = field
        results.append(row)
    return results
