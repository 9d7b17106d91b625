"""Read models checked against a rebuild, cheaply: a part of each recounted with the rebuild's own SQL.

Every read model is kept by triggers in the writer's transaction (see `reporting.rebuild`), so it can
only drift if something goes round them: a trigger dropped or disabled, a bulk load with triggers off,
rows edited by hand, a restore. `read_models_verify` recounts

- `EventCount` for the local days from `days` ago to today, and `DeadlineOutcome` for the UTC hours
  from the same moment on (the deadlines decided since, running ones included), each from the
  timeline or the deadlines of that time alone;
- `EventMonthCount`, `EventWeekCount`, `DeadlineOutcomeMonth` and `DeadlineOutcomeWeek` for the
  months those days fall in (and their weeks), from the stored daily and hourly rows of those months
  (what their triggers keep them equal to);
- `AcceptanceDay` for the same days, from the hand-offs of those days and their claim clocks;
- `EscalationDay` for the same days, from the steps of the deadlines due on those days;
- `MetTimeDay` for the same days, from the deadlines decided since, and `MetTimeMonth` for their
  months from the stored daily rows of those months;
- the leads' read models (`LeadTally`, `CampaignMilestone`, `CampaignMonthMqls`, `CampaignRevenue`),
  whose rows are per campaign, for a sample of campaigns (all of them if asked), from those
  campaigns' leads, events and deals alone;

into temporary tables of the same names (`pg_temp` comes first in PostgreSQL's search path, so the
rebuild's statements fill them unchanged) and compares them row by row with the stored rows of the
same part, all in one REPEATABLE READ snapshot so that writes meanwhile cannot look like drift.
`manage.py rebuild_counts` repairs what it finds.
"""

import datetime
import logging
import random
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign
from common.localtime import local_midnight
from leads.assignment import active_managers
from leads.counts import COUNTS_UPSERT, counts_select, months_upsert, weeks_upsert
from leads.models import LeadEvent
from leads.tally import READ_MODELS, read_models_fill
from notifications.models import Notification
from notifications.services import notify
from reporting.acceptance import acceptance_fill
from reporting.escalations import escalations_fill
from reporting.met_times import met_times_fill
from reporting.met_times import months_upsert as met_time_months_upsert
from reporting.outcomes import outcome_months_upsert, outcome_weeks_upsert, outcomes_upsert
from sla.models import Deadline

logger = logging.getLogger(__name__)

# Each read model's table and the columns that key a row (the rest are its values).
KEYS = {
    "handoff_eventcount": ("day", "kind", "subgroup", "campaign_id", "user_id"),
    "handoff_deadlineoutcome": ("hour", "kind", "campaign_id", "owner_id"),
    "leads_eventmonthcount": ("month", "side", "kind", "subgroup", "campaign_id", "user_id"),
    "leads_eventweekcount": ("week", "side", "kind", "subgroup", "campaign_id", "user_id"),
    "reporting_deadlineoutcomemonth": ("month", "per", "kind", "campaign_id", "owner_id"),
    "reporting_deadlineoutcomeweek": ("week", "per", "kind", "campaign_id", "owner_id"),
    "reporting_acceptanceday": ("day", "campaign_id"),
    "reporting_escalationday": ("day", "kind", "owner_id", "campaign_id"),
    "reporting_mettimeday": ("day", "kind", "bucket"),
    "reporting_mettimemonth": ("month", "kind", "bucket"),
    "leads_leadtally": ("campaign_id", "owner_id", "status"),
    "leads_campaigntally": ("campaign_id", "status"),
    "leads_campaignmilestone": ("campaign_id", "milestone"),
    "leads_campaignmonthmqls": ("campaign_id", "day"),
    "leads_campaignrevenue": ("campaign_id",),
}
# How many campaigns' leads are recounted when not all are asked for.
SAMPLE_CAMPAIGNS = 5


@dataclass(frozen=True)
class Drift:
    """One row of a read model that differs from its rebuild: the stored values and the recounted
    ones (None where there is no such row; a row of zeros counts as none)."""

    table: str
    key: tuple
    stored: tuple | None
    rebuilt: tuple | None

    def __str__(self) -> str:
        return f"{self.table} {self.key}: stored {self.stored}, rebuilt {self.rebuilt}"


def _listed(values) -> str:
    return ",".join("'" + value.replace("'", "''") + "'" for value in values)


def _rows(cursor, table: str, where: str, params: list, *, schema: str = "") -> dict[tuple, tuple]:
    """The rows of `table` (in `schema`) meeting `where`, as {key: values}, a key's slots summed (the
    tables that have them: `leads.tally.COUNT_SLOT_FUNCTION`), keys of zeros left out."""
    keys = KEYS[table]
    relation = f"{schema}.{table}" if schema else table
    cursor.execute(f"SELECT * FROM {relation} WHERE {where}", params)  # noqa: S608 - our tables, conditions
    names = [column.name for column in cursor.description]
    summed: dict[tuple, list] = {}
    for row in cursor.fetchall():
        values = dict(zip(names, row, strict=True))
        counted = [value for name, value in values.items() if name not in keys and name not in ("id", "slot")]
        key = tuple(values[name] for name in keys)
        if key in summed:
            summed[key] = [a + b for a, b in zip(summed[key], counted, strict=True)]
        else:
            summed[key] = counted
    return {key: tuple(counted) for key, counted in summed.items() if any(counted)}


def read_models_verify(*, days: int = 2, campaigns: list[int] | None = None, now=None) -> list[Drift]:
    """Recount the recent part of the timeline's and the deadlines' read models, and the leads' read
    models of `campaigns` (default: a random sample of SAMPLE_CAMPAIGNS), and return every row that
    differs from what is stored. An empty list: no drift found."""
    now = now or timezone.now()
    first_day = timezone.localdate(now, timezone.get_default_timezone()) - datetime.timedelta(days=days)
    since = local_midnight(first_day, timezone.get_default_timezone())
    since_hour = since.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    month_start = local_midnight(first_day.replace(day=1), timezone.get_default_timezone())
    if campaigns is None:
        every = list(Campaign.objects.values_list("pk", flat=True))
        campaigns = random.sample(every, min(SAMPLE_CAMPAIGNS, len(every)))
    # What each table's part is: (condition on the stored rows, its parameters).
    parts = {
        "handoff_eventcount": ("day >= %s", [first_day]),
        "handoff_deadlineoutcome": ("hour >= %s", [since_hour]),
        "leads_eventmonthcount": ("month >= %s", [first_day.replace(day=1)]),
        "leads_eventweekcount": ("week >= %s", [first_day.replace(day=1)]),
        "reporting_deadlineoutcomemonth": ("month >= %s", [first_day.replace(day=1)]),
        "reporting_deadlineoutcomeweek": ("week >= %s", [first_day.replace(day=1)]),
        "reporting_acceptanceday": ("day >= %s", [first_day]),
        "reporting_escalationday": ("day >= %s", [first_day]),
        "reporting_mettimeday": ("day >= %s", [first_day]),
        "reporting_mettimemonth": ("month >= %s", [first_day.replace(day=1)]),
        **{table: ("campaign_id = ANY(%s)", [campaigns]) for table in READ_MODELS},
    }
    ids = ",".join(str(int(pk)) for pk in campaigns) or "NULL"
    # The parts to recount, as views the rebuild's statements read in place of the whole tables. Only
    # our own values are written in (dates, integer ids).
    event_kinds, deadline_kinds = _listed(LeadEvent.Kind.values), _listed(Deadline.Kind.values)
    views = {
        "verify_events": f"SELECT * FROM leads_leadevent WHERE kind IN ({event_kinds}) "  # noqa: S608
        f"AND created_at >= '{since.isoformat()}'",
        "verify_deadlines": f"SELECT * FROM handoff_deadline WHERE kind IN ({deadline_kinds}) "  # noqa: S608
        f"AND LEAST(met_at, due_at) >= '{since_hour.isoformat()}'",
        "verify_escalations": "SELECT e.* FROM handoff_escalation e JOIN handoff_deadline d ON d.id = e.deadline_id "  # noqa: S608
        f"WHERE d.due_at >= '{since.isoformat()}'",
        "verify_handoffs": f"SELECT * FROM handoff_handoff WHERE handed_off_at >= '{since.isoformat()}'",  # noqa: S608
        "verify_leads": f"SELECT * FROM leads_lead WHERE campaign_id IN ({ids})",  # noqa: S608
        # With the events of leads merged into them from other campaigns (their MQLs are the survivor's).
        "verify_lead_events": "SELECT e.* FROM leads_leadevent e WHERE e.lead_id IN (SELECT id FROM verify_leads "
        "UNION SELECT id FROM leads_lead WHERE merged_into_id IS NOT NULL "
        "AND handoff_lead_root(id) IN (SELECT id FROM verify_leads))",
        "verify_deals": "SELECT d.* FROM leads_deal d JOIN verify_leads l ON l.id = d.lead_id",
        # The stored daily rows of the months checked (named with their schema: the temporary table of
        # the same name holds the recount).
        "verify_event_days": "SELECT * FROM public.handoff_eventcount "  # noqa: S608
        f"WHERE day >= '{first_day.replace(day=1).isoformat()}'",
        "verify_outcome_hours": "SELECT * FROM public.handoff_deadlineoutcome "  # noqa: S608
        f"WHERE hour >= '{month_start.isoformat()}'",
        "verify_met_time_days": "SELECT * FROM public.reporting_mettimeday "  # noqa: S608
        f"WHERE day >= '{first_day.replace(day=1).isoformat()}'",
    }
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # inside a caller's transaction (a test's) its snapshot rules
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        stored = {table: _rows(cursor, table, *part) for table, part in parts.items()}
        for table in parts:
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (LIKE {table} INCLUDING ALL) ON COMMIT DROP")
        for name, sql in views.items():
            cursor.execute(f"CREATE TEMPORARY VIEW {name} AS {sql}")
        cursor.execute(COUNTS_UPSERT.format(select=counts_select("verify_events")))
        cursor.execute(outcomes_upsert("verify_deadlines"))
        cursor.execute(months_upsert(("verify_event_days", "")))
        cursor.execute(weeks_upsert(("verify_event_days", "")))
        cursor.execute(outcome_months_upsert("verify_outcome_hours"))
        cursor.execute(outcome_weeks_upsert("verify_outcome_hours"))
        acceptance_fill(cursor, handoffs="verify_handoffs")
        escalations_fill(cursor, escalations="verify_escalations")
        met_times_fill(cursor, deadlines="verify_deadlines")
        cursor.execute(met_time_months_upsert(("verify_met_time_days", "")))
        read_models_fill(cursor, leads="verify_leads", events="verify_lead_events", deals="verify_deals")
        rebuilt = {table: _rows(cursor, table, *part, schema="pg_temp") for table, part in parts.items()}
        # Nothing to keep: the temporary tables and views go with the rollback.
        transaction.set_rollback(True)
    drifts = []
    for table in parts:
        before, after = stored[table], rebuilt[table]
        for key in sorted(before.keys() | after.keys(), key=str):
            if before.get(key) != after.get(key):
                drifts.append(Drift(table, key, before.get(key), after.get(key)))
    return drifts


# Drifted rows written to the log one by one; the rest are counted.
LOGGED_DRIFTS = 50


def read_models_check(*, days: int = 2, campaigns: list[int] | None = None, now=None) -> list[Drift]:
    """`read_models_verify`, and when rows differ: each written to the log (up to LOGGED_DRIFTS) and
    every active manager told, once a day (the notification's key names the local day), which read
    models differ and that `manage.py rebuild_counts` repairs them. Returns the drifts."""
    now = now or timezone.now()
    drifts = read_models_verify(days=days, campaigns=campaigns, now=now)
    if not drifts:
        logger.info("Read models checked against a rebuild: no difference")
        return drifts
    for drift in drifts[:LOGGED_DRIFTS]:
        logger.error("Read model out of step with its rebuild: %s", drift)
    tables = sorted({drift.table for drift in drifts})
    logger.error("%d read model rows differ from a rebuild (%s); run manage.py rebuild_counts", len(drifts), tables)
    day = timezone.localdate(now, timezone.get_default_timezone())
    for manager in active_managers():
        notify(
            user=manager,
            kind=Notification.Kind.COUNTS,
            title="Dashboard counts are out of step with the records",
            body=(
                f"The daily check recounted part of the dashboard's counts and found {len(drifts)} rows that differ "
                f"from the records ({', '.join(tables)}). Until someone runs `manage.py rebuild_counts`, figures "
                "on the SLA dashboard and the campaign pages may be wrong."
            ),
            key=f"read-models-drift:{day.isoformat()}",
        )
    return drifts
