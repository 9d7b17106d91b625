"""Warnings at the policy's share of the allowed time, and what a breach starts: each recorded once,
paused clocks left alone, and the sweep's one query answered from its partial indexes."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from conftest import LeadFactory, advance
from enforcement.notices import warning_notify
from enforcement.sweep import breach_batch_query, sweep_deadlines, warning_batch_query
from leads.models import Lead, LeadEvent
from notifications.models import Notification
from sla.models import Deadline, Escalation, EscalationStep, Handoff, SlaPolicy

S = Lead.Status
MICROSECOND = datetime.timedelta(microseconds=1)
HOUR = datetime.timedelta(hours=1)


def events(lead, kind):
    return LeadEvent.objects.filter(lead=lead, kind=kind)


@pytest.fixture
def contact_deadline(marketer, rep, campaign) -> Deadline:
    """A first-contact clock owned by `rep`."""
    lead = advance(LeadFactory(campaign=campaign), S.CLAIMED, marketer=marketer, rep=rep)
    return Deadline.objects.get(lead=lead, kind=Deadline.Kind.FIRST_CONTACT)


@pytest.mark.django_db
class TestWarnings:
    def test_the_warning_comes_at_the_policys_share_of_the_allowed_time_once(self, contact_deadline, rep):
        """Nothing a microsecond before warn_at; at warn_at one WARNING event by the system and
        warned_at set; sweeping again (later, before the due time) records nothing more."""
        deadline = contact_deadline

        assert sweep_deadlines(now=deadline.warn_at - MICROSECOND) == 0
        assert Deadline.objects.get(pk=deadline.pk).warned_at is None

        sweep_deadlines(now=deadline.warn_at)
        sweep_deadlines(now=deadline.warn_at)
        sweep_deadlines(now=deadline.due_at - MICROSECOND)

        deadline.refresh_from_db()
        assert deadline.warned_at == deadline.warn_at
        assert deadline.breached_at is None
        event = events(deadline.lead, LeadEvent.Kind.WARNING).get()
        assert (event.actor, event.created_at, event.data["deadline"]) == (None, deadline.warn_at, deadline.pk)
        assert "First contact deadline is close" in event.note

    def test_the_owner_is_notified_of_the_warning_once(self, contact_deadline, rep, mailoutbox):
        """The warning task notifies the owner (a notification of kind warning, emailed as they prefer);
        run again, it changes nothing."""
        deadline = contact_deadline
        sweep_deadlines(now=deadline.warn_at)

        assert warning_notify(deadline_id=deadline.pk) is True
        assert warning_notify(deadline_id=deadline.pk) is False

        notification = Notification.objects.get(user=rep)
        assert (notification.kind, notification.lead_id) == (Notification.Kind.WARNING, deadline.lead_id)
        assert "due soon" in notification.title

    def test_no_warning_notice_for_a_deadline_met_before_the_task_ran(self, contact_deadline, rep, marketer):
        """The rep logs the first contact between the sweep and the task: nobody is bothered."""
        deadline = contact_deadline
        sweep_deadlines(now=deadline.warn_at)
        Deadline.objects.filter(pk=deadline.pk).update(met_at=timezone.now())

        assert warning_notify(deadline_id=deadline.pk) is False
        assert not Notification.objects.exists()

    def test_a_deadline_first_seen_past_due_is_breached_not_warned(self, contact_deadline):
        """A sweep that was down through the warning window records the breach only; no late warning
        follows."""
        deadline = contact_deadline

        assert sweep_deadlines(now=deadline.due_at) == 1
        sweep_deadlines(now=deadline.due_at + datetime.timedelta(hours=1))

        deadline.refresh_from_db()
        assert (deadline.warned_at, deadline.breached_at) == (None, deadline.due_at)
        assert not events(deadline.lead, LeadEvent.Kind.WARNING).exists()
        assert events(deadline.lead, LeadEvent.Kind.BREACH).count() == 1

    def test_a_claim_clock_in_the_queue_is_warned_on_the_timeline_without_a_notice(self, marketer, rep, campaign):
        """Nobody owns a lead waiting in the queue: the warning is recorded, and no one is notified."""
        lead = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
        deadline = Deadline.objects.get(lead=lead)

        sweep_deadlines(now=deadline.warn_at)

        assert Deadline.objects.get(pk=deadline.pk).warned_at == deadline.warn_at
        assert warning_notify(deadline_id=deadline.pk) is False
        assert not Notification.objects.exists()

    def test_a_paused_clock_is_neither_warned_nor_breached(self, contact_deadline):
        deadline = contact_deadline
        Deadline.objects.filter(pk=deadline.pk).update(paused_at=deadline.starts_at)

        assert sweep_deadlines(now=deadline.due_at + datetime.timedelta(days=30)) == 0

        deadline.refresh_from_db()
        assert (deadline.warned_at, deadline.breached_at) == (None, None)


@pytest.mark.django_db
class TestBreachStartsEscalation:
    def test_a_sales_breach_writes_the_steps_of_its_own_policy_version_in_order(self, contact_deadline, manager):
        """The steps come from the policy the deadline was set under, even after a newer version with
        other steps is published."""
        deadline = contact_deadline
        SlaPolicy.objects.create(
            version=deadline.policy.version + 1, escalation_steps=[EscalationStep.REASSIGN], name="Newer"
        )

        sweep_deadlines(now=deadline.due_at)
        sweep_deadlines(now=deadline.due_at)

        steps = list(Escalation.objects.filter(deadline=deadline).values_list("position", "step", "done_at"))
        assert steps == [
            (1, EscalationStep.NOTIFY_MANAGER, None),
            (2, EscalationStep.RETURN_TO_QUEUE, None),
            (3, EscalationStep.REASSIGN, None),
        ]

    def test_a_policy_without_steps_breaches_without_escalation(self, marketer, rep, campaign):
        SlaPolicy.objects.create(version=SlaPolicy.current().version + 1, escalation_steps=[], name="Notify only")
        lead = advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep)
        deadline = Deadline.objects.get(lead=lead)

        assert sweep_deadlines(now=deadline.due_at) == 1

        assert not Escalation.objects.exists()


@pytest.mark.django_db
def test_with_nothing_due_the_sweep_reads_only_its_partial_indexes_on_a_realistic_mix(marketer, rep, campaign):
    """Most deadlines ever set are met (their due and warning times long past, never warned), some were
    cancelled or breached, a few run: the sweep's two queries are ordered range scans of the two
    partial indexes that end at once, whatever the statistics of the whole table say. No Seq Scan, no
    row read and thrown away by a filter."""
    now = timezone.now()
    policy = SlaPolicy.current()
    count = 6000
    leads = Lead.objects.bulk_create(
        LeadFactory.build(campaign=campaign, email=f"lead{i}@example.com", status=S.CONTACTED) for i in range(count)
    )
    handoffs = Handoff.objects.bulk_create(
        Handoff(lead=lead, handed_off_by=marketer, handed_off_at=now, policy=policy) for lead in leads
    )

    def clock(n: int, handoff: Handoff) -> Deadline:
        past = now - datetime.timedelta(days=1 + n % 300)
        future = now + datetime.timedelta(hours=1 + n % 50)
        fields = {"starts_at": past - datetime.timedelta(hours=8), "due_at": past, "warn_at": past}
        match n % 20:
            case 0 | 1:  # running, due later: the only rows in the partial indexes
                fields.update(starts_at=now, due_at=future, warn_at=future, owner=rep)
            case 2:
                fields.update(cancelled_at=past)
            case 3:
                fields.update(breached_at=past, met_at=past + HOUR)
            case 4:
                fields.update(warned_at=past, met_at=past)
            case _:  # met in time, never warned
                fields.update(met_at=past)
        return Deadline(
            handoff=handoff,
            lead_id=handoff.lead_id,
            kind=Deadline.Kind.CLAIM,
            policy=policy,
            allowed=datetime.timedelta(hours=8),
            given_due_at=fields["due_at"],
            **fields,
        )

    Deadline.objects.bulk_create(clock(n, handoff) for n, handoff in enumerate(handoffs))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE handoff_deadline")

    plans = [
        (index, column, query.select_for_update(skip_locked=True, of=("self",)).explain(analyze=True))
        for index, column, query in [
            # A batch is a small share of the running deadlines, as in production (500 of 175,000).
            ("deadline_open_due_idx", "due_at", breach_batch_query(now, 20)),
            ("deadline_warn_due_idx", "warn_at", warning_batch_query(now, 20)),
        ]
    ]

    for index, column, plan in plans:
        # An index scan or a bitmap of that index, bounded by the time: only due rows are read.
        assert f"Index Scan using {index}" in plan or f"Bitmap Index Scan on {index}" in plan, plan
        assert f"Index Cond: ({column} <= " in plan, plan
        assert "Seq Scan" not in plan and "Rows Removed by Filter" not in plan, plan
        assert "rows=0 loops=1" in plan.splitlines()[0], plan
    assert sweep_deadlines(now=now) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_every_kind_of_notification_has_an_email_preference(kind, rep):
    """A kind added to the notifications must be covered by the preferences, or notify() fails
    (the killed-worker drill found one that was not)."""
    from notifications.services import preferences_for

    assert preferences_for(rep).delivery_for(kind) in Notification.Delivery.values


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_warn_each_deadline_exactly_once(marketer, rep, campaign):
    """Four sweeps on four connections at the same moment, at a time past every warning and before
    every due time: each deadline warned once, with one WARNING event, and nothing breached."""
    import threading

    leads = [advance(LeadFactory(campaign=campaign), S.HANDED_OFF, marketer=marketer, rep=rep) for _ in range(30)]
    clocks = Deadline.objects.filter(lead__in=leads)
    now = max(clocks.values_list("warn_at", flat=True))
    assert now < min(clocks.values_list("due_at", flat=True))
    sweepers = 4
    start = threading.Barrier(sweepers, timeout=10)
    errors = []

    def sweep():
        try:
            start.wait()
            sweep_deadlines(now=now, batch_size=5)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert clocks.filter(warned_at=now).count() == 30
    assert not clocks.filter(breached_at__isnull=False).exists()
    assert all(events(lead, LeadEvent.Kind.WARNING).count() == 1 for lead in leads)
