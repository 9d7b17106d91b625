"""The business times of met deadlines per bucket: `MetTimeDay` kept by triggers, and the dashboard's exact
percentiles read from it.

PostgreSQL's `percentile_cont` sorts every value of the period: for a quarter at a million leads an
index-only scan of 173,000 deadlines, ~33 ms of the dashboard's ~65 ms of SQL and growing with the
period. The same figure, exactly, from two small reads:

1. the period's counts per kind and bucket (`MetTimeDay` for the days that have passed, today's
   deadlines counted live), which give the number of values and, for each rank `percentile_cont`
   interpolates between, the bucket that holds it and its place there;
2. for each such rank, that bucket's deadlines of the period in order, from `deadline_met_bucket_idx`
   (kind, bucket, decided), up to the place: a bucket holds a few per cent of the period's deadlines.

Buckets are `BUCKET` of the business seconds, ~8.7 % wide from 1 s up (each of the first dozen seconds
a bucket of its own, 0 s bucket 0). A deadline counts once its business time is set, unless an
escalation met it: the conditions of `reporting.dashboard.decided_deadlines(measured=True)`, which the
dashboard still sorts whole when a filter narrows the deadlines (a team, a rep, a campaign, a channel):
the read model has no such columns, and the filtered part is smaller.

Days are those of the site's zone (written into the trigger; `rebuild_counts` installs it again after a
change of TIME_ZONE).
"""

import datetime
import math

from django.db import connection, transaction
from django.utils import timezone

from common.localtime import local_midnight
from common.triggers import (
    drop_transition_triggers,
    only_if_any,
    read_model_rebuild,
    rollup_triggers,
    transition_triggers,
)
from leads.counts import months_read
from leads.tally import site_zone
from leads.targets import add_months

# The bucket of a deadline `d`'s business time; the same text in the index (migration 0010), so that
# PostgreSQL matches the refinement's condition to it.
BUCKET = "(floor(ln(d.business_seconds::float8 + 1) * 12)::int)"
MEASURED = "d.business_seconds IS NOT NULL AND NOT d.met_by_escalation"
DECIDED = "LEAST(d.met_at, d.due_at)"

# `{deadlines}`: a relation (the table, a transition table or a part of one), each row counted with `{sign}`.
MET_TIMES_SELECT = f"""
SELECT ({DECIDED} AT TIME ZONE '{{zone}}')::date AS day, d.kind, {BUCKET} AS bucket, {{sign}} * COUNT(*) AS deadlines
  FROM {{deadlines}} d
 WHERE {MEASURED}
 GROUP BY 1, 2, 3
"""  # noqa: S608 - our own SQL, no input

# Adds up the contributions and applies them in key order, into this transaction's count slot.
MET_TIMES_UPSERT = """
INSERT INTO reporting_mettimeday (day, kind, bucket, deadlines, slot)
SELECT summed.*, (SELECT handoff_count_slot()) FROM (
SELECT day, kind, bucket, SUM(deadlines)
  FROM ({changes}) c
 GROUP BY 1, 2, 3
HAVING SUM(deadlines) <> 0
 ORDER BY 1, 2, 3) AS summed
ON CONFLICT (day, kind, bucket, slot) DO UPDATE SET deadlines = reporting_mettimeday.deadlines + EXCLUDED.deadlines"""

# The rows of an update that count before or after and whose counted columns changed, old (`o`) or new (`n`).
_CHANGED = """(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
 WHERE ((o.business_seconds IS NOT NULL AND NOT o.met_by_escalation)
        OR (n.business_seconds IS NOT NULL AND NOT n.met_by_escalation))
   AND (o.business_seconds IS DISTINCT FROM n.business_seconds
        OR o.met_by_escalation IS DISTINCT FROM n.met_by_escalation OR o.kind IS DISTINCT FROM n.kind
        OR LEAST(o.met_at, o.due_at) IS DISTINCT FROM LEAST(n.met_at, n.due_at)))"""


def met_times_upsert(*parts: tuple[str, int]) -> str:
    """The statement adding the deadlines of each (relation, sign) part to the read model."""
    changes = " UNION ALL".join(
        MET_TIMES_SELECT.format(deadlines=deadlines, sign=sign, zone=site_zone()) for deadlines, sign in parts
    )
    return MET_TIMES_UPSERT.format(changes=changes)


def trigger_sql() -> str:
    """The deadlines' triggers, for the site's zone as configured now. The sweep's breaches (a storm's
    100,000 deadlines) change nothing counted here and skip the statement."""
    changed = (_CHANGED.format(side="o"), _CHANGED.format(side="n"))
    timed = "(SELECT * FROM {rows} WHERE business_seconds IS NOT NULL)"
    return transition_triggers(
        "handoff_count_met_times",
        "handoff_deadline",
        insert=only_if_any(timed.format(rows="new_rows"), met_times_upsert(("new_rows", 1))),
        # Guarded without joining old and new rows: under EXISTS PostgreSQL joins them in a nested loop
        # (it expects an early match), 25,000,000 comparisons for a sweep batch of 5,000 breaches.
        update=only_if_any(
            f"({timed.format(rows='new_rows')} UNION ALL {timed.format(rows='old_rows')})",
            met_times_upsert((changed[0], -1), (changed[1], 1)),
        ),
        delete=only_if_any(timed.format(rows="old_rows"), met_times_upsert(("old_rows", -1))),
    )


DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_met_times", "handoff_deadline")

# `MetTimeMonth` from changes of daily rows `{changes}` (day, kind, bucket, slot, deadlines; a removed
# row with its count negated): each daily row adds to its month's row, in its own slot.
MONTHS_UPSERT = """
INSERT INTO reporting_mettimemonth (month, kind, bucket, slot, deadlines)
SELECT date_trunc('month', c.day)::date, c.kind, c.bucket, c.slot, SUM(c.deadlines)
  FROM ({changes}) c
 GROUP BY 1, 2, 3, 4
HAVING SUM(c.deadlines) <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (month, kind, bucket, slot) DO UPDATE
   SET deadlines = reporting_mettimemonth.deadlines + EXCLUDED.deadlines"""
_DAYS = "SELECT day, kind, bucket, slot, {sign}deadlines AS deadlines FROM {rows}"


def months_upsert(*parts: tuple[str, str]) -> str:
    """MONTHS_UPSERT over relations of daily rows, each with its sign ("" adds, "-" takes out)."""
    return MONTHS_UPSERT.format(changes=" UNION ALL ".join(_DAYS.format(rows=rows, sign=sign) for rows, sign in parts))


MONTHS_TRIGGER_SQL = rollup_triggers("handoff_count_met_time_months", "reporting_mettimeday", months_upsert)
MONTHS_DROP_TRIGGER_SQL = drop_transition_triggers("handoff_count_met_time_months", "reporting_mettimeday")


def met_time_months_fill(cursor) -> None:
    """Recount `MetTimeMonth` from the daily rows: for the rebuild, and for writers that fill the daily
    rows with triggers off (`seed_scale`)."""
    cursor.execute("DELETE FROM reporting_mettimemonth")
    cursor.execute(months_upsert(("reporting_mettimeday", "")))


def met_times_fill(cursor, *, deadlines: str = "handoff_deadline") -> None:
    """Add the deadlines of relation `deadlines` (the whole table, or a part to check) to the read model:
    for the rebuild, and for writers that run with triggers off (`seed_scale`)."""
    cursor.execute(met_times_upsert((deadlines, 1)))


def met_times_rebuild() -> int:
    """Recount every deadline, then the months from the days; returns the number of daily rows written.
    Holds a SHARE lock on the deadlines meanwhile (writers wait, then count themselves as usual);
    installs the triggers again."""
    with transaction.atomic():
        days = read_model_rebuild(
            sources="handoff_deadline",
            table="reporting_mettimeday",
            triggers=trigger_sql() + MONTHS_TRIGGER_SQL,
            fill=met_times_fill,
        )
        with connection.cursor() as cursor:
            met_time_months_fill(cursor)
    return days


# The period's counts per kind and bucket: the stored days before the day `end` falls on (its whole
# months from `MetTimeMonth`, an edge month whose days outside are fewer as the month less those days,
# the other days from `MetTimeDay`), and from that day's midnight (or the period's start, if later) to
# `end` live, from deadline_met_seconds_idx.
_COUNTS = f"""
SELECT kind, bucket, SUM(deadlines)::bigint FROM (
  SELECT kind, bucket, deadlines FROM reporting_mettimemonth
   WHERE month = ANY(%(months)s) AND kind = ANY(%(kinds)s)
  UNION ALL
  SELECT kind, bucket, deadlines FROM reporting_mettimeday
   WHERE kind = ANY(%(kinds)s) AND ((day >= %(first_day)s AND day < %(months_from)s)
                                    OR (day >= %(months_to)s AND day < %(live_day)s))
  UNION ALL
  SELECT kind, bucket, -deadlines FROM reporting_mettimeday
   WHERE kind = ANY(%(kinds)s) AND ((day >= %(months_from)s AND day < %(first_day)s)
                                    OR (day >= %(live_day)s AND day < %(months_to)s))
  UNION ALL
  SELECT d.kind, {BUCKET}, COUNT(*) FROM handoff_deadline d
   WHERE d.kind = ANY(%(kinds)s) AND {DECIDED} >= %(live_start)s AND {DECIDED} < %(end)s AND {MEASURED}
   GROUP BY 1, 2
) counted GROUP BY 1, 2 HAVING SUM(deadlines) <> 0 ORDER BY 1, 2"""  # noqa: S608 - values are parameters

# The value at each (kind, bucket, place) asked for: the bucket's deadlines of the period in order.
_VALUES = f"""
SELECT asked.i, (SELECT d.business_seconds FROM handoff_deadline d
                  WHERE d.kind = asked.kind AND {BUCKET} = asked.bucket
                    AND {DECIDED} >= %(start)s AND {DECIDED} < %(end)s AND {MEASURED}
                  ORDER BY d.business_seconds OFFSET asked.place LIMIT 1)
  FROM unnest(%(i)s::int[], %(kind)s::text[], %(bucket)s::int[], %(place)s::bigint[])
       AS asked(i, kind, bucket, place)"""  # noqa: S608 - values are parameters


def met_time_percentiles(
    *, start: datetime.datetime, end: datetime.datetime, kinds: tuple[str, ...], fractions: tuple[float, ...]
) -> dict[str, tuple[float, ...]] | None:
    """{kind: (the `percentile_cont` of each of `fractions`)} of the business times of the deadlines of
    `kinds` people met, decided from `start` (a local midnight) to `end`: equal to PostgreSQL's
    percentile_cont over those deadlines, in two queries whatever the period (one if every rank asked
    falls on no time at all). A kind with none is absent. The two queries must see the same deadlines
    (`sla_dashboard` reads in one snapshot); None if a bucket was found to hold fewer deadlines than
    counted — the read model out of step with them, which `verify_counts` finds (a count too low in a
    bucket goes unseen here)."""
    zone = timezone.get_default_timezone()
    first_day, live_day = timezone.localdate(start, zone), timezone.localdate(end, zone)
    # Days after today hold no met deadline yet (a deadline is decided when met, or when due if earlier).
    months = months_read(
        first_day, live_day - datetime.timedelta(days=1), today=timezone.localdate(timezone.now(), zone)
    )
    params = {
        "first_day": first_day,
        "live_day": live_day,
        "months": months,
        # The months read as one span (they follow each other), or none: from the day the period's days end.
        "months_from": months[0] if months else live_day,
        "months_to": add_months(months[-1], 1) if months else live_day,
        "live_start": max(start, local_midnight(live_day, zone)),
        "start": start,
        "end": end,
        "kinds": list(kinds),
    }
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS, params)
        buckets: dict[str, list[tuple[int, int]]] = {}
        for kind, bucket, count in cursor.fetchall():
            buckets.setdefault(kind, []).append((bucket, count))
        # Each rank percentile_cont reads (the two it interpolates between), found in its bucket.
        asked: list[tuple[str, int, int]] = []
        positions: dict[str, list[tuple[int, int, float]]] = {}
        for kind, counts in buckets.items():
            total = sum(count for _, count in counts)
            for fraction in fractions:
                position = fraction * (total - 1)
                below, above = math.floor(position), math.ceil(position)
                positions.setdefault(kind, []).append(
                    (_ask(asked, kind, counts, below), _ask(asked, kind, counts, above), position - below)
                )
        # Bucket 0 is no time at all: its value is known, and sorting its (many) deadlines would tell nothing.
        values: dict[int, int | None] = {i: 0 for i, (_, bucket, _) in enumerate(asked) if bucket == 0}
        sought = [(i, *wanted) for i, wanted in enumerate(asked) if i not in values]
        if sought:
            cursor.execute(
                _VALUES,
                {
                    **params,
                    "i": [i for i, _, _, _ in sought],
                    "kind": [kind for _, kind, _, _ in sought],
                    "bucket": [bucket for _, _, bucket, _ in sought],
                    "place": [place for _, _, _, place in sought],
                },
            )
            values.update(cursor.fetchall())
    if None in values.values():
        return None
    # PostgreSQL's interpolation (float8_lerp), in the same double precision.
    return {
        kind: tuple(
            values[low] + (values[high] - values[low]) * proportion if low != high else float(values[low])
            for low, high, proportion in ranks
        )
        for kind, ranks in positions.items()
    }


def _ask(asked: list[tuple[str, int, int]], kind: str, counts: list[tuple[int, int]], rank: int) -> int:
    """The index in `asked` of the value at `rank` (from 0) of `kind`, whose counts per bucket in order
    are `counts`: added as (kind, bucket, place in the bucket) unless asked already. Bucket 0 holds
    no time at all and nothing else (one second is bucket 8), so all its places are asked as one."""
    for bucket, count in counts:
        if rank < count:
            rank = 0 if bucket == 0 else rank
            wanted = (kind, bucket, rank)
            if wanted not in asked:
                asked.append(wanted)
            return asked.index(wanted)
        rank -= count
    raise ValueError("rank past the last value")
