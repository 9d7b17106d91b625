"""The lead lifecycle: which moves are legal, and the one function that makes them.

    new ─► mql ─► handed_off ─► claimed ─► contacted ─► converted
     │      │                     │           │
     │      │                     ├───────────┴─► returned ─► new (re-nurture)
     ▼      ▼                     ▼           ▼        │
             disqualified  ◄──────────────────────────┘

Every status change in Handoff goes through `transition`, which refuses an illegal move with a
clear message and appends the timeline event in the same transaction.
"""

from django.utils import timezone

from .models import Lead, LeadEvent

S = Lead.Status
K = LeadEvent.Kind

# (from, to) -> the event kind that records the move.
ALLOWED: dict[tuple[str, str], str] = {
    (S.NEW, S.MQL): K.QUALIFIED,
    (S.NEW, S.DISQUALIFIED): K.DISQUALIFIED,
    (S.MQL, S.HANDED_OFF): K.HANDED_OFF,
    (S.MQL, S.DISQUALIFIED): K.DISQUALIFIED,
    (S.HANDED_OFF, S.CLAIMED): K.CLAIMED,
    (S.CLAIMED, S.CONTACTED): K.CONTACTED,
    (S.CLAIMED, S.RETURNED): K.RETURNED,
    (S.CLAIMED, S.DISQUALIFIED): K.DISQUALIFIED,
    (S.CONTACTED, S.CONVERTED): K.CONVERTED,
    (S.CONTACTED, S.RETURNED): K.RETURNED,
    (S.CONTACTED, S.DISQUALIFIED): K.DISQUALIFIED,
    # On hold (waiting on the customer) and back to where it was.
    (S.CLAIMED, S.ON_HOLD): K.ON_HOLD,
    (S.CONTACTED, S.ON_HOLD): K.ON_HOLD,
    (S.ON_HOLD, S.CLAIMED): K.RESUMED,
    (S.ON_HOLD, S.CONTACTED): K.RESUMED,
    (S.ON_HOLD, S.RETURNED): K.RETURNED,
    (S.ON_HOLD, S.DISQUALIFIED): K.DISQUALIFIED,
    # An escalation takes a lead from a rep who missed the first contact back to the queue.
    (S.CLAIMED, S.HANDED_OFF): K.REQUEUED,
    (S.RETURNED, S.NEW): K.RENURTURED,
    (S.RETURNED, S.DISQUALIFIED): K.DISQUALIFIED,
    # A duplicate folds into another lead while marketing holds it (never while sales works it).
    (S.NEW, S.MERGED): K.MERGED,
    (S.MQL, S.MERGED): K.MERGED,
    (S.RETURNED, S.MERGED): K.MERGED,
    (S.DISQUALIFIED, S.MERGED): K.MERGED,
}


class TransitionError(Exception):
    """A move the lead's current state (or the actor) does not allow; the message is for the user."""


def can_transition(lead: Lead, to: str) -> bool:
    return (lead.status, to) in ALLOWED


def transition(
    lead: Lead, *, to: str, actor, note: str = "", data: dict | None = None, kind: str | None = None, **changes
) -> LeadEvent:
    """Move `lead` to status `to`, apply `changes` to its fields, and append the timeline event.

    `kind` names the event when the same move means something more specific (a claim made by a
    manager's or the round-robin's assignment is recorded as ASSIGNED).

    The caller holds the row lock (`select_for_update`) and the transaction. Raises TransitionError,
    writing nothing, when the move is not allowed from the lead's current status.
    """
    allowed_kind = ALLOWED.get((lead.status, to))
    if allowed_kind is None:
        raise TransitionError(
            f"This lead is {lead.get_status_display().lower()}; it cannot be moved to "
            f"“{Lead.Status(to).label.lower()}”."
        )
    now = timezone.now()
    from_status = lead.status
    lead.status = to
    lead.status_changed_at = now
    for field, value in changes.items():
        setattr(lead, field, value)
    lead.save(update_fields=["status", "status_changed_at", *changes])
    return LeadEvent.objects.create(
        lead=lead,
        kind=kind or allowed_kind,
        actor=actor,
        from_status=from_status,
        to_status=to,
        note=note,
        data=data or {},
        created_at=now,
    )


def transition_many(leads: list[Lead], *, to: str, actor, notes: list[str]) -> list[LeadEvent]:
    """`transition` for a batch (bulk imports): the same check for every lead, then one UPDATE and
    one INSERT for all of them. The caller holds the transaction; the leads are new or locked."""
    now = timezone.now()
    events = []
    for lead, note in zip(leads, notes, strict=True):
        kind = ALLOWED.get((lead.status, to))
        if kind is None:
            raise TransitionError(f"Lead {lead.pk} is {lead.get_status_display().lower()}; cannot move it to {to}.")
        events.append(
            LeadEvent(
                lead=lead, kind=kind, actor=actor, from_status=lead.status, to_status=to, note=note, created_at=now
            )
        )
        lead.status, lead.status_changed_at = to, now
    # Every lead gets the same values: one plain UPDATE (bulk_update would build a CASE per row).
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(status=to, status_changed_at=now)
    return LeadEvent.objects.bulk_create(events)
