"""Working a lead: the calls, emails, meetings and notes a rep logs, and the next step each one sets.

`activity_log` is the one door for them. The first call, email or meeting on a claimed lead is the
first contact the SLA asks for, so it goes on through `services.lead_log_first_contact` in the same
transaction: the clock stops exactly when the activity is written, or neither happens.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from people.names import person_name
from people.roles import Role, has_role

from . import services
from .models import Activity, Deal, Lead, LeadEvent
from .transitions import TransitionError

S = Lead.Status


def has_open_deal(lead: Lead) -> bool:
    """A converted lead whose deal is still open: the rep keeps logging calls and meetings on it."""
    return lead.status == S.CONVERTED and Deal.objects.filter(lead=lead, stage__in=Deal.OPEN_STAGES).exists()


def may_work(lead: Lead, user) -> bool:
    """Whether `user` may log activities on `lead`, put it on hold or resume it: its owner, or a manager."""
    return lead.owner_id == user.pk or has_role(user, Role.MANAGERS)


def work_refusal(lead: Lead) -> str:
    """What someone `may_work` refuses is told: who owns the lead, or that nobody does yet."""
    if lead.owner_id is None:
        return "Nobody works this lead yet: a rep claims it (or a manager assigns it) first."
    return f"{person_name(lead.owner)} owns this lead: only they, or a manager, can work it."


def _check_next_step(next_step_at: datetime | None, now: datetime) -> None:
    # A next step is still to be done; one already past would land in "Overdue next steps" the moment it is
    # saved. The form works to the minute, so "now" typed in is not refused for its seconds.
    if next_step_at is not None and next_step_at < now.replace(second=0, microsecond=0):
        raise TransitionError("The next step is in the past: pick a time still to come, or leave it empty.")


def _summary(kind: str, outcome: str, note: str) -> str:
    head = Activity.Kind(kind).label + (f": {outcome}" if outcome else "")
    return f"{head}\n{note}" if note else head


def activity_log(
    *, lead: Lead, rep, kind: str, outcome: str = "", note: str = "", next_step_at: datetime | None = None
) -> Activity:
    """Log what `rep` did with `lead`, with an optional next step (aware, not in the past).

    Only the lead's owner or a manager may log, and only while sales works the lead (claimed,
    contacted, on hold). Writes the activity and an ACTIVITY event; the first call, email or meeting
    on a claimed lead also moves it to contacted and meets the first-contact deadline. A note never
    does. Raises TransitionError, writing nothing, when any of that is refused.
    """
    if kind not in Activity.Kind.values:
        raise TransitionError("Choose a call, an email, a meeting or a note.")
    outcome, note = outcome.strip(), note.strip()
    if kind == Activity.Kind.NOTE and not note:
        raise TransitionError("A note needs some text.")
    if next_step_at is not None and timezone.is_naive(next_step_at):
        raise ValueError("next_step_at must be timezone-aware.")
    with transaction.atomic():
        lead = services.lock_lead(lead.pk)
        # Read the clock once the lock is held, so the events line up after whatever held it.
        now = timezone.now()
        _check_next_step(next_step_at, now)
        if not may_work(lead, rep):
            raise TransitionError("Only the rep who owns this lead can log activities on it.")
        if not (lead.is_worked_by_sales or has_open_deal(lead)):
            raise TransitionError(
                f"This lead is {lead.get_status_display().lower()}: activities are logged while sales works "
                "it or its deal is open."
            )
        first_contact = kind in Activity.CONTACT_KINDS and lead.status == S.CLAIMED
        if kind in Activity.CONTACT_KINDS and lead.status == S.ON_HOLD and _never_contacted(lead):
            # Contacted is reached from claimed, not from on hold; resuming behind the rep's back would
            # undo a hold they chose. So they resume first, and the call then stops the clock.
            raise TransitionError(
                "This lead is on hold and has not been contacted yet: resume it, then log the "
                f"{Activity.Kind(kind).label.lower()} so the first-contact clock stops."
            )
        activity = Activity(
            lead=lead, rep=rep, kind=kind, outcome=outcome, note=note, next_step_at=next_step_at, created_at=now
        )
        try:
            activity.full_clean(exclude=["lead", "rep"])
        except ValidationError as exc:
            raise TransitionError(" ".join(exc.messages)) from exc
        activity.save()
        lead.note_activity(activity)
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.ACTIVITY,
            actor=rep,
            note=_summary(kind, outcome, note),
            data={
                "activity": activity.pk,
                "kind": kind,
                "outcome": outcome,
                "next_step_at": next_step_at.isoformat() if next_step_at else None,
            },
            created_at=now,
        )
        if first_contact:
            # Its own atomic block runs as a savepoint inside this one: one commit for both.
            services.lead_log_first_contact(lead=lead, actor=rep, note=_summary(kind, outcome, ""))
    return activity


def _never_contacted(lead: Lead) -> bool:
    """Whether the lead was put on hold before its first contact (hold returns it to claimed)."""
    held = lead.events.filter(kind=LeadEvent.Kind.ON_HOLD).order_by("-created_at", "-id").first()
    return held is not None and held.from_status == S.CLAIMED
