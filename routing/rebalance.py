"""Moving a lead before its clock runs out: a claimed lead whose first contact falls due in the next
hours while its rep is out of office or on time off goes, by the rules' setting, to a rep on shift
with room now (`move`), or its team's manager is told once (`propose`). Run by beat every minute;
each lead in its own transaction, so a storm of them never holds many locks."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leads.assignment import team_manager_of
from leads.models import Lead, RepProfile
from leads.services import lead_assign, lock_lead
from leads.transitions import TransitionError
from notifications.models import Notification
from notifications.services import notify, time_in_zone
from people.names import person_name
from sla.models import Deadline

from .models import RoutingDecision, RuleSet, TimeOff
from .router import WeightedRouter, current_rules

HORIZON = timedelta(hours=8)
BATCH = 200


def _unavailable(now: datetime, until: datetime) -> dict[int, str]:
    """Reps who can't work a lead between now and `until`, with why: out of office, or time off."""
    why = {
        user_id: "is out of office"
        for user_id in RepProfile.objects.filter(is_away=True).values_list("user_id", flat=True)
    }
    for rep_id, ends_on in TimeOff.objects.filter(
        starts_on__lte=until.date(), ends_on__gte=now.date() - timedelta(days=1)
    ).values_list("rep_id", "ends_on"):
        why.setdefault(rep_id, f"is on time off until {ends_on:%a %-d %b}")
    return why


def at_risk(now: datetime, horizon: timedelta = HORIZON) -> tuple[list[Deadline], dict[int, str]]:
    """Running first-contact clocks due within `horizon` whose holder is away or off before then."""
    why = _unavailable(now, now + horizon)
    if not why:
        return [], why
    deadlines = list(
        Deadline.objects.running()
        .filter(
            kind=Deadline.Kind.FIRST_CONTACT,
            breached_at__isnull=True,
            paused_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + horizon,
            owner_id__in=list(why),
            lead__status=Lead.Status.CLAIMED,
        )
        .select_related("lead", "owner")
        .order_by("due_at")[:BATCH]
    )
    return deadlines, why


def _move(deadline: Deadline, why: str, now: datetime) -> bool:
    with transaction.atomic():
        lead = lock_lead(deadline.lead_id)
        if lead.status != Lead.Status.CLAIMED or lead.owner_id != deadline.owner_id:
            return False  # somebody acted meanwhile
        [routed] = WeightedRouter().route_after_breach(
            leads=[lead], excluding=[deadline.owner_id], now=now, trigger=RoutingDecision.Trigger.REBALANCE
        )
        if routed.profile is None:
            return False
        reason = (
            f"Moved before its first-contact deadline (due {time_in_zone(deadline.due_at, routed.profile.user)}): "
            f"{person_name(deadline.owner)} {why}. Routed {routed.note}"
        )
        try:
            lead_assign(lead=lead, rep=routed.profile.user, actor=None, why=reason)
        except TransitionError:
            transaction.set_rollback(True)
            return False
    return True


def _propose(deadline: Deadline, why: str) -> bool:
    manager = team_manager_of(deadline.owner)
    if manager is None:
        return False
    lead = deadline.lead
    return (
        notify(
            user=manager,
            kind=Notification.Kind.WARNING,
            title=f"Move {lead.full_name} before its first contact falls due?",
            body=(
                f"{person_name(deadline.owner)} {why}, and the first contact with {lead.full_name} "
                f"({lead.company or lead.email}) is due {time_in_zone(deadline.due_at, manager)}. "
                "Reassign the lead to a rep on shift, or it will be missed."
            ),
            lead=lead,
            key=f"rebalance:{deadline.pk}",
        )
        is not None
    )


def rebalance_before_breach(*, now: datetime | None = None) -> int:
    """Move (or propose moving) every lead at risk now, as the rules say; returns how many."""
    now = now or timezone.now()
    ruleset = current_rules()
    mode = ruleset.rebalance if ruleset else RuleSet.Rebalance.OFF
    if mode == RuleSet.Rebalance.OFF:
        return 0
    deadlines, why = at_risk(now)
    act = _move if mode == RuleSet.Rebalance.MOVE else None
    done = 0
    for deadline in deadlines:
        reason = why[deadline.owner_id]
        done += act(deadline, reason, now) if act else _propose(deadline, reason)
    return done
