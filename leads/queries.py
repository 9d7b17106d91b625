"""Reads the sales pages share: the queue and a rep's own leads."""

from django.db.models import OuterRef, QuerySet, Subquery

from handoff.models import Deadline

from .models import Lead


def queue() -> QuerySet[Deadline]:
    """Leads waiting for a rep, as their running claim deadlines, most urgent (earliest due) first.

    Served by the partial index `deadline_unclaimed_idx`, so it stays one index scan however many
    leads the database holds.
    """
    return (
        Deadline.objects.running()
        .filter(kind=Deadline.Kind.CLAIM)
        .select_related("lead", "lead__campaign", "handoff__handed_off_by")
        .order_by("due_at", "id")
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
