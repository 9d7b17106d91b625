"""A deal after conversion: moving it through its stages to won or lost.

Open stages (qualified, proposal, negotiation) may move either way, because deals do slip back. Won
and lost are final: a won deal counts towards the rep's target and the campaign's revenue, and
reopening it would silently rewrite figures people have already seen. A deal closed by mistake is
for an admin to correct, on purpose.
"""

from django.db import transaction
from django.utils import timezone

from handoff.roles import Role, has_role

from .models import Deal, LeadEvent
from .services import lock_lead
from .transitions import TransitionError

Stage = Deal.Stage
CLOSED_STAGES = (Stage.WON, Stage.LOST)
LOST_REASON_MAX = Deal._meta.get_field("lost_reason").max_length


def may_move(deal: Deal, user) -> bool:
    """Whether `user` may move `deal`: the rep who owns it, or a manager."""
    return deal.owner_id == user.pk or has_role(user, Role.MANAGERS)


def deal_move(*, deal: Deal, actor, stage: str, lost_reason: str = "") -> Deal:
    """Move an open deal to another stage; won and lost close it (closed_at), lost needs a reason.

    Appends a DEAL_STAGE event to the lead's timeline (from, to, reason). Raises TransitionError,
    writing nothing, for an unknown or unchanged stage, a closed deal, a lost deal without a
    reason, or an actor who is neither the deal's owner nor a manager.
    """
    if stage not in Stage.values:
        raise TransitionError("Choose one of the deal stages.")
    # A reason typed before switching the stage away from lost is not the deal's reason.
    lost_reason = lost_reason.strip() if stage == Stage.LOST else ""
    if stage == Stage.LOST and not lost_reason:
        raise TransitionError("Say why the deal was lost.")
    if len(lost_reason) > LOST_REASON_MAX:
        raise TransitionError(f"Keep the lost reason under {LOST_REASON_MAX} characters.")
    with transaction.atomic():
        # The lead's lock is the one every change to a lead and its deal queues on.
        lead = lock_lead(deal.lead_id)
        deal = Deal.objects.select_for_update().get(pk=deal.pk)
        if not may_move(deal, actor):
            raise TransitionError("Only the rep who owns this deal can move it.")
        if deal.stage in CLOSED_STAGES:
            raise TransitionError(f"This deal is {deal.get_stage_display().lower()}: a closed deal does not move.")
        if deal.stage == stage:
            raise TransitionError(f"The deal is already in “{deal.get_stage_display()}”.")
        now = timezone.now()
        from_stage = deal.stage
        deal.stage = stage
        deal.lost_reason = lost_reason
        deal.closed_at = now if stage in CLOSED_STAGES else None
        deal.save(update_fields=["stage", "lost_reason", "closed_at"])
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.DEAL_STAGE,
            actor=actor,
            note=f"{Stage(from_stage).label} → {Stage(stage).label}",
            # The value travels with the event so the counts (handoff.counts) sum what was won then.
            data={
                "from": from_stage,
                "to": stage,
                "value": str(deal.value),
                **({"reason": lost_reason} if lost_reason else {}),
            },
            created_at=now,
        )
    return deal
