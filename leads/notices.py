"""What a lead's moves tell people: the campaign owner of a return, the reps of an assignment."""

from django.contrib.auth import get_user_model

from leads.models import LeadEvent
from notifications.models import Notification
from notifications.services import notify, time_in_zone
from people.names import person_name
from sla.models import Handoff


def notify_lead_returned(lead_id: int) -> Notification | None:
    """Tell the campaign's owner that sales returned one of its leads, once per return. Meant to run
    after the return commits (`transaction.on_commit(partial(notify_lead_returned, lead.pk))`)."""
    handoff = (
        Handoff.objects.filter(lead_id=lead_id, outcome=Handoff.Outcome.RETURNED)
        .select_related("lead__campaign__owner", "claimed_by")
        .order_by("-closed_at", "-id")
        .first()
    )
    if handoff is None:
        return None
    lead = handoff.lead
    owner = lead.campaign.owner
    if not owner.is_active:
        return None
    rep = handoff.claimed_by
    by = f" by {person_name(rep)}" if rep else ""
    return notify(
        user=owner,
        kind=Notification.Kind.RETURNED,
        title=f"Lead returned: {lead.full_name}",
        body=(
            f"Sales returned lead {lead.full_name} ({lead.company or lead.email}) of campaign "
            f"“{lead.campaign.name}”{by} on {time_in_zone(handoff.closed_at, owner)}.\n"
            f"Reason: {handoff.return_reason or '—'}\n"
            "Re-nurture or disqualify it."
        ),
        lead=lead,
        key=f"returned:{handoff.pk}",
    )


def notify_lead_assigned(event_id: int) -> list[Notification]:
    """Tell the new owner of a lead a manager assigned, and the rep who lost it on a reassignment,
    once per assignment (the keys). Meant to run after the assignment commits."""
    event = LeadEvent.objects.select_related("lead__campaign", "actor").get(pk=event_id)
    lead, by = event.lead, person_name(event.actor, nobody="Handoff")
    users = get_user_model().objects.filter(is_active=True).in_bulk([event.data.get("rep"), event.data.get("from")])
    new_owner, previous = users.get(event.data.get("rep")), users.get(event.data.get("from"))
    about = f"lead {lead.full_name} ({lead.company or lead.email}, campaign “{lead.campaign.name}”)"
    notices = [
        (new_owner, "assigned", f"Assigned to you: {lead.full_name}", f"{by} gave you {about}"),
        (previous, "unassigned", f"Reassigned: {lead.full_name}", f"{by} gave {about} to {person_name(new_owner)}"),
    ]
    told = [
        notify(
            user=user,
            kind=Notification.Kind.ASSIGNED,
            title=title,
            body=f"{body} on {time_in_zone(event.created_at, user)}.",
            lead=lead,
            key=f"{key}:{event.pk}",
        )
        for user, key, title, body in notices
        if user is not None
    ]
    return [notification for notification in told if notification is not None]
