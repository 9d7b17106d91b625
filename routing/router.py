"""The weighted round-robin with shifts, and its record.

Among the reps of teams that assign automatically, only those on shift (`routing.shifts`) with room
under their capacity can get a lead. Of those, the one furthest behind their share goes first: each
rep's `routing_pass` grows by 1/weight with every lead routed to them (stride scheduling), so over
any run of leads a rep of weight 2 gets two for a colleague's one, within one lead. A rep back from
time off, out of office or a full desk has fallen behind; they catch up by at most CATCH_UP leads'
worth (their pass is raised to within CATCH_UP of the others'), so they are neither starved nor
flooded. Ties go to the rep who waited longest, then the oldest profile.

Concurrency as before: the pick is locked with SKIP LOCKED first (simultaneous hand-offs spread over
reps) and the rep's open leads are counted again after the lock. Every routing writes a
`RoutingDecision` with every rep considered and why each was passed over.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from leads.assignment import Routed, open_lead_count
from leads.models import Lead, RepProfile
from leads.services import lead_route_waiting
from people.names import person_name
from people.roles import Role

from .models import RoutingDecision
from .shifts import Shift, Verdict, shifts_at

CATCH_UP = 2.0
SAID_IN_NOTE = 5  # reps passed over that the timeline names; the routing log keeps them all

EXCLUDED = "missed_deadline"
AT_CAPACITY = "at_capacity"
CHOSEN = "chosen"
NOT_THEIR_TURN = "not_their_turn"
SAID = {
    Verdict.AWAY: "out of office",
    Verdict.TIME_OFF: "time off",
    Verdict.OFF_SHIFT: "off shift",
    AT_CAPACITY: "at capacity",
    EXCLUDED: "missed this lead's deadline",
    NOT_THEIR_TURN: "not their turn",
    CHOSEN: "chosen",
}


# What routing reads of each rep, their user and team: no more, as it reads hundreds at a time.
PROFILE_FIELDS = (
    "user__username",
    "user__first_name",
    "user__last_name",
    "team__name",
    "team__calendar_id",
    "capacity",
    "is_away",
    "weight",
    "routing_pass",
    "last_assigned_at",
)


@dataclass
class Candidate:
    profile: RepProfile
    held: int
    shift: Shift
    verdict: str = ""
    detail: str = ""


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%a %-d %b %H:%M %Z}" if moment else ""


def candidates_at(now: datetime) -> list[Candidate]:
    """Every rep of a team that assigns automatically, with open leads and shift: a fixed number of queries."""
    sales = get_user_model().objects.filter(groups__name=Role.SALES, is_active=True)
    profiles = list(
        RepProfile.objects.filter(team__auto_assign=True, user__in=sales)
        .annotate(held=Count("user__owned_leads", filter=Q(user__owned_leads__status__in=Lead.WORKED_BY_SALES)))
        .select_related("user", "team")
        .only(*PROFILE_FIELDS)
        .order_by("pk")
    )
    shifts = shifts_at(profiles, now)
    return [Candidate(profile, profile.held, shifts[profile.user_id]) for profile in profiles]


def _judge(candidate: Candidate, exclude: int | None) -> None:
    profile = candidate.profile
    if profile.user_id == exclude:
        candidate.verdict = EXCLUDED
    elif not candidate.shift.on:
        candidate.verdict = candidate.shift.verdict
        if candidate.shift.back:
            candidate.detail = f"back {_when(candidate.shift.back)}"
    elif candidate.held >= profile.capacity:
        candidate.verdict, candidate.detail = AT_CAPACITY, f"{candidate.held} of {profile.capacity} open leads"
    else:
        candidate.verdict = NOT_THEIR_TURN


def _turn_order(eligible: list[Candidate]) -> list[Candidate]:
    """Furthest behind their share first; a rep far behind counts as only CATCH_UP behind the rest."""
    if len(eligible) > 1:
        passes = sorted(c.profile.routing_pass for c in eligible)
        for candidate in eligible:
            # The lowest pass of the others: the second lowest for the one who holds the lowest.
            others_min = passes[1] if candidate.profile.routing_pass == passes[0] else passes[0]
            candidate.profile.routing_pass = max(candidate.profile.routing_pass, others_min - CATCH_UP)
    return sorted(
        eligible,
        key=lambda c: (
            c.profile.routing_pass,
            c.profile.last_assigned_at is not None,
            c.profile.last_assigned_at,
            c.profile.pk,
        ),
    )


def _take_turn(profile: RepProfile, now: datetime) -> None:
    """The profile's turn taken, in memory: the caller saves it."""
    profile.routing_pass += 1 / profile.weight
    profile.last_assigned_at = now


def _lock(candidate: Candidate, *, skip_locked: bool) -> RepProfile | None:
    """The candidate's profile locked, if still theirs to take: not away, room after a fresh count."""
    locked = (
        RepProfile.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("user")
        .filter(pk=candidate.profile.pk, is_away=False, team__auto_assign=True)
        .first()
    )
    if locked is None or open_lead_count(locked.user) >= locked.capacity:
        return None
    locked.routing_pass = candidate.profile.routing_pass  # with the catch-up applied
    return locked


def _note(chosen: Candidate | None, judged: list[Candidate]) -> str:
    passed = [c for c in judged if c.verdict not in (CHOSEN, NOT_THEIR_TURN)]
    said = "; ".join(
        f"{person_name(c.profile.user)} ({SAID[c.verdict]}{', ' + c.detail if c.detail else ''})"
        for c in passed[:SAID_IN_NOTE]
    )
    if len(passed) > SAID_IN_NOTE:
        said += f"; and {len(passed) - SAID_IN_NOTE} more (see the routing log)"
    if chosen is None:
        return "Nobody could take it: " + (said or "no team assigns automatically") + "."
    profile = chosen.profile
    text = f"to {person_name(profile.user)}, on shift with room, furthest behind their share (weight {profile.weight})"
    return text + (f". Passed over: {said}." if said else ".")


def _decision(lead: Lead, trigger: str, chosen: Candidate | None, judged: list[Candidate], note: str, now):
    backs = [c.shift.back for c in judged if c.verdict in (Verdict.OFF_SHIFT, Verdict.TIME_OFF) and c.shift.back]
    return RoutingDecision(
        lead=lead,
        decided_at=now,
        trigger=trigger,
        chosen=chosen.profile.user if chosen else None,
        team_id=chosen.profile.team_id if chosen else None,
        considered=_considered(judged),
        note=note,
        retry_at=None if chosen or not backs else min(backs),
    )


def _considered(judged: list[Candidate]) -> list[dict]:
    """Every rep considered, compactly: one entry per rep with a reason of their own (chosen, away,
    time off, at capacity, the rep who missed the deadline); one per team closed (its reps off shift
    together); one count of the reps on shift whose turn it was not. Hundreds of reps make a few
    dozen entries, not hundreds, on every lead."""
    entries, closed, waiting_turn = [], {}, 0
    for c in judged:
        team = c.profile.team.name if c.profile.team else ""
        if c.verdict == NOT_THEIR_TURN:
            waiting_turn += 1
        elif c.verdict == Verdict.OFF_SHIFT:
            entry = closed.setdefault(team, {"team": team, "verdict": c.verdict, "said": SAID[c.verdict], "reps": 0})
            entry["reps"] += 1
            entry["detail"] = c.detail
        else:
            entries.append(
                {
                    "rep": c.profile.user_id,
                    "name": person_name(c.profile.user),
                    "team": team,
                    "verdict": c.verdict,
                    "said": SAID[c.verdict],
                    "detail": c.detail,
                }
            )
    entries += closed.values()
    if waiting_turn:
        entries.append({"verdict": NOT_THEIR_TURN, "said": SAID[NOT_THEIR_TURN], "reps": waiting_turn})
    return entries


def _record(decisions: list[RoutingDecision]) -> None:
    """Write a set's decisions in two statements. Only a lead's latest decision may wait for a shift:
    the beat job retries that one."""
    RoutingDecision.objects.filter(lead__in=[d.lead_id for d in decisions], retry_at__isnull=False).update(
        retry_at=None
    )
    RoutingDecision.objects.bulk_create(decisions)


def _judged(candidates: list[Candidate], exclude: int | None) -> tuple[list[Candidate], list[Candidate]]:
    """Fresh verdicts for one lead, and the eligible reps in turn order."""
    judged = [Candidate(c.profile, c.held, c.shift) for c in candidates]
    for candidate in judged:
        _judge(candidate, exclude)
    return judged, _turn_order([c for c in judged if c.verdict == NOT_THEIR_TURN])


class WeightedRouter:
    """The router the lead services call (registered in RoutingConfig.ready)."""

    def route(self, *, lead: Lead, now: datetime, waiting: bool = False) -> Routed:
        """One lead: the eligible reps tried in turn order, each locked with SKIP LOCKED first, so
        simultaneous hand-offs spread over the reps instead of queueing on one."""
        trigger = RoutingDecision.Trigger.SHIFT_START if waiting else RoutingDecision.Trigger.HAND_OFF
        judged, eligible = _judged(candidates_at(now), None)
        chosen = None
        for skip_locked in (True, False):
            for candidate in eligible:
                if (profile := _lock(candidate, skip_locked=skip_locked)) is not None:
                    _take_turn(profile, now)
                    profile.save(update_fields=["routing_pass", "last_assigned_at"])
                    candidate.profile, candidate.verdict, chosen = profile, CHOSEN, candidate
                    break
            if chosen:
                break
        note = _note(chosen, judged)
        _record([_decision(lead, trigger, chosen, judged, note, now)])
        return Routed(chosen.profile if chosen else None, note)

    def route_after_breach(self, *, leads: list[Lead], excluding: list[int | None], now: datetime) -> list[Routed]:
        """A set of leads, as if routed one after another: the reps on shift are locked once for the
        set (in id order, waiting: two sets never deadlock), their open leads counted after the lock,
        and each pick takes its turn in memory; the same statements for 4 leads or 400."""
        if not leads:
            return []
        candidates = candidates_at(now)
        on_shift = [c for c in candidates if c.shift.on]
        locked = {
            profile.pk: profile
            for profile in RepProfile.objects.select_for_update(of=("self",))
            .select_related("user", "team")
            .filter(pk__in=[c.profile.pk for c in on_shift], is_away=False, team__auto_assign=True)
            .order_by("pk")
        }
        held = dict(
            Lead.objects.filter(owner_id__in=[p.user_id for p in locked.values()], status__in=Lead.WORKED_BY_SALES)
            .order_by()
            .values_list("owner_id")
            .annotate(Count("pk"))
        )
        for candidate in candidates:
            if candidate.profile.pk in locked:
                candidate.profile = locked[candidate.profile.pk]
                candidate.held = held.get(candidate.profile.user_id, 0)
            elif candidate.shift.on:  # away or no longer automatic since it was read: not a candidate
                candidate.shift = Shift(Verdict.AWAY)
        routed, decisions, taken = [], [], {}
        for lead, exclude in zip(leads, excluding, strict=True):
            judged, eligible = _judged(candidates, exclude)
            chosen = eligible[0] if eligible else None
            if chosen:
                _take_turn(chosen.profile, now)
                chosen.verdict = CHOSEN
                taken[chosen.profile.pk] = chosen.profile
                next(c for c in candidates if c.profile.pk == chosen.profile.pk).held += 1
            note = _note(chosen, judged)
            decisions.append(_decision(lead, RoutingDecision.Trigger.ESCALATION, chosen, judged, note, now))
            routed.append(Routed(chosen.profile if chosen else None, note))
        RepProfile.objects.bulk_update(taken.values(), ["routing_pass", "last_assigned_at"])
        _record(decisions)
        return routed


RETRY_BATCH = 500


def waiting_leads_route(*, now: datetime | None = None) -> int:
    """Route the leads that wait in the queue because nobody was on shift, once a shift has started
    (run by beat every minute). Each lead in its own transaction, through the lead service; a lead
    someone took meanwhile loses its wait. Returns how many found a rep."""
    now = now or timezone.now()
    due = RoutingDecision.objects.filter(retry_at__lte=now).order_by("retry_at")[:RETRY_BATCH]
    routed = 0
    for decision in list(due.select_related("lead")):
        if decision.lead.status != Lead.Status.HANDED_OFF or decision.lead.owner_id is not None:
            RoutingDecision.objects.filter(pk=decision.pk).update(retry_at=None)
            continue
        routed += lead_route_waiting(lead=decision.lead) is not None
    return routed
