"""A deal after conversion: moving it through its stages to won or lost.

Open stages (qualified, proposal, negotiation) may move either way, because deals do slip back. Won
and lost are final: a won deal counts towards the rep's target and the campaign's revenue, and
reopening it would silently rewrite figures people have already seen. A deal closed by mistake is
for an admin to correct, on purpose.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from common.localtime import day_text
from people.roles import Role, has_role

from .models import Deal, Lead, LeadEvent
from .services import lock_lead
from .transitions import TransitionError

Stage = Deal.Stage
CLOSED_STAGES = (Stage.WON, Stage.LOST)
LOST_REASON_MAX = Deal._meta.get_field("lost_reason").max_length


def may_move(deal: Deal, user) -> bool:
    """Whether `user` may move `deal`: the rep who owns it, or a manager."""
    return deal.owner_id == user.pk or has_role(user, Role.MANAGERS)


def _lock_open_deal(deal: Deal, actor, *, verb: str) -> tuple[Lead, Deal]:
    """Lock the deal's lead (the lock every change to a lead and its deal queues on) and the deal; refuse
    an actor who is neither its owner nor a manager, and a closed deal. Call inside a transaction."""
    lead = lock_lead(deal.lead_id)
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    if not may_move(deal, actor):
        raise TransitionError(f"Only the rep who owns this deal can {verb} it.")
    if deal.stage in CLOSED_STAGES:
        raise TransitionError(f"This deal is {deal.get_stage_display().lower()}: a closed deal does not {verb}.")
    return lead, deal


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
        lead, deal = _lock_open_deal(deal, actor, verb="move")
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
            # The value travels with the event so the counts (leads.counts) sum what was won then.
            data={
                "from": from_stage,
                "to": stage,
                "value": str(deal.value),
                **({"reason": lost_reason} if lost_reason else {}),
            },
            created_at=now,
        )
    return deal


def deal_edit(*, deal: Deal, actor, value: Decimal, expected_close_date: date | None) -> Deal:
    """Change an open deal's value and expected close date, as the rep learns more.

    Appends a DEAL_UPDATED event saying what changed (nothing changed: no event). Raises
    TransitionError, writing nothing, for a closed deal, a negative value, or an actor who is neither
    the deal's owner nor a manager.
    """
    if value < 0:
        raise TransitionError("A deal's value cannot be negative.")
    with transaction.atomic():
        lead, deal = _lock_open_deal(deal, actor, verb="change")
        changes = {}
        if deal.value != value:
            changes["value"] = [str(deal.value), str(value)]
        if deal.expected_close_date != expected_close_date:
            changes["expected_close_date"] = [
                day.isoformat() if day else None for day in (deal.expected_close_date, expected_close_date)
            ]
        if not changes:
            return deal
        before_day = deal.expected_close_date
        deal.value, deal.expected_close_date = value, expected_close_date
        deal.full_clean()
        deal.save(update_fields=["value", "expected_close_date"])
        said = []
        if "value" in changes:
            said.append(f"value {changes['value'][0]} → {changes['value'][1]} {deal.currency}")
        if "expected_close_date" in changes:
            before, after = (day_text(day) for day in (before_day, expected_close_date))
            said.append(f"expected close {before} → {after}")
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.DEAL_UPDATED, actor=actor, note=sentence("; ".join(said)), data=changes
        )
    return deal


# The board shows deals won or lost in the last this-many days; older ones are on the closed deals list.
RECENT_CLOSED_DAYS = 30


def visible_deals(user) -> QuerySet[Deal]:
    """Deals `user` sees: a rep their own, a manager everyone's."""
    deals = Deal.objects.select_related("lead", "owner")
    if not has_role(user, Role.MANAGERS):
        deals = deals.filter(owner=user)
    return deals


def recent_since(now=None):
    """Closed at or after this moment is "recent" on the board."""
    return (now or timezone.now()) - timedelta(days=RECENT_CLOSED_DAYS)


def sentence(text: str) -> str:
    """`text` with its first letter upper case, the rest as it was ("30 Nov", not "30 nov")."""
    return text[:1].upper() + text[1:]


def open_deals(user) -> QuerySet[Deal]:
    """Open deals `user` sees on the board; soonest close first."""
    return visible_deals(user).filter(stage__in=Deal.OPEN_STAGES).order_by("expected_close_date", "created_at", "pk")


def board_deals(user, *, since) -> QuerySet[Deal]:
    """Every deal on `user`'s board: the open ones, and those won or lost at or after `since`. Open
    deals soonest close first; closed ones (ordered after them by the same key) newest first."""
    on_board = Q(stage__in=Deal.OPEN_STAGES) | Q(stage__in=CLOSED_STAGES, closed_at__gte=since)
    return visible_deals(user).filter(on_board).order_by("expected_close_date", "created_at", "pk")


def closed_deals(user, *, before) -> QuerySet[Deal]:
    """Deals `user` sees that were won or lost before `before` (off the board), newest first."""
    return visible_deals(user).filter(stage__in=CLOSED_STAGES, closed_at__lt=before).order_by("-closed_at", "-pk")


def board_totals(deals: QuerySet[Deal]) -> dict[str, dict]:
    """{stage: {"count": n, "value": sum}} for every stage over `deals`, in one aggregate query."""
    aggregates = {}
    for stage in Stage.values:
        aggregates[f"{stage}_count"] = Count("pk", filter=Q(stage=stage))
        aggregates[f"{stage}_value"] = Sum("value", filter=Q(stage=stage), default=Decimal(0))
    row = deals.order_by().aggregate(**aggregates)
    return {stage: {"count": row[f"{stage}_count"], "value": row[f"{stage}_value"]} for stage in Stage.values}
