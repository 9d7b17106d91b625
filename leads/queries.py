"""Reads the sales pages share: the queue and a rep's own leads."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from handoff.localtime import local_midnight
from handoff.models import Deadline, Handoff
from handoff.paging import estimated_count

from .models import Activity, Lead, LeadEvent, LeadTally, priority_q

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


# Precedence, first match wins: each lead is in exactly one group. A lead on hold is paused on purpose,
# so it waits there whatever else is due; anything late comes next, ahead of the first-contact work
# still on time; follow-ups due today after that; "later" holds contacted leads with nothing due today.
WORK_GROUPS = (
    ("on_hold", "On hold", "Paused, with the reason."),
    ("overdue", "Overdue", "First-contact deadline passed, or a next step before today."),
    ("new", "New", "Claimed, nothing logged yet."),
    ("first_contact", "Needs first contact", "Claimed, the first-contact clock is running."),
    ("today", "Follow-up due today", "The next step of the latest activity is today."),
    ("later", "Later", "Contacted; no next step due today."),
)


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

    running_contact = Deadline.objects.running().filter(lead=OuterRef("pk"), kind=Deadline.Kind.FIRST_CONTACT)
    open_handoff = Handoff.objects.filter(lead=OuterRef("pk"), closed_at__isnull=True)
    # Only this pass counts: activities from before the lead was last returned and handed off again are
    # history, not work to do.
    activities = Activity.objects.filter(lead=OuterRef("pk"), created_at__gte=OuterRef("handed_off_at"))
    S = Lead.Status
    conditions = {
        "on_hold": Q(status=S.ON_HOLD),
        # A paused clock is not late while the lead is on hold, whatever its due time reads.
        "overdue": Q(contact_due_at__lt=now, contact_paused_at__isnull=True) | Q(next_step_at__lt=day_starts),
        "new": Q(status=S.CLAIMED, has_activity=False),
        "first_contact": Q(status=S.CLAIMED),
        "today": Q(next_step_at__lt=next_day_starts),
    }
    leads = (
        Lead.objects.filter(owner=rep, status__in=Lead.WORKED_BY_SALES)
        .annotate(
            contact_due_at=Subquery(running_contact.values("due_at")[:1]),
            contact_paused_at=Subquery(running_contact.values("paused_at")[:1]),
            handed_off_at=Subquery(open_handoff.values("handed_off_at")[:1]),
        )
        .annotate(
            has_activity=Exists(activities),
            next_step_at=Subquery(activities.order_by("-created_at", "-id").values("next_step_at")[:1]),
        )
        .annotate(
            work_group=Case(
                *(When(condition, then=Value(key)) for key, condition in conditions.items()),
                default=Value("later"),
            ),
        )
    )
    counts = dict(leads.order_by().values_list("work_group").annotate(n=Count("pk")))
    rank = Case(*(When(work_group=key, then=Value(i)) for i, (key, *_) in enumerate(WORK_GROUPS)))
    urgency = (
        F("contact_due_at").asc(nulls_last=True),
        F("next_step_at").asc(nulls_last=True),
        F("status_changed_at").desc(),
        F("id").desc(),
    )
    rows = leads.select_related("campaign").annotate(
        position=Window(RowNumber(), partition_by=[F("work_group")], order_by=urgency)
    )
    # Each group shows its most urgent `per_group` leads, except the one asked for in full.
    shown = Q(position__lte=per_group) | Q(work_group=show_all) if per_group else Q()
    by_group: dict[str, list[Lead]] = {key: [] for key, *_ in WORK_GROUPS}
    for lead in rows.filter(shown).order_by(rank, "position"):
        by_group[lead.work_group].append(lead)
    return [
        WorkGroup(key=key, label=label, hint=hint, count=counts.get(key, 0), leads=by_group[key])
        for key, label, hint in WORK_GROUPS
    ]
