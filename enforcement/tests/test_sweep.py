"""The SLA sweep: each overdue deadline is breached exactly once, however often and however many sweep,
and the managers hear about each breach exactly once."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.models import OutboxMessage
from common.outbox import publish_after_commit
from conftest import LeadFactory, UserFactory, advance, move
from enforcement.notices import breach_notify
from enforcement.sweep import _breaches_record, _breaches_take, sweep_deadlines
from enforcement.tasks import notify_breach, run_escalations
from leads import services
from leads.models import Lead, LeadEvent
from notifications.models import Notification
from notifications.tasks import send_notification_emails
from notifications.tests.delivery import deliver
from people.roles import Role
from sla.models import Deadline, Escalation

HOUR = datetime.timedelta(hours=1)
S = Lead.Status


def hand_off(campaign, marketer) -> Lead:
    return advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=None)


def make_overdue(lead, kind=Deadline.Kind.CLAIM, *, late_by=HOUR) -> Deadline:
    """Move the `kind` clock of `lead` into the past (due_at stays after starts_at, as the database insists)."""
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=kind).update(starts_at=now - 10 * HOUR, due_at=now - late_by)
    return Deadline.objects.get(lead=lead, kind=kind)


def breach_events(lead):
    return LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.BREACH)


@pytest.mark.django_db
class TestSweep:
    def test_an_overdue_deadline_is_breached_once_across_repeated_sweeps(self, marketer, campaign):
        """The first sweep records the breach (breached_at, one BREACH event by the system); later
        sweeps, even further in the future, find nothing more to do."""
        # Given a claim deadline that passed an hour ago
        lead = hand_off(campaign, marketer)
        deadline = make_overdue(lead)
        now = timezone.now()

        # When the sweep runs three times
        counts = [sweep_deadlines(now=now), sweep_deadlines(now=now), sweep_deadlines(now=now + HOUR)]

        # Then only the first one breached it
        assert counts == [1, 0, 0]
        deadline.refresh_from_db()
        assert deadline.breached_at == now
        assert (deadline.met_at, deadline.cancelled_at) == (None, None)
        event = breach_events(lead).get()
        assert (event.actor, event.created_at, event.from_status, event.to_status) == (None, now, "", "")
        assert event.data["deadline"] == deadline.pk
        assert event.data["kind"] == Deadline.Kind.CLAIM
        assert event.data["detected_after_seconds"] >= 3600
        assert "Claim deadline missed" in event.note
        lead.refresh_from_db()
        assert lead.status == S.HANDED_OFF

    def test_a_deadline_in_the_future_is_untouched(self, marketer, campaign):
        """A claim deadline 4 h away is neither breached nor written to the timeline."""
        lead = hand_off(campaign, marketer)

        assert sweep_deadlines() == 0

        assert Deadline.objects.get(lead=lead).breached_at is None
        assert not breach_events(lead).exists()

    def test_a_deadline_due_exactly_now_counts_as_missed(self, marketer, campaign):
        """The sweep breaches a deadline whose due time equals `now`, and not one a microsecond later."""
        deadline = Deadline.objects.get(lead=hand_off(campaign, marketer))

        assert sweep_deadlines(now=deadline.due_at - datetime.timedelta(microseconds=1)) == 0
        assert sweep_deadlines(now=deadline.due_at) == 1

    def test_met_and_cancelled_deadlines_are_never_breached(self, marketer, rep, campaign):
        """A met claim clock and a cancelled first-contact clock are skipped; the one still running is breached."""
        met = hand_off(campaign, marketer)
        services.lead_claim(lead=met, rep=rep)
        cancelled = hand_off(campaign, marketer)
        services.lead_claim(lead=cancelled, rep=rep)
        services.lead_return(lead=cancelled, actor=rep, reason="Duplicate")

        # Sweep at the running first-contact clock's own due time (business hours: days away at night).
        running = Deadline.objects.get(lead=met, kind=Deadline.Kind.FIRST_CONTACT)
        assert sweep_deadlines(now=running.due_at) == 1  # only `met`'s first-contact clock

        assert not breach_events(cancelled).exists()
        assert breach_events(met).get().data["kind"] == Deadline.Kind.FIRST_CONTACT

    @pytest.mark.parametrize(
        "route",
        [
            pytest.param((S.CONTACTED,), id="contacted"),
            pytest.param((S.CONVERTED,), id="converted"),
            pytest.param((S.RETURNED,), id="returned"),
            pytest.param((S.CLAIMED, S.DISQUALIFIED), id="disqualified-after-claim"),
            pytest.param((S.CONTACTED, S.DISQUALIFIED), id="disqualified-after-contact"),
        ],
    )
    def test_a_lead_whose_clocks_all_stopped_is_never_breached(self, marketer, rep, campaign, route):
        """Once both sales clocks of a lead are met or cancelled, no sweep, however late, breaches them.
        (Only marketing's follow-up of a returned lead runs on, and is breached in its turn.)"""
        lead = advance(LeadFactory(campaign=campaign), route[0], marketer=marketer, rep=rep)
        for step in route[1:]:
            move(lead, step, marketer=marketer, rep=rep)
        follow_ups = Deadline.objects.running().filter(lead=lead, kind=Deadline.Kind.FOLLOW_UP).count()
        assert follow_ups == (1 if route == (S.RETURNED,) else 0)

        assert sweep_deadlines(now=timezone.now() + 365 * 24 * HOUR) == follow_ups

        sales = Deadline.objects.filter(lead=lead, kind__in=Deadline.SALES_KINDS)
        assert sales.count() == 2
        assert not sales.filter(breached_at__isnull=False).exists()
        assert not breach_events(lead).filter(data__kind__in=Deadline.SALES_KINDS).exists()

    def test_a_first_contact_breach_names_the_rep_who_owns_it(self, marketer, rep, campaign):
        """The BREACH event of a first-contact clock says whose it was."""
        lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
        make_overdue(lead, Deadline.Kind.FIRST_CONTACT)

        assert sweep_deadlines() == 1

        note = breach_events(lead).get().note
        assert note.startswith("First contact deadline missed")
        assert f"(owner: {rep.get_full_name()})" in note

    def test_a_breached_deadline_can_still_be_met_late(self, marketer, rep, campaign):
        """A claim after the breach meets the clock late: met_at after due_at, breached_at kept, no second breach."""
        lead = hand_off(campaign, marketer)
        make_overdue(lead)
        sweep_deadlines()

        services.lead_claim(lead=lead, rep=rep)

        claim = Deadline.objects.get(lead=lead, kind=Deadline.Kind.CLAIM)
        assert claim.breached_at is not None
        assert claim.met_at > claim.due_at
        assert sweep_deadlines() == 0
        assert breach_events(lead).count() == 1

    def test_a_backlog_larger_than_a_batch_is_swept_in_one_call(self, marketer, campaign):
        """Seven overdue deadlines with a batch size of three: one call breaches all seven."""
        leads = [hand_off(campaign, marketer) for _ in range(7)]
        for lead in leads:
            make_overdue(lead)

        assert sweep_deadlines(batch_size=3) == 7

        assert Deadline.objects.filter(breached_at__isnull=False).count() == 7
        assert all(breach_events(lead).count() == 1 for lead in leads)

    def test_a_deadline_falling_due_during_a_backlog_is_recorded_in_the_first_batch(self, marketer, campaign):
        """Fresh first: with an hour-old backlog larger than a batch, the deadline that fell due a
        second ago is in the first batch, not after the backlog."""
        for _ in range(25):
            make_overdue(hand_off(campaign, marketer), late_by=HOUR)
        fresh = make_overdue(hand_off(campaign, marketer), late_by=datetime.timedelta(seconds=1))

        with transaction.atomic():
            first, backlog = _breaches_take(20, None)
            _breaches_record(first, None)  # the take locks the batch; its record marks it

        assert fresh.pk in first and len(first) == 20 and backlog
        assert sweep_deadlines(batch_size=20) == 6  # the rest of the backlog, in a second call

    def test_the_sweep_refuses_a_naive_time(self):
        """sweep_deadlines(now=<naive datetime>) raises ValueError instead of guessing a time zone."""
        with pytest.raises(ValueError, match="aware"):
            sweep_deadlines(now=datetime.datetime(2026, 1, 1, 12, 0))

    def test_a_batch_hands_its_fan_out_to_one_task_each_on_commit(
        self, marketer, manager, campaign, django_capture_on_commit_callbacks
    ):
        """Three breaches in one batch register two tasks after the commit, not six: the first
        escalation step of all three, run_escalations([ids]) through the outbox, and the managers' emails,
        send_notification_emails.delay([notification ids]); a sweep that breaches nothing registers
        nothing."""
        deadlines = [make_overdue(hand_off(campaign, marketer)) for _ in range(3)]

        with django_capture_on_commit_callbacks() as callbacks:
            assert sweep_deadlines() == 3
        with django_capture_on_commit_callbacks() as repeated:
            sweep_deadlines()

        notices = Notification.objects.filter(user=manager, kind=Notification.Kind.BREACH).order_by("pk")
        escalations = OutboxMessage.objects.get(task=run_escalations.name)  # published after the commit
        assert escalations.args == [sorted(deadline.pk for deadline in deadlines)]
        assert [(callback.func, callback.args) for callback in callbacks] == [
            (publish_after_commit, (escalations.pk,)),
            (send_notification_emails.delay, ([notice.pk for notice in notices],)),
        ]
        assert repeated == []

    def test_a_batch_writes_in_a_constant_number_of_queries(self, marketer, manager, campaign):
        """Set-based: recording 1 breach or 40 (events, escalation steps, notices) costs the same
        number of queries, not one round per breach."""

        def queries_to_record(count: int) -> int:
            for _ in range(count):
                make_overdue(hand_off(campaign, marketer))
            with CaptureQueriesContext(connection) as queries:
                assert sweep_deadlines() == count
            return len(queries)

        assert queries_to_record(1) == queries_to_record(40)
        assert Escalation.objects.count() == 41 * 3
        assert LeadEvent.objects.filter(kind=LeadEvent.Kind.BREACH).count() == 41

    def test_each_batch_records_the_database_clock_at_that_batch(self, marketer, campaign):
        """True times: without an explicit `now`, breached_at is the database's time at the batch
        that recorded the breach (not the sweep's start), the event carries it, and its
        "detected after" is the real delay."""
        deadlines = [make_overdue(hand_off(campaign, marketer), late_by=HOUR) for _ in range(4)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement_timestamp()")
            before = cursor.fetchone()[0]

        sweep_deadlines(batch_size=2)

        for deadline in deadlines:
            deadline.refresh_from_db()
            assert before <= deadline.breached_at <= timezone.now()
            event = breach_events(deadline.lead).get()
            assert event.created_at == deadline.breached_at
            assert event.data["detected_after_seconds"] == round(
                (deadline.breached_at - deadline.due_at).total_seconds()
            )


def deliver_once_more(callbacks) -> None:
    """A broker that delivers every email task a second time."""
    deliver(callbacks)
    deliver(callbacks)


@pytest.mark.django_db
class TestBreachEmail:
    def test_managers_get_one_email_per_breach(
        self, marketer, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """The sweep notifies the managers in the breach's own batch and marks the deadline notified;
        the email goes once, with the lead's link, even when its task is delivered twice; breach_notify
        afterwards finds nothing to do."""
        lead = hand_off(campaign, marketer)
        deadline = make_overdue(lead)

        with django_capture_on_commit_callbacks() as enqueued:
            sweep_deadlines()
            assert breach_notify(deadline_id=deadline.pk) is False
        deliver_once_more(enqueued)

        assert len(mailoutbox) == 1
        mail = mailoutbox[0]
        assert mail.to == [manager.email]
        assert lead.full_name in mail.subject
        assert f"/leads/{lead.pk}/" in mail.body
        deadline.refresh_from_db()
        assert deadline.breach_notified_at is not None

    def test_only_active_managers_with_an_address_are_emailed(
        self, marketer, rep, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """Reps, marketers, inactive managers and managers without an email address are left out; each
        manager gets an email of their own."""
        UserFactory(username="gone", role=Role.MANAGERS, is_active=False)
        UserFactory(username="no_mail", role=Role.MANAGERS, email="")
        second = UserFactory(username="boss", role=Role.MANAGERS)
        make_overdue(hand_off(campaign, marketer))

        with django_capture_on_commit_callbacks() as enqueued:
            sweep_deadlines()
        deliver(enqueued)

        assert sorted(mail.to for mail in mailoutbox) == sorted([[manager.email], [second.email]])

    def test_no_email_for_a_deadline_that_is_not_breached(self, marketer, manager, campaign, mailoutbox):
        """A running deadline that the sweep has not breached gets no email and stays un-notified."""
        deadline = Deadline.objects.get(lead=hand_off(campaign, marketer))

        assert breach_notify(deadline_id=deadline.pk) is False

        assert mailoutbox == []
        deadline.refresh_from_db()
        assert deadline.breach_notified_at is None

    def test_the_task_is_the_same_once_only_email(
        self, marketer, manager, campaign, mailoutbox, django_capture_on_commit_callbacks
    ):
        """A breach recorded without its notices (by an older release, during a deploy): notify_breach,
        run twice (as a redelivered message would be), sends one email."""
        deadline = make_overdue(hand_off(campaign, marketer))
        Deadline.objects.filter(pk=deadline.pk).update(breached_at=timezone.now())

        with django_capture_on_commit_callbacks() as enqueued:
            assert [notify_breach(deadline.pk), notify_breach(deadline.pk)] == [True, False]
        deliver_once_more(enqueued)

        assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_breach_each_deadline_exactly_once(marketer, campaign):
    """Four sweeps on four connections at the same moment: every overdue deadline breached once,
    with one BREACH event each, and the counts the sweeps return add up."""
    # Given thirty overdue claim deadlines
    leads = [hand_off(campaign, marketer) for _ in range(30)]
    for lead in leads:
        make_overdue(lead)
    sweepers = 4
    start = threading.Barrier(sweepers, timeout=10)
    counts, errors = [], []

    def sweep():
        try:
            start.wait()
            counts.append(sweep_deadlines(batch_size=5))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    # When four sweeps start together, each in its own thread
    threads = [threading.Thread(target=sweep) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then between them they breached each deadline exactly once
    assert errors == []
    assert len(counts) == sweepers
    assert sum(counts) == 30
    assert Deadline.objects.filter(breached_at__isnull=False).count() == 30
    assert all(breach_events(lead).count() == 1 for lead in leads)
    assert sweep_deadlines() == 0
