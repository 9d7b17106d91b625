"""The SLA sweep: each overdue deadline is breached exactly once, however often and however many sweep."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from conftest import LeadFactory
from handoff.models import Deadline
from handoff.notifications import breach_notify
from handoff.sweep import sweep_deadlines
from leads import services
from leads.models import LeadEvent

HOUR = datetime.timedelta(hours=1)


def hand_off(campaign, marketer):
    lead = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    return lead


def make_overdue(lead, kind=Deadline.Kind.CLAIM, *, late_by=HOUR):
    now = timezone.now()
    Deadline.objects.filter(lead=lead, kind=kind).update(starts_at=now - 10 * HOUR, due_at=now - late_by)
    return Deadline.objects.get(lead=lead, kind=kind)


def breach_events(lead):
    return LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.BREACH)


@pytest.mark.django_db
class TestSweep:
    def test_an_overdue_deadline_is_breached_once_across_repeated_sweeps(self, marketer, campaign):
        lead = hand_off(campaign, marketer)
        deadline = make_overdue(lead)

        assert sweep_deadlines() == 1
        assert sweep_deadlines() == 0
        assert sweep_deadlines(now=timezone.now() + HOUR) == 0

        deadline.refresh_from_db()
        assert deadline.breached_at is not None
        event = breach_events(lead).get()
        assert event.actor is None
        assert event.data["deadline"] == deadline.pk
        assert event.data["detected_after_seconds"] >= 3600
        assert "Claim deadline missed" in event.note

    def test_a_deadline_in_the_future_is_untouched(self, marketer, campaign):
        lead = hand_off(campaign, marketer)
        assert sweep_deadlines() == 0
        assert Deadline.objects.get(lead=lead).breached_at is None
        assert not breach_events(lead).exists()

    def test_met_and_cancelled_deadlines_are_never_breached(self, marketer, rep, campaign):
        met = hand_off(campaign, marketer)
        services.lead_claim(lead=met, rep=rep)
        cancelled = hand_off(campaign, marketer)
        services.lead_claim(lead=cancelled, rep=rep)
        services.lead_return(lead=cancelled, actor=rep, reason="Duplicate")

        assert sweep_deadlines(now=timezone.now() + 48 * HOUR) == 1  # only `met`'s first-contact clock
        assert not breach_events(cancelled).exists()
        assert breach_events(met).get().data["kind"] == Deadline.Kind.FIRST_CONTACT

    def test_a_breached_deadline_can_still_be_met_late(self, marketer, rep, campaign):
        lead = hand_off(campaign, marketer)
        make_overdue(lead)
        sweep_deadlines()
        services.lead_claim(lead=lead, rep=rep)
        claim = Deadline.objects.get(lead=lead, kind=Deadline.Kind.CLAIM)
        assert claim.breached_at is not None and claim.met_at > claim.due_at

    def test_a_backlog_larger_than_a_batch_is_swept_in_one_call(self, marketer, campaign):
        leads = [hand_off(campaign, marketer) for _ in range(7)]
        for lead in leads:
            make_overdue(lead)
        assert sweep_deadlines(batch_size=3) == 7
        assert Deadline.objects.filter(breached_at__isnull=False).count() == 7

    def test_the_sweep_refuses_a_naive_time(self):
        with pytest.raises(ValueError, match="aware"):
            sweep_deadlines(now=datetime.datetime(2026, 1, 1, 12, 0))

    def test_a_breach_enqueues_the_email_on_commit(self, marketer, campaign, django_capture_on_commit_callbacks):
        make_overdue(hand_off(campaign, marketer))
        with django_capture_on_commit_callbacks() as callbacks:
            sweep_deadlines()
        assert len(callbacks) == 1
        assert callbacks[0].func.__self__.name == "handoff.tasks.notify_breach"


@pytest.mark.django_db
class TestBreachEmail:
    def test_managers_get_one_email_per_breach(self, marketer, manager, campaign, mailoutbox):
        lead = hand_off(campaign, marketer)
        deadline = make_overdue(lead)
        sweep_deadlines()

        assert breach_notify(deadline_id=deadline.pk) is True
        assert breach_notify(deadline_id=deadline.pk) is False

        assert len(mailoutbox) == 1
        mail = mailoutbox[0]
        assert mail.to == [manager.email]
        assert lead.full_name in mail.subject
        assert f"/leads/{lead.pk}/" in mail.body
        deadline.refresh_from_db()
        assert deadline.breach_notified_at is not None

    def test_no_email_for_a_deadline_that_is_not_breached(self, marketer, manager, campaign, mailoutbox):
        deadline = Deadline.objects.get(lead=hand_off(campaign, marketer))
        assert breach_notify(deadline_id=deadline.pk) is False
        assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_breach_each_deadline_exactly_once(marketer, campaign):
    """Four sweeps on four connections at the same moment: every overdue deadline breached once."""
    leads = [hand_off(campaign, marketer) for _ in range(30)]
    for lead in leads:
        make_overdue(lead)
    sweepers = 4
    start = threading.Barrier(sweepers)
    counts, errors = [], []

    def sweep():
        try:
            start.wait()
            counts.append(sweep_deadlines(batch_size=5))
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
    assert sum(counts) == 30
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.BREACH).count() == 30
    assert Deadline.objects.filter(breached_at__isnull=False).count() == 30
    assert sweep_deadlines() == 0
