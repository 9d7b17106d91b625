"""The sweep through the real Redis broker and a real Celery worker, as in production."""

import datetime
import time

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from conftest import LeadFactory, advance
from enforcement.tasks import sweep_deadlines
from leads.models import Lead, LeadEvent
from notifications.models import Notification
from sla.models import Deadline, Escalation

HOUR = datetime.timedelta(hours=1)
# A test worker serves both queues: the default one and the SLA sweep's own.
QUEUES = ["celery", settings.SLA_QUEUE, settings.ESCALATION_QUEUE]


def wait_for(condition, timeout: float = 20.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; there is no result backend to wait on."""
    give_up_at = time.monotonic() + timeout
    while time.monotonic() < give_up_at:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_worker_sweeps_through_redis_and_emails_the_managers(marketer, manager, campaign, mailoutbox):
    """sweep_deadlines sent with .delay() is picked up by a worker, which records the breach; the
    notify_breach task the sweep enqueues on commit runs on the worker too, and so does the email task
    it enqueues in turn: the manager gets one notification and one email."""
    # Given a lead whose claim deadline passed an hour ago
    lead = advance(LeadFactory(campaign=campaign), Lead.Status.HANDED_OFF, marketer=marketer, rep=None)
    now = timezone.now()
    Deadline.objects.filter(lead=lead).update(starts_at=now - 5 * HOUR, due_at=now - HOUR)

    # When the sweep is sent through the broker to a running worker
    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, loglevel="WARNING", queues=QUEUES):
        sweep_deadlines.delay()

        # Then the worker records the breach, and the notification and e-mail tasks it enqueued run too
        notified = wait_for(lambda: Deadline.objects.filter(lead=lead, breach_notified_at__isnull=False).exists())
        emailed = wait_for(lambda: len(mailoutbox) >= 1)
        # The escalation steps the breach started run after the emails: let them finish before the
        # worker stops, so no task of this test still holds the database when the next one starts.
        escalated = wait_for(lambda: not Escalation.objects.filter(done_at__isnull=True).exists())

    assert notified, "the worker did not breach and notify within 20 s"
    assert emailed, "the worker did not send the email within 20 s"
    assert escalated, "the worker did not run the escalation steps within 20 s"
    deadline = Deadline.objects.get(lead=lead)
    assert deadline.breached_at is not None
    assert deadline.breach_notified_at >= deadline.breached_at
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.BREACH)
    assert (event.actor, event.data["deadline"]) == (None, deadline.pk)
    assert [mail.to for mail in mailoutbox] == [[manager.email]]
    notification = Notification.objects.get(user=manager)
    assert (notification.kind, notification.lead, notification.emailed_at is not None) == ("breach", lead, True)
