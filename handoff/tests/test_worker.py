"""The sweep through the real broker and a real Celery worker, as in production."""

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from conftest import LeadFactory
from handoff.celery import app
from handoff.models import Deadline
from handoff.tasks import sweep_deadlines
from leads import services
from leads.models import LeadEvent


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_worker_sweeps_through_redis_and_emails_the_managers(marketer, manager, campaign, mailoutbox):
    # Given a lead whose claim deadline passed an hour ago
    lead = LeadFactory(campaign=campaign)
    services.lead_qualify(lead=lead, actor=marketer)
    services.lead_hand_off(lead=lead, actor=marketer)
    now = timezone.now()
    Deadline.objects.filter(lead=lead).update(
        starts_at=now - datetime.timedelta(hours=5), due_at=now - datetime.timedelta(hours=1)
    )
    app.control.purge()  # leftovers from earlier runs must not be what this test observes

    # When the sweep is sent through the broker to a running worker
    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, loglevel="WARNING"):
        sweep_deadlines.delay()

        # Then the worker records the breach, and the e-mail task it enqueued runs too
        assert wait_for(lambda: Deadline.objects.filter(lead=lead, breach_notified_at__isnull=False).exists())

    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.BREACH).count() == 1
    assert [mail.to for mail in mailoutbox] == [[manager.email]]
