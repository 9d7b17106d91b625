"""Reads the sales pages share: the queue and a rep's own leads."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet, Subquery, Sum
from django.utils import timezone

from common.localtime import local_midnight
from common.paging import estimated_count
from sla.models import Deadline

from .models import Lead, LeadEvent, LeadTally, priority_q

QUEUE_ORDERS = {
    "urgent": ("due_at", "id"),
    "score": ("-lead__score", "due_at", "id"),
    "newest": ("-starts_at", "-id"),
}


def queue(*, campaign=None, channel: str = "", priority: str = "", order: str = "urgent") -> QuerySet[Deadline]:
    """Leads waiting for a rep, as their running claim deadlines; most urgent (earliest due) first
    unless another whitelisted `order` is asked for.

    Unfiltered and by urgency it is served by the partial index `deadline_unclaimed_idx`, so it stays
    one index scan however many leads the database holds.
    """
    deadlines = Deadline.objects.running().filter(kind=Deadline.Kind.CLAIM)
    if order == "score":
        # Waiting leads are exactly those with a running claim deadline; saying so lets PostgreSQL
        # walk `lead_waiting_score_idx` in score order and stop after a page, instead of sorting
        # every waiting lead.
        deadlines = deadlines.filter(lead__status=Lead.Status.HANDED_OFF)
    if campaign is not None:
        deadlines = deadlines.filter(lead__campaign=campaign)
    if channel:
        deadlines = deadlines.filter(lead__campaign__channel=channel)
    if priority:
        deadlines = deadlines.filter(priority_q(priority, "lead__score"))
    return deadlines.select_related("lead", "lead__campaign", "handoff__handed_off_by").order_by(
        *QUEUE_ORDERS.get(order, QUEUE_ORDERS["urgent"])
    )


TIMELINE_PAGE = 50


@dataclass(frozen=True)
class TimelinePage:
    """Up to a page of a lead's timeline, newest first; `older` is the `before` of the next page."""

    events: list[LeadEvent]
    older: int | None


def timeline_page(lead: Lead, *, before: int | None = None, size: int = TIMELINE_PAGE) -> TimelinePage:
    """The lead's events (with those of leads merged into it) newest first, starting after the event
    `before` (keyset: a page costs the same however long the history). Two queries."""
    events = lead.timeline().order_by("-created_at", "-id")
    if before is not None:
        anchor = Subquery(LeadEvent.objects.filter(pk=before).values("created_at"))
        events = events.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    rows = list(events[: size + 1])
    return TimelinePage(events=rows[:size], older=rows[size - 1].pk if len(rows) > size else None)


def queue_size(*, campaign=None, channel: str = "", priority: str = "") -> tuple[int, bool]:
    """How many leads wait in the queue with these filters, and whether that is exact.

    Exact from the lead tallies (`leads.tally`: leads waiting per campaign) unless a priority is
    asked for: the score is not tallied, so that count is the planner's estimate."""
    if priority:
        return estimated_count(queue(campaign=campaign, channel=channel, priority=priority)), False
    tallies = LeadTally.objects.filter(status=Lead.Status.HANDED_OFF)
    if campaign is not None:
        tallies = tallies.filter(campaign=campaign)
    if channel:
        tallies = tallies.filter(campaign__channel=channel)
    return tallies.aggregate(n=Sum("leads", default=0))["n"], True


@dataclass(frozen=True)
class WorkGroup:
    """One heading of a rep's "My leads": what needs doing, how many leads, and which (maybe the
    first few of them: see `is_cut`)."""

    key: str
    label: str
    hint: str
    count: int
    leads: list[Lead]

    @property
    def is_cut(self) -> bool:
        return len(self.leads) < self.count

    @property
    def is_late(self) -> bool:
        """Something already slipped here: the page shows its count in red when there is any."""
        return self.key in LATE_GROUPS


# Precedence, first match wins: each lead is in exactly one group. A lead on hold is paused on purpose,
# so it waits there whatever else is due; anything late comes next (the SLA's clock before the rep's
# own plan), ahead of the first-contact work still on time; follow-ups due today after that; then
# contacted leads with nothing planned, which would otherwise slip quietly, ahead of those planned later.
WORK_GROUPS = (
    ("on_hold", "On hold", "Paused, with the reason."),
    ("overdue", "Overdue first contact", "The first-contact deadline has passed."),
    ("overdue_next_step", "Overdue next steps", "The next step of the latest activity was before today."),
    ("new", "New", "Claimed, nothing logged yet."),
    ("first_contact", "Needs first contact", "Claimed, the first-contact clock is running."),
    ("today", "Follow-up due today", "The next step of the latest activity is today."),
    ("no_next_step", "No next step", "Contacted, nothing planned: log what comes next."),
    ("later", "Later", "Contacted; the next step is after today."),
)
LATE_GROUPS = ("overdue", "overdue_next_step")


ALL = 2**31 - 1  # "no limit" for a LIMIT or a position
# The groups of contacted leads, each a range of lead_worklist_idx with a LIMIT of its own.
CONTACTED_GROUPS = ("overdue_next_step", "today", "no_next_step", "later")
GROUP_RANK = {key: rank for rank, (key, *_) in enumerate(WORK_GROUPS)}

# A rep's open leads by WORK_GROUPS' precedence, numbered by urgency within each group and counted
# per group; only the first `per_group` of each group come back (all of `show_all`). What decides a
# lead's group is on the lead (its latest activity's time and next step in this pass: Lead.
# next_step_at) except its first-contact clock, which only a claimed or held lead has running:
# - claimed and on-hold leads are read one by one with one probe of their running first-contact clock;
# - contacted leads (most of a rep's leads) have met it, so their group is a range of next steps in
#   lead_worklist_idx: each group's count is a count of that range, its first page the range's
#   first rows (the index is in the groups' order), whatever the rep holds.
WORKLIST_SQL = """
WITH waiting AS (
  SELECT l.id, l.status, l.status_changed_at, contact.due_at AS contact_due_at,
         contact.paused_at AS contact_paused_at, l.next_step_at, l.last_activity_at IS NOT NULL AS has_activity
    FROM leads_lead l
    LEFT JOIN LATERAL (
      SELECT d.due_at, d.paused_at FROM handoff_deadline d
       WHERE d.lead_id = l.id AND d.kind = 'first_contact' AND d.met_at IS NULL AND d.cancelled_at IS NULL
       LIMIT 1) contact ON true
   WHERE l.owner_id = %(rep)s AND l.status IN ('claimed', 'on_hold')
), waiting_grouped AS (
  SELECT id, status_changed_at, contact_due_at, contact_paused_at, next_step_at, CASE
           WHEN status = 'on_hold' THEN 'on_hold'
           WHEN contact_due_at < %(now)s AND contact_paused_at IS NULL THEN 'overdue'
           WHEN next_step_at < %(day_starts)s THEN 'overdue_next_step'
           WHEN NOT has_activity THEN 'new'
           ELSE 'first_contact'
         END AS work_group
    FROM waiting
), contacted AS NOT MATERIALIZED (
  SELECT id, status_changed_at, next_step_at FROM leads_lead
   WHERE owner_id = %(rep)s AND status = 'contacted'
), contacted_page AS (
  (SELECT *, 'overdue_next_step' AS work_group FROM contacted WHERE next_step_at < %(day_starts)s
    ORDER BY next_step_at, status_changed_at DESC, id DESC LIMIT %(overdue_next_step_rows)s)
  UNION ALL
  (SELECT *, 'today' FROM contacted WHERE next_step_at >= %(day_starts)s AND next_step_at < %(next_day_starts)s
    ORDER BY next_step_at, status_changed_at DESC, id DESC LIMIT %(today_rows)s)
  UNION ALL
  (SELECT *, 'later' FROM contacted WHERE next_step_at >= %(next_day_starts)s
    ORDER BY next_step_at, status_changed_at DESC, id DESC LIMIT %(later_rows)s)
  UNION ALL
  (SELECT *, 'no_next_step' FROM contacted WHERE next_step_at IS NULL
    ORDER BY status_changed_at DESC, id DESC LIMIT %(no_next_step_rows)s)
), group_counts AS (
  SELECT work_group, sum(n)::bigint AS group_count FROM (
    SELECT work_group, count(*) AS n FROM waiting_grouped GROUP BY work_group
    UNION ALL
    SELECT CASE WHEN next_step_at IS NULL THEN 'no_next_step'
                WHEN next_step_at < %(day_starts)s THEN 'overdue_next_step'
                WHEN next_step_at < %(next_day_starts)s THEN 'today'
                ELSE 'later' END, count(*)
      FROM contacted GROUP BY 1
  ) counted GROUP BY work_group
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY work_group ORDER BY contact_due_at ASC NULLS LAST,
                               next_step_at ASC NULLS LAST, status_changed_at DESC, id DESC) AS position
    FROM (SELECT id, status_changed_at, contact_due_at, contact_paused_at, next_step_at, work_group
            FROM waiting_grouped
           UNION ALL
          SELECT id, status_changed_at, NULL, NULL, next_step_at, work_group FROM contacted_page) shown
)
SELECT id, work_group, position, group_count, contact_due_at, contact_paused_at, next_step_at
  FROM ranked JOIN group_counts USING (work_group)
 WHERE position <= %(per_group)s OR work_group = %(show_all)s
"""


def rep_worklist(rep, *, now: datetime, per_group: int | None = None, show_all: str = "") -> list[WorkGroup]:
    """The rep's open leads grouped by what needs doing (see WORK_GROUPS for the precedence), most
    urgent first within each group, with the count of each group. With `per_group`, each group
    holds only its first `per_group` leads, except the group `show_all` names (the page's "Show all").

    "Today" is the calendar day of `now` in the current time zone (the user's, where one is
    activated), so the groups turn over at the user's midnight. Two queries, however many leads.
    """
    if timezone.is_naive(now):
        raise ValueError("now must be timezone-aware.")
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now, zone)
    day_starts = local_midnight(today, zone)
    next_day_starts = local_midnight(today + timedelta(days=1), zone)

    rows = per_group or ALL
    with connection.cursor() as cursor:
        cursor.execute(
            WORKLIST_SQL,
            {
                "rep": rep.pk,
                "statuses": list(Lead.WORKED_BY_SALES),
                "now": now,
                "day_starts": day_starts,
                "next_day_starts": next_day_starts,
                "per_group": rows,
                "show_all": show_all,
                **{f"{group}_rows": ALL if group == show_all else rows for group in CONTACTED_GROUPS},
            },
        )
        shown = {row[0]: row[1:] for row in cursor.fetchall()}
    counts = {group: count for group, _, count, *_ in shown.values()}
    leads = Lead.objects.select_related("campaign").in_bulk(shown)
    by_group: dict[str, list[Lead]] = {key: [] for key, *_ in WORK_GROUPS}
    for pk, (group, _, _, contact_due_at, contact_paused_at, next_step_at) in sorted(
        shown.items(), key=lambda item: (GROUP_RANK[item[1][0]], item[1][1])
    ):
        lead = leads[pk]
        lead.work_group, lead.contact_due_at, lead.contact_paused_at, lead.next_step_at = (
            group,
            contact_due_at,
            contact_paused_at,
            next_step_at,
        )
        by_group[group].append(lead)
    return [
        WorkGroup(key=key, label=label, hint=hint, count=counts.get(key, 0), leads=by_group[key])
        for key, label, hint in WORK_GROUPS
    ]


def deadline_holds(deadline: Deadline) -> list[tuple[datetime, datetime | None]]:
    """The holds that paused `deadline`, as (paused at, resumed at or None while still on hold), in
    order: read from the lead's "SLA clock paused/resumed" events, which name the deadlines they moved."""
    events = LeadEvent.objects.filter(
        lead_id=deadline.lead_id,
        kind__in=[LeadEvent.Kind.CLOCK_PAUSED, LeadEvent.Kind.CLOCK_RESUMED],
        created_at__gte=deadline.starts_at,
        data__deadlines__contains=[{"id": deadline.pk}],
    ).order_by("created_at", "id")
    holds: list[tuple[datetime, datetime | None]] = []
    for kind, created_at in events.values_list("kind", "created_at"):
        if kind == LeadEvent.Kind.CLOCK_PAUSED:
            holds.append((created_at, None))
        elif holds and holds[-1][1] is None:
            holds[-1] = (holds[-1][0], created_at)
    return holds


def deadline_appeal_events(deadline: Deadline) -> list[LeadEvent]:
    """The appeal of `deadline`'s breach and its ruling as the lead's timeline records them, in order
    (the appeals app writes them; the receipt shows them without reaching up to it)."""
    return list(
        LeadEvent.objects.filter(
            lead_id=deadline.lead_id,
            kind__in=[LeadEvent.Kind.APPEALED, LeadEvent.Kind.APPEAL_UPHELD, LeadEvent.Kind.APPEAL_DISMISSED],
            data__deadline=deadline.pk,
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )


def score_when(lead: Lead, moment: datetime) -> int:
    """The lead's score at `moment`: what the first score change after it changed from, else its score now."""
    later = (
        LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.SCORED, created_at__gt=moment)
        .order_by("created_at", "id")
        .values_list("data", flat=True)
        .first()
    )
    return later["from"] if later and "from" in later else lead.score
