"""Fault drill: a worker process killed with SIGKILL in the middle of a sweep, then restarted.

A real `celery worker` process (not a thread in the test), the real Redis broker and PostgreSQL: the
batch the worker was inside when it died must vanish with its transaction, the batches before it
must stay whole, and after a restart and the next sweep every deadline is breached exactly once, with
one timeline event and one set of escalation steps each.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from conftest import LeadFactory
from enforcement.escalation import escalations_requeue_stuck
from enforcement.notices import STORM_THRESHOLD
from enforcement.sweep import breach_notices_requeue
from enforcement.tasks import sweep_deadlines
from enforcement.tests.told import breaches_told
from leads.models import Lead, LeadEvent
from sla.models import Deadline, Escalation, Handoff, SlaPolicy

BATCH = 6
DEADLINES = 120
ROOT = Path(__file__).resolve().parents[2]


def overdue_claims(campaign, marketer, count: int) -> list[int]:
    """`count` leads in the queue whose claim clocks ran out an hour ago, made in three bulk inserts."""
    now = timezone.now()
    policy = SlaPolicy.current()
    leads = Lead.objects.bulk_create(
        LeadFactory.build(campaign=campaign, email=f"drill{i}@example.com", status=Lead.Status.HANDED_OFF)
        for i in range(count)
    )
    handoffs = Handoff.objects.bulk_create(
        Handoff(lead=lead, handed_off_by=marketer, handed_off_at=now, policy=policy) for lead in leads
    )
    deadlines = Deadline.objects.bulk_create(
        Deadline(
            handoff=handoff,
            lead_id=handoff.lead_id,
            kind=Deadline.Kind.CLAIM,
            policy=policy,
            starts_at=now - datetime.timedelta(hours=5),
            allowed=datetime.timedelta(hours=4),
            given_due_at=now - datetime.timedelta(hours=1),
            due_at=now - datetime.timedelta(hours=1),
        )
        for handoff in handoffs
    )
    return [deadline.pk for deadline in deadlines]


def worker_process(log: Path) -> subprocess.Popen:
    """A worker in its own process group, on the test database and the test broker, logging to `log`."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "SLA_SWEEP_BATCH_SIZE": str(BATCH),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [str(celery), "-A", "handoff", "worker", "--pool=threads", "--concurrency=4", "--loglevel=WARNING"]
        + ["--queues", f"celery,{settings.SLA_QUEUE},{settings.ESCALATION_QUEUE}"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, timeout: float = 60.0, every: float = 0.2) -> bool:
    give_up_at = time.monotonic() + timeout
    while time.monotonic() < give_up_at:
        if condition():
            return True
        time.sleep(every)
    return False


def breached(ids) -> int:
    return Deadline.objects.filter(pk__in=ids, breached_at__isnull=False).count()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_loses_no_breach_and_doubles_none(marketer, manager, campaign, tmp_path):
    ids = overdue_claims(campaign, marketer, DEADLINES)
    log = tmp_path / "worker.log"

    # A worker starts the sweep and is killed (SIGKILL, no clean-up) once some batches have committed.
    worker = worker_process(log)
    try:
        sweep_deadlines.delay()
        assert wait_for(lambda: breached(ids) > 0, every=0.01), "the worker never started sweeping"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    # What the dead worker committed is whole batches, each breach with its one event and its steps;
    # the batch it was inside vanished with its transaction.
    done = breached(ids)
    assert 0 < done < DEADLINES, "the kill came too late to interrupt the sweep"
    assert done % BATCH == 0
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.BREACH).count() == done
    assert Escalation.objects.values("deadline").distinct().count() == done

    # A new worker and the next sweep (beat sends one every interval) finish the job.
    worker = worker_process(log)
    try:
        sweep_deadlines.delay()
        assert wait_for(lambda: breached(ids) == DEADLINES), (
            f"only {breached(ids)} breached; worker log:\n{log.read_text()[-3000:]}"
        )
        # A message the dead worker had reserved comes back only after the broker's visibility timeout
        # (an hour); the beat jobs that re-enqueue stuck escalation steps and lost breach notices do
        # not wait that long.
        escalations_requeue_stuck(older_than=datetime.timedelta(0))
        breach_notices_requeue(older_than=datetime.timedelta(0))
        steps = len(SlaPolicy.current().escalation_steps)
        pending = Escalation.objects.filter(done_at__isnull=True)
        assert wait_for(lambda: not pending.exists(), timeout=120), (
            f"{pending.count()} steps left; worker log:\n{log.read_text()[-3000:]}"
        )
        unnotified = Deadline.objects.filter(pk__in=ids, breach_notified_at__isnull=True)
        assert wait_for(lambda: not unnotified.exists(), timeout=60), f"{unnotified.count()} breaches not notified"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    # Exactly once: one breach event per deadline, one row per escalation step, each step done once.
    per_deadline = LeadEvent.objects.filter(kind=LeadEvent.Kind.BREACH).values_list("data__deadline", flat=True)
    assert sorted(per_deadline) == sorted(ids)
    assert Escalation.objects.count() == DEADLINES * steps
    assert breaches_told(manager) == (STORM_THRESHOLD + 1, DEADLINES)  # ten notices, then a summary
