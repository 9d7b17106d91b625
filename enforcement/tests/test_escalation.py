"""Escalation of a breached sales deadline: the policy's steps run in order, each once, one per task,
whatever the redeliveries and however many workers; each step does what still makes sense and says why
when it does nothing."""

import datetime
import threading
import zoneinfo
from functools import partial

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.utils import timezone

from common.localtime import moment_text
from conftest import LeadFactory, UserFactory, advance, around_the_clock
from enforcement import escalation
from enforcement.escalation import escalation_step_run, escalations_open, escalations_requeue_stuck, escalations_run
from enforcement.notices import breach_notify
from enforcement.sweep import sweep_deadlines
from enforcement.tasks import run_escalation, run_escalations
from enforcement.tests.test_worker import QUEUES, wait_for
from leads import services
from leads.models import Lead, LeadEvent, RepProfile, SalesTeam
from leads.transitions import TransitionError
from notifications.models import Notification, UserPreferences
from people.roles import Role
from sla.models import Deadline, Escalation, EscalationStep, Handoff, SlaPolicy

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)
S = Lead.Status
Step = EscalationStep
K = LeadEvent.Kind


# --- Given --------------------------------------------------------------------------------------
def team_of(*reps, manager=None, auto_assign=True, capacity=25) -> SalesTeam:
    team = SalesTeam.objects.create(
        name=f"Team {SalesTeam.objects.count() + 1}",
        manager=manager,
        auto_assign=auto_assign,
        calendar=around_the_clock(),
    )
    for rep in reps:
        RepProfile.objects.update_or_create(user=rep, defaults={"team": team, "capacity": capacity})
    return team


def claimed_by(rep, campaign, marketer) -> Lead:
    """A lead `rep` claimed from the queue; the teams' automatic assignment is held off meanwhile."""
    automatic = SalesTeam.objects.filter(auto_assign=True)
    held = list(automatic.values_list("pk", flat=True))
    automatic.update(auto_assign=False)
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    SalesTeam.objects.filter(pk__in=held).update(auto_assign=True)
    return lead


def in_queue(campaign, marketer) -> Lead:
    return advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None)


def breach(lead: Lead, kind: str, *, now=None) -> Deadline:
    """What the sweep does to an overdue running `kind` deadline of the lead: mark it breached and open
    its escalation (whose first task is enqueued on commit)."""
    now = now or timezone.now()
    deadline = Deadline.objects.running().get(lead=lead, kind=kind)
    Deadline.objects.filter(pk=deadline.pk).update(starts_at=now - 10 * HOUR, due_at=now - HOUR, breached_at=now)
    deadline.refresh_from_db()
    escalations_open([deadline.pk])
    return deadline


def run_all(deadline: Deadline) -> list[Escalation]:
    """Deliver task messages for the deadline until there is nothing left to run."""
    ran = []
    while (escalation := escalation_step_run(deadline_id=deadline.pk)) is not None:
        ran.append(escalation)
    return ran


def steps_of(deadline: Deadline) -> list[tuple[str, bool]]:
    return [(e.step, e.done_at is not None) for e in Escalation.objects.filter(deadline=deadline)]


def enqueued(callbacks) -> list[int]:
    """Deadline ids of the run_escalation tasks among on-commit callbacks."""
    return [cb.args[0] for cb in callbacks if isinstance(cb, partial) and cb.func == run_escalation.delay]


def enqueued_sets(callbacks) -> list[list[int]]:
    """Deadline ids of each run_escalations task among on-commit callbacks."""
    return [cb.args[0] for cb in callbacks if isinstance(cb, partial) and cb.func == run_escalations.delay]


def policy_with(steps: list[str]) -> SlaPolicy:
    return SlaPolicy.objects.create(version=SlaPolicy.current().version + 1, name="Custom", escalation_steps=steps)


@pytest.fixture
def team_manager(db):
    return UserFactory(username="team_manager", first_name="Tara", role=Role.MANAGERS)


# --- Order, once, redelivery --------------------------------------------------------------------
@pytest.mark.django_db
class TestOrderAndOnce:
    def test_each_call_runs_the_next_step_in_policy_order_and_enqueues_the_one_after(
        self, marketer, rep, other_rep, manager, campaign, django_capture_on_commit_callbacks
    ):
        """Default policy: notify the manager, take the lead back, reassign. One step per call; each call
        enqueues the next step after its commit, the last one enqueues nothing."""
        team_of(rep, other_rep, manager=manager)
        lead = claimed_by(rep, campaign, marketer)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)
        assert steps_of(deadline) == [
            (Step.NOTIFY_MANAGER, False),
            (Step.RETURN_TO_QUEUE, False),
            (Step.REASSIGN, False),
        ]

        ran, queued = [], []
        for _ in range(4):
            with django_capture_on_commit_callbacks() as callbacks:
                ran.append(escalation_step_run(deadline_id=deadline.pk))
            queued.append(enqueued(callbacks))

        assert [e.step if e else None for e in ran] == [Step.NOTIFY_MANAGER, Step.RETURN_TO_QUEUE, Step.REASSIGN, None]
        assert queued == [[deadline.pk], [deadline.pk], [], []]
        done = list(Escalation.objects.filter(deadline=deadline).values_list("done_at", flat=True))
        assert None not in done and done == sorted(done)
        # The timeline tells the story, by the system: escalated, back to the queue, reassigned.
        events = list(lead.events.filter(actor=None, kind__in=[K.ESCALATED, K.REQUEUED, K.ASSIGNED]))
        assert [e.kind for e in events] == [K.ESCALATED, K.REQUEUED, K.ASSIGNED]
        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, other_rep)

    def test_a_redelivered_message_never_runs_a_step_twice(self, marketer, rep, manager, campaign):
        """After every step ran, more deliveries of the task find nothing to do and change nothing."""
        lead = claimed_by(rep, campaign, marketer)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)
        run_all(deadline)
        before = (
            list(Escalation.objects.filter(deadline=deadline).values_list("done_at", "outcome")),
            lead.events.count(),
            Notification.objects.count(),
            Handoff.objects.filter(lead=lead).count(),
        )

        assert escalation_step_run(deadline_id=deadline.pk) is None
        assert run_escalation.apply(args=(deadline.pk,)).get() is False

        after = (
            list(Escalation.objects.filter(deadline=deadline).values_list("done_at", "outcome")),
            lead.events.count(),
            Notification.objects.count(),
            Handoff.objects.filter(lead=lead).count(),
        )
        assert after == before
        assert Notification.objects.filter(kind=Notification.Kind.BREACH, user=manager).count() == 1

    def test_a_deadline_without_pending_steps_is_nothing_to_run(self, marketer, campaign):
        """A policy without escalation steps writes none; the task for it does nothing."""
        policy_with([])
        lead = in_queue(campaign, marketer)
        deadline = breach(lead, Deadline.Kind.CLAIM)
        assert escalation_step_run(deadline_id=deadline.pk) is None
        assert not lead.events.filter(kind=K.ESCALATED).exists()

    def test_the_deadlines_own_policy_version_is_followed(self, marketer, rep, manager, campaign):
        """Steps reordered and one left out in the version the deadline was set under; a newer version
        with all three steps published since changes nothing for this deadline."""
        team_of(rep, auto_assign=False)
        policy_with([Step.REASSIGN, Step.NOTIFY_MANAGER])
        lead = in_queue(campaign, marketer)  # its claim clock runs under that version
        assert Deadline.objects.get(lead=lead).policy.escalation_steps == [Step.REASSIGN, Step.NOTIFY_MANAGER]
        policy_with([Step.NOTIFY_MANAGER, Step.RETURN_TO_QUEUE, Step.REASSIGN])
        SalesTeam.objects.update(auto_assign=True)
        deadline = breach(lead, Deadline.Kind.CLAIM)

        ran = run_all(deadline)

        assert [e.step for e in ran] == [Step.REASSIGN, Step.NOTIFY_MANAGER]
        assert [e.position for e in ran] == [1, 2]
        lead.refresh_from_db()
        assert lead.owner == rep
        # The lead was already reassigned when the manager heard: the step ran second.
        assigned, escalated = lead.events.get(kind=K.ASSIGNED), lead.events.get(kind=K.ESCALATED)
        assert (assigned.created_at, assigned.id) < (escalated.created_at, escalated.id)


# --- Notify the manager -------------------------------------------------------------------------
@pytest.mark.django_db
class TestNotifyManager:
    def test_the_owners_team_manager_is_told_in_their_time_zone(self, marketer, rep, manager, team_manager, campaign):
        """Only the manager of the rep's team hears (not the other managers); the body names the deadline,
        its due time in the manager's own zone, and the owner, and links to the lead."""
        team_of(rep, manager=team_manager)
        UserPreferences.objects.create(user=team_manager, time_zone="America/New_York")
        lead = claimed_by(rep, campaign, marketer)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)

        escalation = escalation_step_run(deadline_id=deadline.pk)

        assert escalation.step == Step.NOTIFY_MANAGER
        notification = Notification.objects.get(kind=Notification.Kind.BREACH)
        assert notification.user == team_manager
        # The breach notice itself: a manager it already reached is not told twice.
        assert notification.key == f"breach:{deadline.pk}"
        assert notification.lead == lead and notification.url == lead.get_absolute_url()
        due_in_new_york = deadline.due_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        assert moment_text(due_in_new_york, zoneinfo.ZoneInfo("America/New_York")) in notification.body
        assert "first contact" in notification.body and rep.get_full_name() in notification.body
        assert team_manager.get_full_name() in escalation.outcome
        event = lead.events.get(kind=K.ESCALATED)
        assert (event.actor, event.data["escalation"], event.note) == (None, escalation.pk, escalation.outcome)

    def test_a_manager_the_breach_notice_reached_is_not_told_again(self, marketer, rep, manager, campaign):
        """breach_notify and the step send the same notice (one key): whichever runs second adds nothing,
        and the step says so on the timeline."""
        deadline = breach(claimed_by(rep, campaign, marketer), Deadline.Kind.FIRST_CONTACT)
        assert breach_notify(deadline_id=deadline.pk) is True

        escalation = escalation_step_run(deadline_id=deadline.pk)

        assert Notification.objects.filter(user=manager).count() == 1
        assert "already reached" in escalation.outcome

    def test_every_manager_is_told_when_the_owner_has_no_team_manager(self, marketer, rep, manager, campaign):
        other_manager = UserFactory(username="other_manager", role=Role.MANAGERS)
        team_of(rep, manager=None)
        deadline = breach(claimed_by(rep, campaign, marketer), Deadline.Kind.FIRST_CONTACT)

        escalation = escalation_step_run(deadline_id=deadline.pk)

        told = set(Notification.objects.filter(kind=Notification.Kind.BREACH).values_list("user", flat=True))
        assert told == {manager.pk, other_manager.pk}
        assert "every manager" in escalation.outcome

    def test_a_claim_missed_in_the_queue_goes_to_every_manager(self, marketer, manager, team_manager, campaign):
        """Nobody owned the claim deadline, so there is no team to pick a manager from."""
        deadline = breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM)

        escalation_step_run(deadline_id=deadline.pk)

        told = set(Notification.objects.filter(kind=Notification.Kind.BREACH).values_list("user", flat=True))
        assert told == {manager.pk, team_manager.pk}
        assert "nobody (in the queue)" in Notification.objects.first().body


# --- Return to the queue ------------------------------------------------------------------------
@pytest.mark.django_db
class TestReturnToQueue:
    def test_the_lead_goes_back_to_the_queue_with_a_new_pass_and_claim_clock(self, marketer, rep, campaign):
        policy_with([Step.RETURN_TO_QUEUE])
        lead = claimed_by(rep, campaign, marketer)
        old = Handoff.objects.get(lead=lead)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)

        escalation = escalation_step_run(deadline_id=deadline.pk)

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.HANDED_OFF, None)
        old.refresh_from_db()
        assert old.outcome == Handoff.Outcome.REQUEUED and old.closed_at is not None
        deadline.refresh_from_db()
        assert deadline.cancelled_at == old.closed_at
        new = Handoff.objects.get(lead=lead, closed_at__isnull=True)
        assert new.handed_off_by == marketer and "missed the first contact" in new.note
        clock = Deadline.objects.get(handoff=new)
        assert clock.kind == Deadline.Kind.CLAIM and clock.is_running and clock.owner is None
        assert clock.starts_at == new.handed_off_at == old.closed_at
        event = lead.events.get(kind=K.REQUEUED)
        assert (event.actor, event.from_status, event.to_status) == (None, S.CLAIMED, S.HANDED_OFF)
        assert "Took the lead back" in escalation.outcome
        assert not lead.events.filter(kind=K.ESCALATED).exists()  # the REQUEUED event is the step's record

    def test_nothing_happens_to_a_lead_contacted_late_before_the_steps_ran(
        self, marketer, rep, other_rep, manager, campaign
    ):
        """The rep logged the first contact after the breach but before the worker got to the lead: the
        manager still hears, but the lead stays with its rep, in its pass, and each step says why."""
        team_of(other_rep)
        lead = claimed_by(rep, campaign, marketer)
        handoff = Handoff.objects.get(lead=lead)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)
        services.lead_log_first_contact(lead=lead, actor=rep)

        notified, returned, reassigned = run_all(deadline)

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CONTACTED, rep)
        assert Handoff.objects.get(lead=lead, closed_at__isnull=True) == handoff
        assert not lead.events.filter(kind__in=[K.REQUEUED, K.ASSIGNED]).exists()
        assert "was done, late, on" in returned.outcome
        assert "not waiting in the queue" in reassigned.outcome
        assert lead.events.filter(kind=K.ESCALATED, actor=None).count() == 3

    @pytest.mark.parametrize("then", ["returned", "reassigned", "on_hold"])
    def test_a_lead_that_moved_on_is_left_alone(self, marketer, rep, other_rep, manager, campaign, then):
        policy_with([Step.RETURN_TO_QUEUE])
        lead = claimed_by(rep, campaign, marketer)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)
        if then == "returned":
            services.lead_return(lead=lead, actor=rep, reason="No budget")
        elif then == "reassigned":
            services.lead_assign(lead=lead, rep=other_rep, actor=manager)
        else:
            services.lead_hold(lead=lead, actor=rep, reason="Customer on holiday")
        status_before = Lead.objects.get(pk=lead.pk).status

        escalation = escalation_step_run(deadline_id=deadline.pk)

        lead.refresh_from_db()
        assert lead.status == status_before
        assert escalation.outcome.startswith("The lead was not taken back: ")
        assert not lead.events.filter(kind=K.REQUEUED).exists()


# --- Reassign -----------------------------------------------------------------------------------
@pytest.mark.django_db
class TestReassign:
    def test_the_next_available_rep_gets_it_but_never_the_one_who_breached(self, marketer, rep, campaign):
        """The breaching rep has waited longest in the round-robin yet is skipped; so are the rep out of
        office, the rep at capacity and the rep whose team does not assign automatically."""
        away, full, manual, free = (
            UserFactory(username=n, role=Role.SALES) for n in ("away", "full", "manual", "free")
        )
        team_of(rep, away, full, free)
        team_of(manual, auto_assign=False)
        RepProfile.objects.filter(user=away).update(is_away=True)
        RepProfile.objects.filter(user=full).update(capacity=0)
        RepProfile.objects.filter(user=free).update(last_assigned_at=timezone.now())
        lead = claimed_by(rep, campaign, marketer)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)

        *_, reassigned = run_all(deadline)

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, free)
        event = lead.events.filter(kind=K.ASSIGNED).get()
        assert event.actor is None and event.note.startswith(f"Reassigned by escalation to {free.get_full_name()}")
        assert Deadline.objects.running().get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).owner == free
        assert RepProfile.objects.get(user=free).last_assigned_at > deadline.breached_at
        assert free.get_full_name() in reassigned.outcome

    def test_with_nobody_available_the_lead_stays_in_the_queue(self, marketer, rep, campaign):
        team_of(rep)
        lead = claimed_by(rep, campaign, marketer)
        deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)

        *_, reassigned = run_all(deadline)

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.HANDED_OFF, None)
        assert "stays in the queue" in reassigned.outcome
        assert lead.events.filter(kind=K.ESCALATED).last().note == reassigned.outcome

    def test_a_lead_claimed_meanwhile_is_not_reassigned(self, marketer, rep, other_rep, campaign):
        policy_with([Step.REASSIGN])
        lead = in_queue(campaign, marketer)
        team_of(other_rep)  # available for the round-robin, once the lead is waiting
        deadline = breach(lead, Deadline.Kind.CLAIM)
        services.lead_claim(lead=lead, rep=rep)

        escalation = escalation_step_run(deadline_id=deadline.pk)

        lead.refresh_from_db()
        assert lead.owner == rep
        assert "not waiting in the queue" in escalation.outcome

    def test_a_lead_breached_twice_goes_to_the_team_manager(self, marketer, rep, manager, team_manager, campaign):
        """The claim missed in the queue, then the rep it went to missed the first contact: the second
        escalation gives the lead to that rep's team manager, whom capacity does not bind."""
        team_of(rep, manager=team_manager, auto_assign=False)
        lead = in_queue(campaign, marketer)
        SalesTeam.objects.update(auto_assign=True)
        run_all(breach(lead, Deadline.Kind.CLAIM))
        lead.refresh_from_db()
        assert lead.owner == rep

        run_all(breach(lead, Deadline.Kind.FIRST_CONTACT))

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, team_manager)
        last = lead.events.filter(kind=K.ASSIGNED).last()
        assert last.actor is None and "manager" in last.note
        assert Deadline.objects.running().get(lead=lead).owner == team_manager
        told = Notification.objects.get(kind=Notification.Kind.ESCALATION)
        assert (told.user, told.lead) == (team_manager, lead)
        assert Notification.objects.get(kind=Notification.Kind.ASSIGNED).user == rep  # the first reassignment

    def test_without_a_team_manager_the_first_active_manager_gets_it(self, marketer, rep, campaign):
        gone = UserFactory(username="gone_manager", role=Role.MANAGERS, is_active=False)
        first = UserFactory(username="first_manager", role=Role.MANAGERS)
        UserFactory(username="second_manager", role=Role.MANAGERS)
        assert gone.pk < first.pk
        lead = claimed_by(rep, campaign, marketer)
        run_all(breach(lead, Deadline.Kind.FIRST_CONTACT))  # back in the queue, nobody to reassign to
        services.lead_claim(lead=lead, rep=rep)

        run_all(breach(lead, Deadline.Kind.FIRST_CONTACT))

        lead.refresh_from_db()
        assert lead.owner == first


# --- The requeue service on its own ----------------------------------------------------------------
@pytest.mark.django_db
class TestLeadRequeue:
    def test_only_the_owner_or_a_manager_may_requeue_and_only_a_claimed_lead(
        self, marketer, rep, other_rep, manager, campaign
    ):
        lead = claimed_by(rep, campaign, marketer)
        with pytest.raises(TransitionError, match="Only the rep who owns"):
            services.lead_requeue(lead=lead, actor=other_rep, reason="Mine now")
        with pytest.raises(TransitionError, match="Say why"):
            services.lead_requeue(lead=lead, actor=rep, reason="  ")
        services.lead_requeue(lead=lead, actor=manager, reason="Rep on leave")
        with pytest.raises(TransitionError, match="Only a claimed lead can go back to the queue"):
            services.lead_requeue(lead=lead, actor=manager, reason="Again")
        assert Handoff.objects.filter(lead=lead).count() == 2


# --- The safety net -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_only_steps_pending_for_a_while_are_enqueued_again(marketer, campaign, django_capture_on_commit_callbacks):
    now = timezone.now()
    stuck = breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - 10 * datetime.timedelta(minutes=1))
    fresh = breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - datetime.timedelta(minutes=1))
    finished = breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - HOUR)
    Escalation.objects.filter(deadline=finished).update(done_at=now - HOUR, outcome="Done.")
    assert Escalation.objects.filter(deadline=fresh, done_at__isnull=True).exists()

    with django_capture_on_commit_callbacks() as callbacks:
        count = escalations_requeue_stuck(now=now)

    assert count == 1
    assert enqueued_sets(callbacks) == [[stuck.pk]]


@pytest.mark.django_db
def test_the_safety_net_hands_out_stuck_deadlines_in_sets(
    marketer, campaign, django_capture_on_commit_callbacks, monkeypatch
):
    """A sweep batch whose fan-out died with its worker comes back as a few set tasks, not one each."""
    monkeypatch.setattr(escalation, "STEP_BATCH", 2)
    earlier = timezone.now() - 10 * datetime.timedelta(minutes=1)
    stuck = [breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=earlier).pk for _ in range(5)]

    with django_capture_on_commit_callbacks() as callbacks:
        count = escalations_requeue_stuck()

    assert count == 5
    assert enqueued_sets(callbacks) == [sorted(stuck)[0:2], sorted(stuck)[2:4], sorted(stuck)[4:]]
    assert enqueued(callbacks) == []


@pytest.mark.django_db
def test_a_deadline_stuck_for_long_goes_alone(marketer, campaign, django_capture_on_commit_callbacks):
    """A step that keeps failing must not hold up a set: after a few tries in sets, its deadline is
    enqueued on its own."""
    now = timezone.now()
    recent = breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - 10 * datetime.timedelta(minutes=1))
    old = breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - 16 * datetime.timedelta(minutes=1))

    with django_capture_on_commit_callbacks() as callbacks:
        count = escalations_requeue_stuck(now=now)

    assert count == 2
    assert enqueued_sets(callbacks) == [[recent.pk]]
    assert enqueued(callbacks) == [old.pk]


@pytest.mark.django_db
def test_the_safety_net_keeps_to_its_budget_in_a_storm(
    marketer, campaign, django_capture_on_commit_callbacks, monkeypatch
):
    """In a storm every pending step looks stuck (it waits behind the emails): one run hands out a
    fixed number of sets and of deadlines alone, never a message per deadline; the rest waits for the
    next run, oldest deadline first."""
    monkeypatch.setattr(escalation, "STEP_BATCH", 2)
    monkeypatch.setattr(escalation, "REQUEUE_SETS", 2)
    monkeypatch.setattr(escalation, "REQUEUE_ALONE", 3)
    now = timezone.now()
    recent = [breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - 10 * MINUTE).pk for _ in range(7)]
    old = [breach(in_queue(campaign, marketer), Deadline.Kind.CLAIM, now=now - 20 * MINUTE).pk for _ in range(6)]

    with django_capture_on_commit_callbacks() as callbacks:
        count = escalations_requeue_stuck(now=now)

    assert count == 2 * 2 + 3
    assert enqueued_sets(callbacks) == [sorted(recent)[0:2], sorted(recent)[2:4]]
    assert enqueued(callbacks) == sorted(old)[:3]


# --- Real workers -------------------------------------------------------------------------------
@pytest.fixture
def empty_queue():
    """Transactional tests really enqueue on commit; leave no message behind for other tests' workers."""
    yield
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_deadline_run_each_step_once(marketer, rep, other_rep, manager, campaign, empty_queue):
    """Two threads deliver the deadline's task at once, again and again: every step runs exactly once,
    in order, and the lead ends where one run would have left it."""
    team_of(rep, other_rep, manager=manager)
    lead = claimed_by(rep, campaign, marketer)
    deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)
    start = threading.Barrier(2)
    ran, errors = [], []

    def deliver():
        try:
            start.wait()
            for _ in range(50):
                if not Escalation.objects.filter(deadline=deadline, done_at__isnull=True).exists():
                    break
                if (escalation := escalation_step_run(deadline_id=deadline.pk)) is not None:
                    ran.append(escalation.step)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(ran) == sorted([Step.NOTIFY_MANAGER, Step.RETURN_TO_QUEUE, Step.REASSIGN])
    done = list(Escalation.objects.filter(deadline=deadline).values_list("done_at", flat=True))
    assert None not in done and done == sorted(done)
    assert Notification.objects.filter(kind=Notification.Kind.BREACH).count() == 1
    assert lead.events.filter(kind=K.REQUEUED).count() == 1
    assert lead.events.filter(kind=K.ASSIGNED, actor=None).count() == 1
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (S.CLAIMED, other_rep)


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_whole_escalation_through_redis(marketer, rep, other_rep, manager, campaign, empty_queue):
    """The breach's commit enqueues the first step; the worker runs it, and each step enqueues the next,
    until the lead is with another rep."""
    team_of(rep, other_rep, manager=manager)
    lead = claimed_by(rep, campaign, marketer)

    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, loglevel="WARNING", queues=QUEUES):
        with transaction.atomic():
            deadline = breach(lead, Deadline.Kind.FIRST_CONTACT)

        finished = wait_for(lambda: not Escalation.objects.filter(deadline=deadline, done_at__isnull=True).exists())

    assert finished, "the worker did not run the three steps within 20 s"
    done = list(Escalation.objects.filter(deadline=deadline).values_list("step", "done_at"))
    assert [step for step, _ in done] == [Step.NOTIFY_MANAGER, Step.RETURN_TO_QUEUE, Step.REASSIGN]
    assert [when for _, when in done] == sorted(when for _, when in done)
    assert Notification.objects.get(kind=Notification.Kind.BREACH).user == manager
    assert Notification.objects.get(kind=Notification.Kind.ASSIGNED).user == other_rep
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (S.CLAIMED, other_rep)


# --- A miss left with the rep who held the lead -------------------------------------------------
def reassigned_past_due(marketer, rep, other_rep, manager, campaign) -> tuple[Lead, Deadline]:
    """`rep` claimed the lead and let its first contact fall past due; before any sweep recorded it, a
    manager gave the lead to `other_rep`. The past-due clock stays with `rep` (issue 13, definition 4)."""
    lead = claimed_by(rep, campaign, marketer)
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=Deadline.Kind.FIRST_CONTACT).update(
        starts_at=now - 10 * HOUR, due_at=now - HOUR
    )
    services.lead_assign(lead=lead, rep=other_rep, actor=manager)
    deadline = Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)
    assert deadline.owner == rep and deadline.breached_at is None
    return lead, deadline


@pytest.mark.django_db
class TestAMissLeftWithTheRepWhoHeldTheLead:
    def test_the_breach_is_the_old_reps_and_the_new_reps_lead_is_left_alone(
        self, marketer, rep, other_rep, manager, campaign
    ):
        """The sweep records the breach against the rep who held the lead when it fell due, and the
        manager hears of it; the steps that act on the lead do nothing to the lead the other rep now
        holds: it is not taken back, not reassigned, and its timeline has no move by the system."""
        team_of(rep, other_rep, manager=manager)
        lead, deadline = reassigned_past_due(marketer, rep, other_rep, manager, campaign)

        assert sweep_deadlines() == 1
        escalations_run(deadline_ids=[deadline.pk])

        deadline.refresh_from_db()
        assert deadline.owner == rep
        assert LeadEvent.objects.get(lead=lead, kind=K.BREACH).data["owner"] == rep.pk
        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, other_rep)
        assert not lead.events.filter(kind__in=[K.REQUEUED, K.ASSIGNED], actor=None).exists()
        notified, returned, reassigned = Escalation.objects.filter(deadline=deadline).order_by("position")
        assert Notification.objects.filter(user=manager, key=f"breach:{deadline.pk}").exists()
        assert returned.outcome.startswith("The lead was not taken back: ")
        assert reassigned.outcome.startswith("The lead was not reassigned: ")

    def test_a_lead_given_back_to_the_rep_who_missed_it_is_not_taken_from_them(
        self, marketer, rep, other_rep, manager, campaign
    ):
        """The manager gave the lead away after its clock fell due and then back to the rep who missed
        it, all before the sweep recorded the miss: the manager has decided who holds the lead, and the
        escalation does not overrule that."""
        team_of(rep, other_rep, manager=manager)
        lead, deadline = reassigned_past_due(marketer, rep, other_rep, manager, campaign)
        services.lead_assign(lead=lead, rep=rep, actor=manager)

        assert sweep_deadlines() == 1
        escalations_run(deadline_ids=[deadline.pk])

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.CLAIMED, rep)
        assert not lead.events.filter(kind__in=[K.REQUEUED, K.ASSIGNED], actor=None).exists()

    def test_a_lead_the_new_rep_put_back_in_the_queue_is_not_reassigned_by_the_old_miss(
        self, marketer, rep, other_rep, manager, campaign
    ):
        """The other rep puts the lead back in the queue (a new pass, a new claim clock) before the
        escalation of the old rep's miss runs: that escalation was meant for the old pass and gives the
        lead to nobody; the new pass's own claim clock decides what happens to it."""
        third = UserFactory(username="third", role=Role.SALES)
        team_of(rep, other_rep, third, manager=manager)
        lead, deadline = reassigned_past_due(marketer, rep, other_rep, manager, campaign)
        assert sweep_deadlines() == 1
        services.lead_requeue(lead=lead, actor=other_rep, reason="Wrong territory")

        escalations_run(deadline_ids=[deadline.pk])

        lead.refresh_from_db()
        assert (lead.status, lead.owner) == (S.HANDED_OFF, None)
        assert not lead.events.filter(kind=K.ASSIGNED, actor=None).exists()
