"""Reads the sales pages share: the queue and a rep's own leads."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from handoff.localtime import local_midnight
from handoff.models import Deadline, Handoff

from .models import Activity, Lead, priority_q

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
    if campaign is not None:
        deadlines = deadlines.filter(lead__campaign=campaign)
    if channel:
        deadlines = deadlines.filter(lead__campaign__channel=channel)
    if priority:
        deadlines = deadlines.filter(priority_q(priority, "lead__score"))
    return deadlines.select_related("lead", "lead__campaign", "handoff__handed_off_by").order_by(
        *QUEUE_ORDERS.get(order, QUEUE_ORDERS["urgent"])
    )


@dataclass(frozen=True)
class WorkGroup:
    """One heading of a rep's "My leads": what needs doing, how many leads, and which."""

    key: str
    label: str
    hint: str
    count: int
    leads: list[Lead]


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


def rep_worklist(rep, *, now: datetime) -> list[WorkGroup]:
    """The rep's open leads grouped by what needs doing (see WORK_GROUPS for the precedence), most
    urgent first within each group, with the count of each group.

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
    rows = leads.select_related("campaign").order_by(
        rank,
        F("contact_due_at").asc(nulls_last=True),
        F("next_step_at").asc(nulls_last=True),
        "-status_changed_at",
        "-id",
    )
    by_group: dict[str, list[Lead]] = {key: [] for key, *_ in WORK_GROUPS}
    for lead in rows:
        by_group[lead.work_group].append(lead)
    return [
        WorkGroup(key=key, label=label, hint=hint, count=counts.get(key, 0), leads=by_group[key])
        for key, label, hint in WORK_GROUPS
    ]
