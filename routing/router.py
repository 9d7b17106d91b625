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

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Count, prefetch_related_objects
from django.utils import timezone

from leads.assignment import Routed, open_lead_count
from leads.models import Lead, RepProfile, SalesTeam
from leads.services import lead_route_waiting
from people.names import name_of
from people.roles import Role
from sla.tiers import priority_of

from .companies import company_owner, company_owners
from .models import RoutingDecision, RuleSet, TimeOff, WorkingHours
from .shifts import Shift, Verdict, shifts_at

CATCH_UP = 2.0
SAID_IN_NOTE = 5  # reps passed over that the timeline names; the routing log keeps them all

EXCLUDED = "missed_deadline"
HOLDER = "holds_it"  # moved before the breach: the rep who holds it can't make it
AT_CAPACITY = "at_capacity"
CHOSEN = "chosen"
NOT_THEIR_TURN = "not_their_turn"
SAID = {
    Verdict.AWAY: "out of office",
    Verdict.TIME_OFF: "time off",
    Verdict.OFF_SHIFT: "off shift",
    Verdict.OFF_HOURS: "outside their hours",
    AT_CAPACITY: "at capacity",
    EXCLUDED: "missed this lead's deadline",
    HOLDER: "holds it and can't make it",
    NOT_THEIR_TURN: "not their turn",
    CHOSEN: "chosen",
}


@dataclass
class Rep:
    """What routing reads of a rep: a row, not three model instances, as it reads hundreds at a time."""

    pk: int
    user_id: int
    name: str
    team_id: int
    team_name: str
    calendar_id: int | None
    capacity: int
    is_away: bool
    weight: int
    routing_pass: float
    last_assigned_at: datetime | None
    # Their time off not over yet, [(first day, last day), …], and their own hours, [(weekday, starts,
    # ends), …] (empty: their team's).
    time_off: list = field(default_factory=list)
    hours: list = field(default_factory=list)


@dataclass
class Candidate:
    rep: Rep
    shift: Shift
    held: int | None = None  # open leads, counted only for reps routing gets to (see `route`)
    verdict: str = ""
    detail: str = ""


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%a %-d %b %H:%M %Z}" if moment else ""


def _tables(*models) -> dict[str, str]:
    return {model._meta.model_name: model._meta.db_table for model in models}


# Every routing decision reads the reps of a team (hundreds) with their time off and own hours. Written
# by hand: the ORM spends longer composing this statement than PostgreSQL spends running it, and the
# decision has a 10 ms budget. Same rows as RepProfile's queryset with the Sales group and an active
# user; the time off that may touch today (a day of slack: the date differs from zone to zone).
REPS_SQL = """
SELECT p.id, p.user_id, u.username, u.first_name, u.last_name, p.team_id, t.name, t.calendar_id,
       p.capacity, p.is_away, p.weight, p.routing_pass, p.last_assigned_at,
       (SELECT array_agg(ARRAY[o.starts_on, o.ends_on] ORDER BY o.starts_on)
          FROM {timeoff} o WHERE o.rep_id = p.user_id AND o.ends_on >= %(since)s),
       (SELECT array_agg(ARRAY[h.weekday::text, h.starts::text, h.ends::text] ORDER BY h.weekday)
          FROM {workinghours} h WHERE h.rep_id = p.user_id)
  FROM {repprofile} p
  JOIN {salesteam} t ON t.id = p.team_id AND t.auto_assign
  JOIN {user} u ON u.id = p.user_id AND u.is_active
 WHERE EXISTS (SELECT 1 FROM {user_groups} ug JOIN {group} g ON g.id = ug.group_id
                WHERE ug.user_id = p.user_id AND g.name = %(sales)s)
   AND (%(team)s::integer IS NULL OR p.team_id = %(team)s)
   AND (%(users)s::integer[] IS NULL OR p.user_id = ANY(%(users)s))
 ORDER BY p.id
"""


def _reps_sql() -> str:
    user = get_user_model()
    tables = _tables(TimeOff, WorkingHours, RepProfile, SalesTeam, user, Group)
    tables["user"], tables["user_groups"] = user._meta.db_table, user.groups.through._meta.db_table
    return REPS_SQL.format(**tables)


def candidates_at(now: datetime, *, team_id: int | None = None, user_ids: list[int] | None = None) -> list[Candidate]:
    """Every rep of a team that assigns automatically (of `team_id` only, or these users only, when
    given), with their shift: two queries (the reps, the calendars) however many reps."""
    params = {"since": now.date() - timedelta(days=1), "sales": Role.SALES, "team": team_id, "users": user_ids}
    with connection.cursor() as cursor:
        cursor.execute(_reps_sql(), params)
        rows = cursor.fetchall()
    reps = [
        Rep(
            pk,
            user_id,
            name_of(first, last, username),
            team_id,
            team_name,
            calendar_id,
            *settings,
            time_off=[tuple(span) for span in time_off or ()],
            hours=[(int(day), time.fromisoformat(opens), time.fromisoformat(ends)) for day, opens, ends in hours or ()],
        )
        for pk, user_id, username, first, last, team_id, team_name, calendar_id, *settings, time_off, hours in rows
    ]
    shifts = shifts_at(reps, now)
    return [Candidate(rep, shifts[rep.user_id]) for rep in reps]


def held_count(user_ids: list[int]) -> dict[int, int]:
    """Open leads of each of these reps: one index range per rep (lead_worklist_idx)."""
    return dict(
        Lead.objects.filter(owner_id__in=user_ids, status__in=Lead.WORKED_BY_SALES)
        .order_by()
        .values_list("owner_id")
        .annotate(Count("pk"))
    )


def _judge(candidate: Candidate, exclude: int | None, excluded: str = EXCLUDED) -> None:
    rep = candidate.rep
    if rep.user_id == exclude:
        candidate.verdict = excluded
    elif not candidate.shift.on:
        candidate.verdict = candidate.shift.verdict
        if candidate.shift.back:
            candidate.detail = f"back {_when(candidate.shift.back)}"
    elif candidate.held is not None and candidate.held >= rep.capacity:
        candidate.verdict, candidate.detail = AT_CAPACITY, f"{candidate.held} of {rep.capacity} open leads"
    else:
        candidate.verdict = NOT_THEIR_TURN


def _turn_order(eligible: list[Candidate]) -> list[Candidate]:
    """Furthest behind their share first; a rep far behind counts as only CATCH_UP behind the rest."""
    if len(eligible) > 1:
        passes = sorted(c.rep.routing_pass for c in eligible)
        for candidate in eligible:
            # The lowest pass of the others: the second lowest for the one who holds the lowest.
            others_min = passes[1] if candidate.rep.routing_pass == passes[0] else passes[0]
            candidate.rep.routing_pass = max(candidate.rep.routing_pass, others_min - CATCH_UP)
    return sorted(
        eligible,
        key=lambda c: (c.rep.routing_pass, c.rep.last_assigned_at is not None, c.rep.last_assigned_at, c.rep.pk),
    )


def _take_turn(rep: Rep, profile: RepProfile, now: datetime) -> None:
    """The rep's turn taken, on the row routing reads and on the locked profile (the caller saves it).
    The pass moves on from the locked row's, which a concurrent hand-off may have moved since the
    rows were read, or from the catch-up if that is further."""
    rep.weight, rep.capacity = profile.weight, profile.capacity
    rep.routing_pass = max(rep.routing_pass, profile.routing_pass) + 1 / profile.weight
    rep.last_assigned_at = now
    profile.routing_pass, profile.last_assigned_at = rep.routing_pass, rep.last_assigned_at


def _lock(candidate: Candidate, *, skip_locked: bool) -> RepProfile | None:
    """The candidate's profile locked, if still theirs to take: not away, room after a fresh count. A
    rep found full after the lock is let go at once (its savepoint rolled back), so a hand-off holds
    no profile but the one it takes, and two hand-offs never wait on each other's full reps."""
    with transaction.atomic():
        locked = (
            RepProfile.objects.select_for_update(of=("self",), skip_locked=skip_locked)
            .select_related("user")
            .filter(pk=candidate.rep.pk, is_away=False, team__auto_assign=True)
            .first()
        )
        if locked is not None and open_lead_count(locked.user) >= locked.capacity:
            transaction.set_rollback(True)
            return None
        return locked


# Reps off for now, expected back at a known time: a lead nobody could take is tried again then.
WAITING = {Verdict.OFF_SHIFT, Verdict.OFF_HOURS, Verdict.TIME_OFF}

# Whether a rep is on holiday, sick or out of office is theirs and their managers': the timeline, which
# everyone who sees the lead reads, says only that they were not available (the routing log says why).
PRIVATE = {Verdict.TIME_OFF, Verdict.AWAY}


def _said_on_timeline(c: Candidate) -> str:
    if c.verdict in PRIVATE:
        return f"{c.rep.name} (not available)"
    return f"{c.rep.name} ({SAID[c.verdict]}{', ' + c.detail if c.detail else ''})"


def _note(chosen: Candidate | None, judged: list[Candidate]) -> str:
    passed = [c for c in judged if c.verdict not in (CHOSEN, NOT_THEIR_TURN)]
    said = "; ".join(_said_on_timeline(c) for c in passed[:SAID_IN_NOTE])
    if len(passed) > SAID_IN_NOTE:
        said += f"; and {len(passed) - SAID_IN_NOTE} more (see the routing log)"
    if chosen is None:
        return "Nobody could take it: " + (said or "no team assigns automatically") + "."
    text = f"to {chosen.rep.name}, on shift with room, furthest behind their share (weight {chosen.rep.weight})"
    return text + (f". Passed over: {said}." if said else ".")


def _decision(lead: Lead, trigger: str, chosen: Candidate | None, judged: list[Candidate], note: str, now, rule=None):
    backs = [c.shift.back for c in judged if c.verdict in WAITING and c.shift.back]
    return RoutingDecision(
        lead=lead,
        decided_at=now,
        trigger=trigger,
        chosen_id=chosen.rep.user_id if chosen else None,
        rule=rule,
        team_id=chosen.rep.team_id if chosen else None,
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
        if c.verdict == NOT_THEIR_TURN:
            waiting_turn += 1
        elif c.verdict == Verdict.OFF_SHIFT:
            entry = closed.setdefault(
                c.rep.team_name, {"team": c.rep.team_name, "verdict": c.verdict, "said": SAID[c.verdict], "reps": 0}
            )
            entry["reps"] += 1
            entry["detail"] = c.detail
        else:
            entries.append(
                {
                    "rep": c.rep.user_id,
                    "name": c.rep.name,
                    "team": c.rep.team_name,
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


def _judged(
    candidates: list[Candidate], exclude: int | None, excluded: str = EXCLUDED
) -> tuple[list[Candidate], list[Candidate]]:
    """Fresh verdicts for one lead, and the eligible reps in turn order."""
    judged = [Candidate(c.rep, c.shift, c.held) for c in candidates]
    for candidate in judged:
        _judge(candidate, exclude, excluded)
    return judged, _turn_order([c for c in judged if c.verdict == NOT_THEIR_TURN])


_rules_in_force: dict[tuple, RuleSet] = {}


def current_rules() -> RuleSet | None:
    """The routing rules in force. A version never changes once published, so each process keeps the
    one it last read and asks the database only which version is the latest (one small query)."""
    latest = RuleSet.objects.order_by("-version").values_list("pk", "version", "created_at").first()
    if latest is None:
        return None
    ruleset = _rules_in_force.get(latest)
    if ruleset is None:
        ruleset = RuleSet.objects.prefetch_related("rules").get(pk=latest[0])
        _rules_in_force.clear()
        _rules_in_force[latest] = ruleset
    return ruleset


def matching_rule(lead: Lead, ruleset: RuleSet | None):
    """The first rule of `ruleset` that `lead` matches, or None (no rules, or none matches: every
    team that assigns automatically takes its turn, as without rules)."""
    if ruleset is None:
        return None
    tier = priority_of(lead.score)
    for rule in ruleset.rules.all():
        if rule.matches(lead, tier=tier):
            rule.ruleset = ruleset
            return rule
    return None


def _with_reason(note: str, chosen: Candidate | None, matched: tuple | None, rule) -> str:
    """The note, with why this rep: the company they work, or the rule that matched."""
    if matched and chosen and chosen.rep.user_id == matched[0]:
        return f"{note[:-1]}, who works this company (lead {matched[1].full_name})."
    if rule and chosen and chosen.rep.team_id != rule.team_id:
        rule_said = f"rule “{rule.name}” (routing rules v{rule.ruleset.version})"
        return f"{note[:-1]}: nobody in the team of {rule_said} could take it."
    if rule:
        return f"{note[:-1]}, by rule “{rule.name}” (routing rules v{rule.ruleset.version})."
    return note


def _preferred(eligible: list[Candidate], *, first: int | None, team_id: int | None) -> Candidate | None:
    """Of the eligible reps in turn order: the company's or the rule's named rep, else the rule's
    team's next, else the next of anyone's (an escalation must find someone if anyone can)."""
    for wanted in (
        lambda c: c.rep.user_id == first,
        lambda c: c.rep.team_id == team_id,
        lambda c: True,
    ):
        if chosen := next((c for c in eligible if wanted(c)), None):
            return chosen
    return None


# How many reps, in turn order, have their open leads counted at a time: the first with room gets the
# lead, so with hundreds of reps on shift routing counts a few, not all.
COUNT_AHEAD = 8


class WeightedRouter:
    """The router the lead services call (registered in RoutingConfig.ready)."""

    def route(self, *, lead: Lead, now: datetime, waiting: bool = False) -> Routed:
        """One lead: the eligible reps tried in turn order (their open leads counted a few at a time),
        each locked with SKIP LOCKED first, so simultaneous hand-offs spread over the reps instead of
        queueing on one; the lock counts again."""
        trigger = RoutingDecision.Trigger.SHIFT_START if waiting else RoutingDecision.Trigger.HAND_OFF
        ruleset = current_rules()
        matched = company_owner(lead, now=now, days=ruleset.owner_match_days) if ruleset else None
        # The rule is worked out even with a company's rep: if they can't take the lead, its team does.
        rule = matching_rule(lead, ruleset)
        team_id = rule.team_id if rule else None
        judged, eligible = _judged(candidates_at(now, team_id=team_id), None)
        first = matched[0] if matched else rule.rep_id if rule else None
        if first is not None:
            # The company's rep, or the rule's named rep, first if they can take it; else the turns.
            if matched and not any(c.rep.user_id == first for c in judged):
                judged, eligible = _judged(candidates_at(now, user_ids=[first]) + judged, None)
            eligible.sort(key=lambda c: c.rep.user_id != first)
        chosen = None
        for skip_locked in (True, False):
            for start in range(0, len(eligible), COUNT_AHEAD):
                ahead = eligible[start : start + COUNT_AHEAD]
                held = held_count([c.rep.user_id for c in ahead if c.held is None])
                for candidate in ahead:
                    if candidate.held is None:
                        candidate.held = held.get(candidate.rep.user_id, 0)
                    if candidate.held >= candidate.rep.capacity:
                        candidate.verdict = AT_CAPACITY
                        candidate.detail = f"{candidate.held} of {candidate.rep.capacity} open leads"
                        continue
                    if candidate.verdict == NOT_THEIR_TURN and (profile := _lock(candidate, skip_locked=skip_locked)):
                        _take_turn(candidate.rep, profile, now)
                        profile.save(update_fields=["routing_pass", "last_assigned_at"])
                        candidate.verdict, chosen = CHOSEN, (candidate, profile)
                        break
                if chosen:
                    break
            if chosen:
                break
        note = _with_reason(_note(chosen[0] if chosen else None, judged), chosen and chosen[0], matched, rule)
        _record([_decision(lead, trigger, chosen[0] if chosen else None, judged, note, now, rule)])
        return Routed(chosen[1] if chosen else None, note)

    def route_after_breach(
        self,
        *,
        leads: list[Lead],
        excluding: list[int | None],
        now: datetime,
        trigger: str = RoutingDecision.Trigger.ESCALATION,
    ) -> list[Routed]:
        """A set of leads, as if routed one after another: the reps on shift are locked once for the
        set (in id order, waiting: two sets never deadlock), their open leads counted after the lock,
        and each pick takes its turn in memory; the same statements for 4 leads or 400."""
        if not leads:
            return []
        candidates = candidates_at(now)
        locked = {
            profile.pk: profile
            # SKIP LOCKED: a rep a hand-off is taking right now sits this set out, so a set never
            # waits on a hand-off that waits on it.
            for profile in RepProfile.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("user")
            .filter(pk__in=[c.rep.pk for c in candidates if c.shift.on], is_away=False, team__auto_assign=True)
            .order_by("pk")
        }
        held = held_count([profile.user_id for profile in locked.values()])
        for candidate in candidates:
            if candidate.rep.pk in locked:
                fresh = locked[candidate.rep.pk]
                candidate.held = held.get(candidate.rep.user_id, 0)
                candidate.rep.capacity, candidate.rep.weight = fresh.capacity, fresh.weight
                candidate.rep.routing_pass = fresh.routing_pass
            elif candidate.shift.on:  # away or no longer automatic since it was read: not a candidate
                candidate.shift = Shift(Verdict.AWAY)
        excluded = HOLDER if trigger == RoutingDecision.Trigger.REBALANCE else EXCLUDED
        # Rules and owner matching as for a hand-off, for the whole set: the rules on the channel read
        # each lead's campaign (one query), the companies' reps are two.
        ruleset = current_rules()
        prefetch_related_objects(leads, "campaign")
        owners = company_owners(leads, now=now, days=ruleset.owner_match_days) if ruleset else {}
        routed, decisions, taken = [], [], {}
        for lead, exclude in zip(leads, excluding, strict=True):
            judged, eligible = _judged(candidates, exclude, excluded)
            matched, rule = owners.get(lead.pk), matching_rule(lead, ruleset)
            first = matched[0] if matched else rule.rep_id if rule else None
            chosen = _preferred(eligible, first=first, team_id=rule.team_id if rule else None)
            if chosen:
                profile = locked[chosen.rep.pk]
                _take_turn(chosen.rep, profile, now)
                chosen.verdict = CHOSEN
                taken[profile.pk] = profile
                next(c for c in candidates if c.rep.pk == chosen.rep.pk).held += 1
            note = _with_reason(_note(chosen, judged), chosen, matched, rule)
            decisions.append(_decision(lead, trigger, chosen, judged, note, now, rule))
            routed.append(Routed(locked[chosen.rep.pk] if chosen else None, note))
        RepProfile.objects.bulk_update(taken.values(), ["routing_pass", "last_assigned_at"])
        _record(decisions)
        return routed


RETRY_BATCH = 500
RETRY_LATER = timedelta(minutes=5)
logger = logging.getLogger(__name__)


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
        try:
            routed += lead_route_waiting(lead=decision.lead) is not None
        except Exception:
            # One lead that keeps failing must not hold up the others: it is tried again later.
            logger.exception("Routing lead %s after a shift start failed", decision.lead_id)
            RoutingDecision.objects.filter(pk=decision.pk).update(retry_at=now + RETRY_LATER)
    return routed
