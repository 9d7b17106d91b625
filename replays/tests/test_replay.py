"""A replay of a draft on past weeks.

The identity test is the strongest check that a replay runs the live SLA's own clock: random
histories made through Handoff's services (the clock moved between moves, the sweep run at each move)
and replayed under the unchanged policy give back what happened, deadline by deadline — the due time,
the warning time, met or missed, on hold or not, and every recorded breach. Then a tighter draft flips
exactly the deadlines it should, and the report, the record and the figures say so.
"""

import datetime
import random
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from conftest import LeadFactory, around_the_clock
from enforcement.sweep import sweep_deadlines
from leads import services
from leads.models import Lead, RepProfile, SalesTeam
from replays.models import Replay, ReplayFlip
from replays.recompute import CANCELLED, MET, MISSED, RUNNING, outcome, recorded_outcome, replay_deadlines
from replays.services import replay_policy, replay_request, replay_run
from sla import agreement
from sla.calendar import next_opening
from sla.models import BusinessCalendar, Deadline, PolicyDraftEvent, SlaPolicy

pytestmark = pytest.mark.django_db

S = Lead.Status
UTC = datetime.UTC
# Monday 2 November 2026, 07:00 UTC (08:00 in Berlin): two weeks of history from here.
HISTORY_START = datetime.datetime(2026, 11, 2, 7, tzinfo=UTC)
HISTORY_END = HISTORY_START + datetime.timedelta(weeks=2)


@contextmanager
def clock_at(monkeypatch, moment: datetime.datetime):
    """The services stamp events and clocks with `timezone.now()`: stop it at `moment` meanwhile."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def first_opening(*, days_ago: int) -> datetime.datetime:
    """The first opening of the default calendar on or after the local day `days_ago` days back: the
    start of a whole business day, whatever the hour the test runs at."""
    spec = BusinessCalendar.objects.spec_for(None)
    day = (timezone.now() - datetime.timedelta(days=days_ago)).astimezone(spec.zone)
    return next_opening(day.replace(hour=0, minute=0, second=0, microsecond=0), spec)


def current_values() -> dict:
    policy = SlaPolicy.current()
    return {name: getattr(policy, name) for name in agreement.POLICY_VALUES}


def draft_of(manager, **changes):
    values = {**current_values(), **changes}
    return agreement.draft_create(actor=manager, values=values, starts_at=timezone.now() + datetime.timedelta(days=7))


def replay_now(monkeypatch, draft, manager, *, at: datetime.datetime, weeks: int) -> Replay:
    """Ask for a replay as of `at` and run it as the worker would."""
    with clock_at(monkeypatch, at):
        replay = replay_request(draft=draft, actor=manager, weeks=weeks)
        replay_run(replay_id=replay.pk)
    replay.refresh_from_db()
    return replay


def _moves(lead: Lead, reps) -> list:
    """The moves people could make on `lead` now, as callables."""
    marketer = lead.campaign.owner
    match lead.status:
        case S.NEW:
            return [lambda: services.lead_qualify(lead=lead, actor=marketer)]
        case S.MQL:
            return [lambda: services.lead_hand_off(lead=lead, actor=marketer, note="Asked for a demo")]
        case S.HANDED_OFF:
            return [lambda rep=rep: services.lead_claim(lead=lead, rep=rep) for rep in reps]
        case S.CLAIMED | S.CONTACTED:
            owner = lead.owner
            hold = lambda: services.lead_hold(lead=lead, actor=owner, reason="Waiting on the customer")  # noqa: E731
            moves = [lambda: services.lead_return(lead=lead, actor=owner, reason="Outside our market")]
            if lead.status == S.CLAIMED:
                # Holds weigh most here: only a hold before the first contact pauses a running clock.
                moves += [
                    hold,
                    hold,
                    hold,
                    lambda: services.lead_log_first_contact(lead=lead, actor=owner, note="Called"),
                    lambda: services.lead_log_first_contact(lead=lead, actor=owner, note="Called again"),
                    lambda: services.lead_requeue(lead=lead, actor=owner, reason="Going on leave"),
                ]
            else:
                moves += [hold, lambda: services.lead_convert(lead=lead, actor=owner, value=Decimal("900.00"))]
            return moves
        case S.ON_HOLD:
            return [
                lambda: services.lead_resume(lead=lead, actor=lead.owner),
                lambda: services.lead_resume(lead=lead, actor=lead.owner),
                lambda: services.lead_disqualify(lead=lead, actor=lead.owner, reason="Went bust"),
            ]
        case S.RETURNED:
            return [lambda: services.lead_renurture(lead=lead, actor=marketer)]
    return []


def random_history(monkeypatch, seed: int, *, marketer, reps, leads: int = 12) -> None:
    """Two weeks of moves at random moments (to the second), each through the services with the
    clock at that moment; the sweep runs before and after each move, as beat would have by then."""
    chance = random.Random(seed)
    campaign_leads = [
        LeadFactory(campaign__owner=marketer, score=chance.choice([20, 55, 65, 85, 95])) for _ in range(leads)
    ]
    moment = HISTORY_START
    while True:
        moment += datetime.timedelta(seconds=chance.randint(60, 4 * 3600))
        if moment >= HISTORY_END:
            break
        lead = chance.choice(campaign_leads)
        lead.refresh_from_db()
        moves = _moves(lead, reps)
        if not moves:
            continue
        with clock_at(monkeypatch, moment):
            sweep_deadlines(now=moment)
            chance.choice(moves)()
            sweep_deadlines(now=moment)
    with clock_at(monkeypatch, HISTORY_END):
        sweep_deadlines(now=HISTORY_END)


@pytest.fixture
def teams(rep, other_rep):
    """rep works in the default calendar (Berlin, 9–17 on weekdays); other_rep's team is open around
    the clock in UTC: the replay must count each clock in the calendar the live SLA counted it in."""
    north = SalesTeam.objects.create(name="North")
    south = SalesTeam.objects.create(name="South", calendar=around_the_clock())
    RepProfile.objects.create(user=rep, team=north)
    RepProfile.objects.create(user=other_rep, team=south)
    return north, south


@pytest.mark.parametrize("seed", [7, 2026])
def test_replaying_the_unchanged_policy_gives_back_what_happened_deadline_by_deadline(
    monkeypatch, seed, marketer, rep, other_rep, manager, teams
):
    """Given two weeks of random history (hand-offs, claims by two reps in different calendars,
    first contacts, holds and resumes, returns and follow-ups, requeues, disqualifications while on
    hold) made through the services with the clock moved and the sweep run between, when the in-force
    policy is replayed unchanged on those weeks, then every deadline gets back its due time and
    warning time to the microsecond, its outcome, its hold, and each recorded breach is a replayed miss."""
    random_history(monkeypatch, seed, marketer=marketer, reps=[rep, other_rep])
    deadlines = Deadline.objects.filter(starts_at__gte=HISTORY_START)
    kinds = set(deadlines.values_list("kind", flat=True))
    assert kinds == {Deadline.Kind.CLAIM, Deadline.Kind.FIRST_CONTACT, Deadline.Kind.FOLLOW_UP}
    assert deadlines.exclude(paused_for=datetime.timedelta(0)).exists(), "no hold moved a clock: a weak history"
    assert deadlines.filter(breached_at__isnull=False).exists() and deadlines.filter(met_at__lte=F("due_at")).exists()

    draft = draft_of(manager)
    replay = replay_now(monkeypatch, draft, manager, at=HISTORY_END, weeks=2)

    compared = 0
    seen = set()
    for row, replayed in replay_deadlines(policy=replay_policy(replay), start=HISTORY_START, end=HISTORY_END):
        recorded = Deadline.objects.get(pk=row.id)
        assert replayed.due_at == recorded.due_at, f"due time of deadline {row.id} ({row.kind})"
        assert replayed.warn_at == recorded.warn_at, f"warning time of deadline {row.id} ({row.kind})"
        assert replayed.outcome == recorded_outcome(row, HISTORY_END), f"outcome of deadline {row.id}"
        assert replayed.paused == (recorded.paused_at is not None)
        assert (recorded.breached_at is not None) == (replayed.outcome == MISSED), f"breach of deadline {row.id}"
        seen.add(replayed.outcome)
        compared += 1
    assert compared == deadlines.count() == replay.summary["deadlines"] == replay.summary["same_due"]
    assert {MET, MISSED} <= seen
    # And the stored report agrees: nothing flips, every figure is the same on both sides.
    assert replay.status == Replay.Status.DONE
    assert not replay.flips.exists()
    assert (replay.summary["flips_to_met"], replay.summary["flips_to_missed"]) == (0, 0)
    for dimension, rows in replay.summary["rows"].items():
        for key, label, decided, met, replayed_decided, replayed_met in rows:
            assert (decided, met) == (replayed_decided, replayed_met), (dimension, label)
    for name in ("breaches_sales", "breaches_marketing", "missed_sales", "missed_marketing"):
        recorded_count, replayed_count = replay.summary["counts"].get(name, [0, 0])
        assert recorded_count == replayed_count, name


def hot_lead(campaign, marketer, moment, monkeypatch) -> Lead:
    lead = LeadFactory(campaign=campaign, score=90)
    with clock_at(monkeypatch, moment):
        services.lead_qualify(lead=lead, actor=marketer)
        services.lead_hand_off(lead=lead, actor=marketer, note="Hot")
    return lead


def test_a_tighter_draft_flips_exactly_the_claims_it_should(monkeypatch, campaign, marketer, rep, manager):
    """Given five hot leads handed off on Tuesday 10 November 2026 at 10:00 Berlin and claimed 10, 25,
        40, 55 and 70 minutes later (hot claims get 1 business hour), and a warm one claimed after 50
        minutes, when a draft giving hot claims half an hour is replayed, then the claims at 40 and 55
        minutes flip from met to missed, the one at 70 was missed either way, the warm one is untouched
    (each first contact made at the claim),
        and the report counts the new breaches and the escalation steps and notices they would set off."""
    handed_off = datetime.datetime(2026, 11, 10, 9, tzinfo=UTC)  # 10:00 in Berlin
    leads = {}
    for minutes in (10, 25, 40, 55, 70):
        lead = hot_lead(campaign, marketer, handed_off, monkeypatch)
        with clock_at(monkeypatch, handed_off + datetime.timedelta(minutes=minutes)):
            sweep_deadlines(now=timezone.now())
            services.lead_claim(lead=lead, rep=rep)
            services.lead_log_first_contact(lead=lead, actor=rep, note="Called at once")
        leads[minutes] = lead
    warm = LeadFactory(campaign=campaign, score=60)
    with clock_at(monkeypatch, handed_off):
        services.lead_qualify(lead=warm, actor=marketer)
        services.lead_hand_off(lead=warm, actor=marketer, note="Warm")
    with clock_at(monkeypatch, handed_off + datetime.timedelta(minutes=50)):
        services.lead_claim(lead=warm, rep=rep)
        services.lead_log_first_contact(lead=warm, actor=rep, note="Called at once")
    end = datetime.datetime(2026, 11, 20, 12, tzinfo=UTC)
    with clock_at(monkeypatch, end):
        sweep_deadlines(now=end)

    draft = draft_of(manager, claim_hours_hot=Decimal("0.5"), name="Hot leads in half an hour")
    replay = replay_now(monkeypatch, draft, manager, at=end, weeks=2)

    flips = ReplayFlip.objects.filter(replay=replay)
    assert {flip.lead_id for flip in flips} == {leads[40].pk, leads[55].pk}
    assert all(not flip.now_met and flip.kind == Deadline.Kind.CLAIM for flip in flips)
    for flip in flips:
        assert flip.replayed_due_at == handed_off + datetime.timedelta(minutes=30)
        assert flip.recorded_due_at == handed_off + datetime.timedelta(hours=1)
    summary = replay.summary
    assert (summary["flips_to_missed"], summary["flips_to_met"]) == (2, 0)
    # The claim at 70 minutes was breached as it happened; under the draft, three claims are missed.
    assert summary["counts"]["breaches_sales"] == [1, 3]
    steps = len(SlaPolicy.current().escalation_steps)
    assert summary["counts"]["escalation_steps"] == [steps * 1, steps * 3]
    assert summary["counts"]["manager_notices"] == [1, 3]
    tiers = {row[0]: row[2:] for row in summary["rows"]["tier"]}
    # Hot: five claims (four met, two under the draft) and five first contacts, all met.
    assert tiers["hot"] == [10, 9, 10, 7] and tiers["warm"] == [2, 2, 2, 2]
    # The record says who replayed which revision.
    event = draft.events.get(kind=PolicyDraftEvent.Kind.REPLAYED)
    assert (event.actor, event.revision, event.content_hash) == (manager, draft.revision, draft.content_hash)
    assert f"replay report {replay.pk}" in event.note


def test_a_looser_first_contact_time_turns_a_late_contact_met_through_a_hold(
    monkeypatch, campaign, marketer, rep, manager
):
    """Given a hot lead claimed at once, put on hold for two business hours and contacted five business
    hours after the claim (hot first contact: 4 h, moved by the hold to 6 h: met), and another contacted
    after seven (missed), when a draft giving 6 hours is replayed, then only the second flips to met,
    its due time moved by its own hold as the live clock moves it."""
    monday = datetime.datetime(2026, 11, 9, 8, tzinfo=UTC)  # 09:00 Berlin
    hour = datetime.timedelta(hours=1)
    first, second = (hot_lead(campaign, marketer, monday, monkeypatch) for _ in range(2))
    for moment, move in (
        (monday, lambda lead: services.lead_claim(lead=lead, rep=rep)),
        (monday + hour, lambda lead: services.lead_hold(lead=lead, actor=rep, reason="Customer away")),
        (monday + 3 * hour, lambda lead: services.lead_resume(lead=lead, actor=rep)),
    ):
        with clock_at(monkeypatch, moment):
            for lead in (first, second):
                move(lead)
    for lead, contacted_after in ((first, 5), (second, 7)):
        with clock_at(monkeypatch, monday + contacted_after * hour):
            sweep_deadlines(now=timezone.now())
            services.lead_log_first_contact(lead=lead, actor=rep, note="Called")
    end = monday + datetime.timedelta(days=3)
    draft = draft_of(manager, first_contact_hours_hot=Decimal("6"))
    replay = replay_now(monkeypatch, draft, manager, at=end, weeks=1)

    flip = ReplayFlip.objects.get(replay=replay)
    assert (flip.lead_id, flip.now_met, flip.kind) == (second.pk, True, Deadline.Kind.FIRST_CONTACT)
    assert flip.recorded_due_at == monday + 6 * hour  # 4 h + 2 h on hold
    assert flip.replayed_due_at == monday + 8 * hour  # 6 h + 2 h on hold: 17:00 Berlin
    assert replay.summary["counts"]["breaches_sales"] == [1, 0]


def test_a_replay_is_refused_to_non_managers_and_for_bad_weeks(marketer, rep, manager):
    draft = draft_of(manager)
    for person in (marketer, rep):
        with pytest.raises(Exception, match="Only managers"):
            replay_request(draft=draft, actor=person, weeks=4)
    for weeks in (0, 14, "4"):
        with pytest.raises(Exception, match="between 1 and 13"):
            replay_request(draft=draft, actor=manager, weeks=weeks)
    assert not Replay.objects.exists()


def test_running_a_replay_twice_runs_it_once(monkeypatch, manager, campaign, marketer):
    """A second delivery of the task finds the replay taken or done and changes nothing."""
    hot_lead(campaign, marketer, timezone.now() - datetime.timedelta(days=1), monkeypatch)
    draft = draft_of(manager, claim_hours_hot=Decimal("0.25"))
    replay = replay_request(draft=draft, actor=manager, weeks=1)
    assert replay_run(replay_id=replay.pk) is not None
    finished = Replay.objects.get(pk=replay.pk)
    assert replay_run(replay_id=replay.pk) is None
    again = Replay.objects.get(pk=replay.pk)
    assert (again.status, again.finished_at, again.summary) == (
        Replay.Status.DONE,
        finished.finished_at,
        finished.summary,
    )
    assert again.summary["deadlines"] == 1 and again.total == again.done == 1


def test_outcomes_follow_the_dashboards_rule():
    """Met at the due time is met; cancelled at the due time is missed; a paused clock is never missed
    while paused; a clock past due and still running is missed."""
    due = HISTORY_START
    later, earlier = due + datetime.timedelta(seconds=1), due - datetime.timedelta(seconds=1)
    assert outcome(due_at=due, met_at=due, cancelled_at=None, paused=False, end=later) == MET
    assert outcome(due_at=due, met_at=later, cancelled_at=None, paused=False, end=later) == MISSED
    assert outcome(due_at=due, met_at=None, cancelled_at=due, paused=False, end=later) == MISSED
    assert outcome(due_at=due, met_at=None, cancelled_at=earlier, paused=False, end=later) == CANCELLED
    assert outcome(due_at=due, met_at=None, cancelled_at=later, paused=True, end=later) == CANCELLED
    assert outcome(due_at=due, met_at=None, cancelled_at=None, paused=True, end=later) == RUNNING
    assert outcome(due_at=due, met_at=None, cancelled_at=None, paused=False, end=earlier) == RUNNING
    assert outcome(due_at=due, met_at=None, cancelled_at=None, paused=False, end=due) == MISSED
