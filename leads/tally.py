"""Read models of the leads, kept current by triggers in the transaction that changes them.

- `LeadTally`: leads per campaign, owner and status. `TALLY_UPSERT` over each `leads_lead`
  statement's old and new rows (an insert adds one, a delete takes one away, an update moves one
  from its old key to its new one). `CampaignTally`: the same per campaign and status only.
- `CampaignMilestone`: a campaign's live leads that ever reached each milestone of the funnel
  (`MILESTONE_BITS`: which timeline events mark which milestone). A timeline insert counts the leads
  that reach a milestone for the first time; a lead merged away (or moved to another campaign)
  takes its milestones with it.

`lead_tally_rebuild` recounts both from the leads and the timeline with the same definitions; tests
check that the triggers' counts equal a rebuild on random histories.

Counts of what leads *are now* (open leads per rep, leads per campaign and status) come from here;
counts of what *happened* (MQLs per month, claims per rep) from `leads.counts`.
"""

import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, BooleanField, F, Func, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce

from .models import LeadTally

# The milestones an event marks, as bits of one integer: the one definition of "reached".
# Handing off and re-queueing both open a handoff; acceptance is a person's move from the queue to a rep
# (a claim, a manager's assignment or the round-robin; not an escalation giving the lead away, whose
# event says so); a breach is the sweep's record of one.
MILESTONE_BITS = """CASE
  WHEN {e}.kind = 'qualified' THEN 1
  WHEN {e}.to_status = 'handed_off' THEN 2
  WHEN {e}.from_status = 'handed_off' AND {e}.to_status = 'claimed' AND NOT {e}.data ? 'escalation' THEN 4
  WHEN {e}.to_status = 'returned' THEN 8
  WHEN {e}.kind = 'breach' THEN 16
  ELSE 0 END"""
MILESTONES = """(VALUES ('qualified', 1), ('handed_off', 2), ('accepted', 4), ('returned', 8), ('breached', 16))
  AS m(name, bit)"""

# `{changes}`: rows (campaign_id, bits, delta): that many leads of the campaign gained (or lost)
# the milestones in bits.
MILESTONE_UPSERT = (
    """
INSERT INTO leads_campaignmilestone (campaign_id, milestone, leads)
SELECT changes.campaign_id, m.name, SUM(changes.delta)
  FROM ({changes}) AS changes
  JOIN """
    + MILESTONES
    + """ ON changes.bits & m.bit <> 0
 GROUP BY 1, 2
HAVING SUM(changes.delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, milestone) DO UPDATE SET leads = leads_campaignmilestone.leads + EXCLUDED.leads
"""
)

# A timeline insert: the milestones each live lead reaches for the first time.
MILESTONES_REACHED = MILESTONE_UPSERT.format(
    changes="""
    SELECT l.campaign_id, reached.bits & ~before.bits AS bits, 1 AS delta
      FROM (SELECT e.lead_id, bit_or("""  # noqa: S608 - constant SQL, no input
    + MILESTONE_BITS.format(e="e")
    + """) AS bits
              FROM new_events e GROUP BY e.lead_id) reached
      JOIN leads_lead l ON l.id = reached.lead_id AND l.status <> 'merged'
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or("""
    + MILESTONE_BITS.format(e="o")
    + """), 0) AS bits
         FROM leads_leadevent o
        WHERE o.lead_id = reached.lead_id AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)
     ) before
     WHERE reached.bits <> 0"""
)

# The live leads a lead update takes from a campaign (delta -1: merged away, or moved to another
# campaign) or gives to one (delta 1: moved there, or brought back from merged).
MOVED_LEADS = """(SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE o.status <> 'merged' AND (n.status = 'merged' OR n.campaign_id <> o.campaign_id)
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.status <> 'merged' AND (o.status = 'merged' OR n.campaign_id <> o.campaign_id)) moved"""

# A lead update that merges it away (or back) or moves it to another campaign moves its milestones.
MILESTONES_MOVED = MILESTONE_UPSERT.format(
    changes="""
    SELECT moved.campaign_id, reached.bits, moved.delta
      FROM """  # noqa: S608 - constant SQL, no input
    + MOVED_LEADS
    + """
     CROSS JOIN LATERAL (
       SELECT COALESCE(bit_or("""
    + MILESTONE_BITS.format(e="e")
    + """), 0) AS bits
         FROM leads_leadevent e WHERE e.lead_id = moved.id) reached
     WHERE reached.bits <> 0"""
)

# A recount over the relations `{events}` and `{leads}` (the whole tables, or a part of them whose
# events are all in `{events}`).
MILESTONES_RECOUNT = MILESTONE_UPSERT.format(
    changes="""
    SELECT l.campaign_id, reached.bits, 1 AS delta
      FROM (SELECT e.lead_id, bit_or("""  # noqa: S608 - constant SQL, no input
    + MILESTONE_BITS.format(e="e")
    + """) AS bits
              FROM {events} e GROUP BY e.lead_id) reached
      JOIN {leads} l ON l.id = reached.lead_id AND l.status <> 'merged'
     WHERE reached.bits <> 0"""
)

# --- MQLs per month: a live lead counts once in each calendar month of the site's zone in which it was
# qualified, on the day it was first qualified in that month. A duplicate merged into another lead leaves
# its MQLs to the survivor: a lead and every lead merged into it (directly or down a chain of merges) are
# one *family*, counted once per month in the campaign of its root, the live lead at the top. A month's
# MQLs are its days' rows; any run of days (a dashboard period) sums its own. `{zone}` is
# settings.TIME_ZONE, written into the trigger when it is installed (`trigger_sql`).
DAY_OF = "({e}.created_at AT TIME ZONE '{{zone}}')::date"
MONTH_OF = "date_trunc('month', {e}.created_at AT TIME ZONE '{{zone}}')::date"

# The family functions. `handoff_lead_root(lead, moved, parents)`: the root above `lead`, reading the leads
# `moved` as merged into `parents` (their values before an update; empty: as they are now).
# `handoff_lead_family(root)`: the ids of the leads whose root is `root`, itself included.
FAMILY_FUNCTIONS = """
CREATE OR REPLACE FUNCTION handoff_lead_root(lead bigint, moved bigint[] DEFAULT '{}', parents bigint[] DEFAULT '{}')
RETURNS bigint AS $$
DECLARE
  current bigint := lead;
  parent bigint;
  position int;
BEGIN
  LOOP
    position := array_position(moved, current);
    IF position IS NULL THEN
      SELECT merged_into_id INTO parent FROM leads_lead WHERE id = current;
    ELSE
      parent := parents[position];
    END IF;
    IF parent IS NULL THEN
      RETURN current;
    END IF;
    current := parent;
  END LOOP;
END;
$$ LANGUAGE plpgsql STABLE;

CREATE OR REPLACE FUNCTION handoff_lead_family(root bigint) RETURNS bigint[] AS $$
  WITH RECURSIVE family(id) AS (
    SELECT root
    UNION ALL
    SELECT l.id FROM leads_lead l JOIN family f ON l.merged_into_id = f.id
  )
  SELECT array_agg(id) FROM family
$$ LANGUAGE sql STABLE;
"""

# `{changes}`: rows (campaign_id, day, delta): that many families of the campaign gained (or lost) their
# month's qualification on the day.
MONTHS_UPSERT = """
INSERT INTO leads_campaignmonthmqls (campaign_id, day, leads)
SELECT campaign_id, day, SUM(delta)
  FROM ({changes}) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, day) DO UPDATE SET leads = leads_campaignmonthmqls.leads + EXCLUDED.leads
"""

# A timeline insert: per family and month of its new qualifications, the first day of them; it counts
# there unless the family was already qualified earlier in that month (an event written with an earlier
# time than those before it moves the family's count to its day).
MONTHS_QUALIFIED = MONTHS_UPSERT.format(
    changes="""
    SELECT r.campaign_id, c.day, c.delta
      FROM (SELECT handoff_lead_root(e.lead_id) AS root, """  # noqa: S608 - constant SQL, no input
    + MONTH_OF.format(e="e")
    + """ AS month, MIN("""
    + DAY_OF.format(e="e")
    + """) AS first FROM new_events e WHERE e.kind = 'qualified' GROUP BY 1, 2) q
     CROSS JOIN LATERAL (
       SELECT MIN("""
    + DAY_OF.format(e="o")
    + """) AS first FROM leads_leadevent o
        WHERE o.lead_id = ANY(handoff_lead_family(q.root)) AND o.kind = 'qualified' AND """
    + MONTH_OF.format(e="o")
    + """ = q.month
          AND NOT EXISTS (SELECT 1 FROM new_events n WHERE n.id = o.id)) before
      JOIN leads_lead r ON r.id = q.root AND r.status <> 'merged'
     CROSS JOIN LATERAL (VALUES (q.first, 1), (before.first, -1)) AS c(day, delta)
     WHERE (before.first IS NULL OR q.first < before.first) AND c.day IS NOT NULL"""
)

# A lead update that merges a lead away (or back), or moves a lead to another campaign, changes the
# families around it: their months are counted again as they were before the statement (each member's
# root read with the old parents of the leads it changed, the root's old campaign and status) and taken
# out, and as they are now and put in. Families the statement did not touch cancel out.
MONTHS_MOVED = MONTHS_UPSERT.format(
    changes="""
    WITH moved AS (
      SELECT o.id, o.merged_into_id AS old_parent, n.merged_into_id AS new_parent
        FROM old_leads o JOIN new_leads n ON n.id = o.id
       WHERE o.merged_into_id IS DISTINCT FROM n.merged_into_id OR o.campaign_id <> n.campaign_id
          OR (o.status = 'merged') <> (n.status = 'merged')),
    before AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(merged_into_id ORDER BY id) AS parents
                 FROM old_leads),
    roots AS (SELECT DISTINCT handoff_lead_root(x) AS root
                FROM moved CROSS JOIN LATERAL (VALUES (moved.id), (moved.old_parent), (moved.new_parent)) v(x)
               WHERE x IS NOT NULL),
    members AS (SELECT DISTINCT unnest(handoff_lead_family(root)) AS id FROM roots),
    mapped AS (SELECT m.id, 1 AS delta, handoff_lead_root(m.id) AS root FROM members m
               UNION ALL
               SELECT m.id, -1, handoff_lead_root(m.id, b.ids, b.parents) FROM members m CROSS JOIN before b),
    firsts AS (SELECT mp.root, mp.delta, MIN("""  # noqa: S608 - constant SQL, no input
    + DAY_OF.format(e="e")
    + """) AS day
                 FROM mapped mp JOIN leads_leadevent e ON e.lead_id = mp.id AND e.kind = 'qualified'
                GROUP BY mp.root, mp.delta, """
    + MONTH_OF.format(e="e")
    + """)
    SELECT CASE WHEN f.delta < 0 THEN COALESCE(o.campaign_id, r.campaign_id) ELSE r.campaign_id END AS campaign_id,
           f.day, f.delta
      FROM firsts f
      JOIN leads_lead r ON r.id = f.root
      LEFT JOIN old_leads o ON o.id = f.root
     WHERE CASE WHEN f.delta < 0 THEN COALESCE(o.status, r.status) ELSE r.status END <> 'merged'"""
)

# Each family's first day of each month it was qualified in, over the relations `{events}` and `{leads}`
# (the whole tables, or a part holding every family of its roots: the root's row is in `{leads}`). A lead
# merged into nothing is its own root, read without the function.
MONTHS_RECOUNT = MONTHS_UPSERT.format(
    changes="""
    SELECT r.campaign_id, q.day, 1 AS delta
      FROM (SELECT CASE WHEN m.merged_into_id IS NULL THEN m.id ELSE handoff_lead_root(m.id) END AS root,
                   MIN("""  # noqa: S608 - constant SQL, no input
    + DAY_OF.format(e="e")
    + """) AS day
              FROM {events} e JOIN leads_lead m ON m.id = e.lead_id
             WHERE e.kind = 'qualified' GROUP BY 1, """
    + MONTH_OF.format(e="e")
    + """) q
      JOIN {leads} r ON r.id = q.root AND r.status <> 'merged'"""
)

# --- Won deals and their value per campaign (the campaign of the deal's lead).
# `{changes}`: rows (campaign_id, deals, revenue) to add up.
REVENUE_UPSERT = """
INSERT INTO leads_campaignrevenue (campaign_id, won_deals, won_revenue)
SELECT campaign_id, SUM(deals), SUM(revenue)
  FROM ({changes}) AS changes
 GROUP BY 1
HAVING SUM(deals) <> 0 OR SUM(revenue) <> 0
 ORDER BY 1
ON CONFLICT (campaign_id) DO UPDATE
   SET won_deals = leads_campaignrevenue.won_deals + EXCLUDED.won_deals,
       won_revenue = leads_campaignrevenue.won_revenue + EXCLUDED.won_revenue
"""

WON_ROWS = """SELECT l.campaign_id, {sign} AS deals, {sign} * d.value AS revenue
  FROM {deals} d JOIN {leads} l ON l.id = d.lead_id WHERE d.stage = 'won'"""


def _won(deals: str, sign: int, leads: str = "leads_lead") -> str:
    return WON_ROWS.format(deals=deals, leads=leads, sign=sign)


# A lead moved to another campaign takes its won deal with it (a merged lead's deal still counts).
REVENUE_MOVED = REVENUE_UPSERT.format(
    changes="""
    SELECT moved.campaign_id, moved.delta AS deals, moved.delta * d.value AS revenue
      FROM (SELECT o.id, o.campaign_id, -1 AS delta FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.campaign_id <> o.campaign_id
            UNION ALL
            SELECT n.id, n.campaign_id, 1 FROM old_leads o JOIN new_leads n ON n.id = o.id
             WHERE n.campaign_id <> o.campaign_id) moved
      JOIN leads_deal d ON d.lead_id = moved.id AND d.stage = 'won'"""
)

# `{changes}`: rows (campaign_id, owner_id, status, delta) to add up, into this transaction's slot.
TALLY_UPSERT = """
INSERT INTO leads_leadtally (campaign_id, owner_id, status, slot, leads)
SELECT campaign_id, owner_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM ({changes}) AS changes
 GROUP BY 1, 2, 3
HAVING SUM(delta) <> 0
 ORDER BY 1, 2, 3
ON CONFLICT (campaign_id, owner_id, status, slot) DO UPDATE SET leads = leads_leadtally.leads + EXCLUDED.leads
"""

# The same changes summed per campaign and status, for the campaign list (`CampaignTally`).
CAMPAIGN_TALLY_UPSERT = """
INSERT INTO leads_campaigntally (campaign_id, status, slot, leads)
SELECT campaign_id, status, (SELECT handoff_count_slot()), SUM(delta)
  FROM ({changes}) AS changes
 GROUP BY 1, 2
HAVING SUM(delta) <> 0
 ORDER BY 1, 2
ON CONFLICT (campaign_id, status, slot) DO UPDATE SET leads = leads_campaigntally.leads + EXCLUDED.leads
"""


NEW_ROWS = "SELECT campaign_id, owner_id, status, 1 AS delta FROM {table}"
OLD_ROWS = "SELECT campaign_id, owner_id, status, -1 AS delta FROM old_leads"

# Per trigger: its table, statement kind, transition tables and what it runs. (A lead with events is
# never deleted, so a delete has no milestones to take away.)
TRIGGERS = {
    "leads_tally_insert": (
        "leads_lead",
        "INSERT",
        "REFERENCING NEW TABLE AS new_leads",
        [TALLY_UPSERT.format(changes=NEW_ROWS.format(table="new_leads"))],
    ),
    "leads_tally_update": (
        "leads_lead",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads",
        [
            TALLY_UPSERT.format(changes=f"{NEW_ROWS.format(table='new_leads')} UNION ALL {OLD_ROWS}"),
            MILESTONES_MOVED,
            MONTHS_MOVED,
            REVENUE_MOVED,
        ],
    ),
    "leads_tally_delete": (
        "leads_lead",
        "DELETE",
        "REFERENCING OLD TABLE AS old_leads",
        [TALLY_UPSERT.format(changes=OLD_ROWS)],
    ),
    # The campaigns' tallies apart (leads/migrations/0031 added them without touching the triggers above).
    "leads_campaign_tally_insert": (
        "leads_lead",
        "INSERT",
        "REFERENCING NEW TABLE AS new_leads",
        [CAMPAIGN_TALLY_UPSERT.format(changes=NEW_ROWS.format(table="new_leads"))],
    ),
    "leads_campaign_tally_update": (
        "leads_lead",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads",
        [CAMPAIGN_TALLY_UPSERT.format(changes=f"{NEW_ROWS.format(table='new_leads')} UNION ALL {OLD_ROWS}")],
    ),
    "leads_campaign_tally_delete": (
        "leads_lead",
        "DELETE",
        "REFERENCING OLD TABLE AS old_leads",
        [CAMPAIGN_TALLY_UPSERT.format(changes=OLD_ROWS)],
    ),
    "leads_milestones_reached": (
        "leads_leadevent",
        "INSERT",
        "REFERENCING NEW TABLE AS new_events",
        [MILESTONES_REACHED, MONTHS_QUALIFIED],
    ),
    "leads_revenue_insert": (
        "leads_deal",
        "INSERT",
        "REFERENCING NEW TABLE AS new_deals",
        [REVENUE_UPSERT.format(changes=_won("new_deals", 1))],
    ),
    "leads_revenue_update": (
        "leads_deal",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals",
        [REVENUE_UPSERT.format(changes=f"{_won('new_deals', 1)} UNION ALL {_won('old_deals', -1)}")],
    ),
    "leads_revenue_delete": (
        "leads_deal",
        "DELETE",
        "REFERENCING OLD TABLE AS old_deals",
        [REVENUE_UPSERT.format(changes=_won("old_deals", -1))],
    ),
}


# --- Count slots: why `LeadTally` and `EventCount` rows carry a `slot`.
# Every new lead of a campaign adds one to the same tally row (its campaign, no owner, "new") and to the
# same count row (its day, "captured", its source, its campaign): with one row per key, concurrent posts
# of one campaign each update it and hold its lock until their commit has flushed, so they commit one
# after another (issue 25: `Lock:transactionid` in 218 of 234 samples, 86 posts/s, fewer with more
# clients). So each writing transaction adds to rows of its own *slot*: `handoff_count_slot()` takes
# the lowest slot no other running transaction holds (a transaction-level advisory try-lock, which
# never waits) and keeps it for the rest of the transaction. Two transactions that write at the same
# time therefore never share a count row, and a writer alone always writes slot 0, so extra rows only
# appear for keys written concurrently: a key has at most as many rows as writers ran at once (8 for
# 2 gunicorn processes x 4 threads), not one per connection ever seen. Only when every slot is taken
# do writers share one (and wait, as before). Rebuilds write one row per key (slot 0 when alone).
# A key's count is the SUM over its slots: every read sums (`leads.counts.counts_sum`,
# `counts_grouped`, `tally_of`, the campaign pages' `SUM(leads)`), and `reporting.verify` compares sums.
# Rejected: a random or per-backend slot (two writers still meet on a slot by chance, and every key
# grows a row per connection); counting behind a watermark in the worker (pages would lag, and the
# read models would no longer change in the writer's transaction, which `reporting.verify` relies on).
COUNT_SLOTS = 32
COUNT_SLOT_LOCKS = 0x1A7B1  # first key of the two-key advisory locks, unique to count slots (imports use 0x1A7B0)
COUNT_SLOT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION handoff_count_slot() RETURNS smallint AS $$
DECLARE
  taken text := current_setting('handoff.count_slot', true);
BEGIN
  IF taken IS NOT NULL AND taken <> '' THEN
    RETURN taken::smallint;
  END IF;
  FOR candidate IN 0..{COUNT_SLOTS - 1} LOOP
    IF pg_try_advisory_xact_lock({COUNT_SLOT_LOCKS}, candidate) THEN
      PERFORM set_config('handoff.count_slot', candidate::text, true);
      RETURN candidate;
    END IF;
  END LOOP;
  RETURN (pg_backend_pid() % {COUNT_SLOTS})::smallint;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

READ_MODELS = [
    "leads_leadtally",
    "leads_campaigntally",
    "leads_campaignmilestone",
    "leads_campaignmonthmqls",
    "leads_campaignrevenue",
]


def site_zone() -> str:
    """settings.TIME_ZONE as an SQL string's content (a zoneinfo name, checked)."""
    name = settings.TIME_ZONE
    zoneinfo.ZoneInfo(name)
    return name.replace("'", "''")


def trigger_sql() -> str:
    """The trigger functions and triggers, for the migration that installs them (and the rebuild,
    which installs them again for the current settings.TIME_ZONE)."""
    sql = [COUNT_SLOT_FUNCTION, FAMILY_FUNCTIONS]
    for name, (table, operation, referencing, statements) in TRIGGERS.items():
        body = ";\n".join(statements).replace("{zone}", site_zone())
        sql.append(f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
{body};
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS {name} ON {table};
CREATE TRIGGER {name} AFTER {operation} ON {table} {referencing}
  FOR EACH STATEMENT EXECUTE FUNCTION {name}();
""")
    return "".join(sql)


DROP_TRIGGER_SQL = "".join(
    f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();\n"
    for name, (table, *_) in TRIGGERS.items()
)


def read_models_fill(cursor, *, leads: str = "leads_lead", events: str = "leads_leadevent", deals: str = "leads_deal"):
    """Add the counts of `leads`, their timeline `events` and their `deals` (relations: the whole
    tables, or a part holding all the events and deals of its leads) to the read models here."""
    cursor.execute(TALLY_UPSERT.format(changes=NEW_ROWS.format(table=leads)))
    tallies = cursor.rowcount
    cursor.execute(CAMPAIGN_TALLY_UPSERT.format(changes=NEW_ROWS.format(table=leads)))
    cursor.execute(MILESTONES_RECOUNT.format(events=events, leads=leads))
    cursor.execute(MONTHS_RECOUNT.format(events=events, leads=leads, zone=site_zone()))
    cursor.execute(REVENUE_UPSERT.format(changes=_won(deals, 1, leads)))
    return tallies


def lead_tally_rebuild() -> int:
    """Recount every read model here (tallies, milestones, months' MQLs, won deals) from the leads,
    the timeline and the deals; returns the number of tally rows written. Locks those tables against
    changes meanwhile (they wait, then count themselves through the triggers). Installs the triggers
    again, so after a change of settings.TIME_ZONE the months follow the new zone."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE leads_lead, leads_leadevent, leads_deal IN SHARE MODE")
        cursor.execute(trigger_sql())
        for table in READ_MODELS:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant table names
        return read_models_fill(cursor)


def tally_of(*, where: Q, statuses=None, model=LeadTally) -> Subquery:
    """A subquery summing the tallies (`model`: `LeadTally`, or `CampaignTally` for a campaign's leads
    whoever owns them) that match `where` (with OuterRef), optionally only `statuses`; 0 when there are
    none. For annotating campaigns or reps."""
    rows = model.objects.filter(where)
    if statuses is not None:
        rows = rows.filter(status__in=statuses)
    # SUM without GROUP BY: one number for the outer row.
    total = rows.order_by().annotate(n=Func(F("leads"), function="SUM")).values("n")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


class LeadRoot(Func):
    """The live lead at the top of a lead's family: the lead itself unless it was merged away, else the
    lead it was merged into (down a chain of merges). `handoff_lead_root`, installed with the triggers."""

    function = "handoff_lead_root"
    arity = 1
    output_field = BigIntegerField()


class InFamilyOf(Func):
    """True when the lead (first expression) is in the family of the root (second): merged into it,
    directly or down a chain of merges, or the root itself. An index probe per family member."""

    arity = 2
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        lead, lead_params = compiler.compile(self.source_expressions[0])
        root, root_params = compiler.compile(self.source_expressions[1])
        return f"{lead} = ANY(handoff_lead_family({root}))", [*lead_params, *root_params]
