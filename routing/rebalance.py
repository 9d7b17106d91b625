"""Moving a lead before its clock runs out, by the rules' setting: to a rep on shift with room now
(`move`), or its team's manager is told once (`propose`). Two kinds of lead are at risk:

- a claimed lead whose first contact falls due in the next hours while its rep is out of office or
  on time off;
- a hot lead waiting in the queue whose claim falls due in the next hours, that routing could give
  to nobody on shift with room (its team closed, away or full) — the clock may run on another
  calendar than the team's, or the team's desks may be full.

Run by beat every minute; each lead in its own transaction, so a storm of them never holds many
locks."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from leads.assignment import active_managers, team_manager_of
from leads.models import Lead, RepProfile
from leads.services import lead_assign, lock_lead
from leads.transitions import TransitionError
from notifications.models import Notification
from notifications.services import notify, time_in_zone
from people.names import person_name
from sla.models import BusinessCalendar, Deadline
from sla.tiers import PRIORITY_FLOORS, Priority

from .models import RoutingDecision, RuleSet, TimeOff
from .router import WeightedRouter, current_rules, matching_rule

HORIZON = timedelta(hours=8)
BATCH = 200


def _away(now: datetime, until: datetime) -> tuple[set[int], dict[int, list[tuple[date, date]]]]:
    """Reps out of office, and the spans of time off that may touch the next hours (a day of slack on
    each side for the zones; each deadline is checked exactly in `_why`)."""
    away = set(RepProfile.objects.filter(is_away=True).values_list("user_id", flat=True))
    spans: dict[int, list[tuple[date, date]]] = {}
    for rep_id, starts_on, ends_on in TimeOff.objects.filter(
        starts_on__lte=until.date() + timedelta(days=1), ends_on__gte=now.date() - timedelta(days=1)
    ).values_list("rep_id", "starts_on", "ends_on"):
        spans.setdefault(rep_id, []).append((starts_on, ends_on))
    return away, spans


def _why(deadline: Deadline, now: datetime, away: set[int], spans: dict) -> str | None:
    """Why the holder can't make this first contact: out of office now, or on time off on a day of
    their calendar between now and the due time; None when they can."""
    if deadline.owner_id in away:
        return "is out of office"
    if deadline.owner_id in spans:
        zone = BusinessCalendar.objects.spec_for(deadline.owner).zone
        first, last = now.astimezone(zone).date(), deadline.due_at.astimezone(zone).date()
        for starts_on, ends_on in spans[deadline.owner_id]:
            if starts_on <= last and ends_on >= first:
                return f"is on time off until {ends_on:%a %-d %b}"
    return None


def _due_within(kind: str, now: datetime, horizon: timedelta):
    """Running, unpaused `kind` clocks not yet breached that fall due in the next `horizon`."""
    return Deadline.objects.running().filter(
        kind=kind, breached_at__isnull=True, paused_at__isnull=True, due_at__gt=now, due_at__lte=now + horizon
    )


def at_risk(now: datetime, horizon: timedelta = HORIZON) -> list[tuple[Deadline, str]]:
    """Running first-contact clocks due within `horizon` whose holder is away, or off on a day between
    now and the due time, each with why."""
    away, spans = _away(now, now + horizon)
    if not away and not spans:
        return []
    deadlines = (
        _due_within(Deadline.Kind.FIRST_CONTACT, now, horizon)
        .filter(owner_id__in=away | set(spans), lead__status=Lead.Status.CLAIMED)
        .select_related("lead", "owner")
        .order_by("due_at")[:BATCH]
    )
    return [(deadline, why) for deadline in deadlines if (why := _why(deadline, now, away, spans))]


NOBODY_FOR_IT = "nobody on shift with room could take it"


def queued_at_risk(now: datetime, horizon: timedelta = HORIZON) -> list[tuple[Deadline, str]]:
    """Running claim clocks of hot leads in the queue due within `horizon`, that routing gave to
    nobody since their hand-off, each with why."""
    nobody = RoutingDecision.objects.filter(
        lead=OuterRef("lead"), chosen__isnull=True, decided_at__gte=OuterRef("handoff__handed_off_at")
    )
    deadlines = (
        _due_within(Deadline.Kind.CLAIM, now, horizon)
        .filter(
            lead__status=Lead.Status.HANDED_OFF,
            lead__owner__isnull=True,
            lead__score__gte=PRIORITY_FLOORS[Priority.HOT],
        )
        .filter(Exists(nobody))
        .select_related("lead__campaign")
        .order_by("due_at")[:BATCH]
    )
    return [(deadline, NOBODY_FOR_IT) for deadline in deadlines]


def _move(deadline: Deadline, why: str, now: datetime) -> bool:
    """Give the lead to a rep on shift with room, through routing (its rules, the company's rep, the
    turns), never to the rep who holds it; False when nobody can take it or someone acted meanwhile."""
    with transaction.atomic():
        lead = lock_lead(deadline.lead_id)
        if lead.status not in (Lead.Status.CLAIMED, Lead.Status.HANDED_OFF) or lead.owner_id != deadline.owner_id:
            return False  # somebody acted meanwhile
        [routed] = WeightedRouter().route_after_breach(
            leads=[lead], excluding=[deadline.owner_id], now=now, trigger=RoutingDecision.Trigger.REBALANCE
        )
        if routed.profile is None:
            return False
        kind = "first-contact" if deadline.kind == Deadline.Kind.FIRST_CONTACT else "claim"
        holder = f"{person_name(deadline.owner)} {why}" if deadline.owner else f"In the queue, {why}"
        reason = (
            f"Moved before its {kind} deadline (due {time_in_zone(deadline.due_at, routed.profile.user)}): "
            f"{holder}. Routed {routed.note}"
        )
        try:
            lead_assign(lead=lead, rep=routed.profile.user, actor=None, why=reason)
        except TransitionError:
            transaction.set_rollback(True)
            return False
    return True


def _manager_for(deadline: Deadline, ruleset: RuleSet | None):
    """Who hears of a lead at risk: the holder's team manager; for a queued lead, the manager of the
    team its rule names, else the first active manager."""
    if deadline.owner_id:
        return team_manager_of(deadline.owner)
    rule = matching_rule(deadline.lead, ruleset)
    if rule and (manager := active_managers().filter(managed_teams=rule.team_id).first()):
        return manager
    return active_managers().first()


def _propose(deadline: Deadline, why: str, ruleset: RuleSet | None) -> bool:
    manager = _manager_for(deadline, ruleset)
    if manager is None:
        return False
    lead = deadline.lead
    kind = deadline.get_kind_display().lower()
    holder = f"{person_name(deadline.owner)} {why}" if deadline.owner else f"It waits in the queue: {why}"
    return (
        notify(
            user=manager,
            kind=Notification.Kind.WARNING,
            title=f"Move {lead.full_name} before its {kind} falls due?",
            body=(
                f"{holder}, and the {kind} of {lead.full_name} ({lead.company or lead.email}) is due "
                f"{time_in_zone(deadline.due_at, manager)}. Assign the lead to a rep on shift, or it will be missed."
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
    done = 0
    for deadline, why in at_risk(now) + queued_at_risk(now):
        done += _move(deadline, why, now) if mode == RuleSet.Rebalance.MOVE else _propose(deadline, why, ruleset)
    return done
