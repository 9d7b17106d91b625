"""Reads the sales pages share: the queue and a rep's own leads."""

from django.db.models import OuterRef, QuerySet, Subquery

from handoff.models import Deadline

from .models import Lead, priority_q

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


def rep_open_leads(rep) -> QuerySet[Lead]:
    """The rep's leads still being worked, each with its running first-contact deadline (if any)."""
    running_contact = Deadline.objects.running().filter(lead=OuterRef("pk"), kind=Deadline.Kind.FIRST_CONTACT)
    return (
        Lead.objects.filter(owner=rep, status__in=Lead.WORKED_BY_SALES)
        .select_related("campaign")
        .annotate(
            contact_due_at=Subquery(running_contact.values("due_at")[:1]),
            contact_breached_at=Subquery(running_contact.values("breached_at")[:1]),
        )
        .order_by("contact_due_at", "-status_changed_at")
    )
