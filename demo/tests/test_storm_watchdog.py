"""The starvation watchdog: a storm's tail with real workers, and the sweep's heartbeat never goes stale.

5,000 claim deadlines fall due at once while the escalation steps of 3,000 earlier breaches look
stuck (their messages were lost, 8 minutes ago), so every safety net has work. The sweep runs on its
own worker as beat sends it; the safety nets and the side effects (emails, escalation steps) run on
the general and escalation workers, in processes of their own as the Procfile starts them. The test
fails if a safety net (or anything but the sweep) reaches the sweep's worker, if a safety net hands
out a message per deadline, or if the heartbeat is ever older than three intervals.
"""

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from celery import current_app as app
from celery.contrib.testing.worker import start_worker
from celery.signals import before_task_publish, task_prerun
from django.conf import settings
from django.db import connection
from django.utils import timezone

from demo.fills import claim_deadlines_fill
from demo.tests import publish_counter
from enforcement import escalation
from enforcement.health import STALE_AFTER_INTERVALS
from enforcement.models import SweepHeartbeat
from enforcement.sweep import sweep_deadlines as sweep_as_of
from enforcement.tasks import requeue_lost_breach_notices, requeue_stuck_escalations, sweep_deadlines
from enforcement.tests.test_worker import wait_for
from notifications.tasks import resend_unsent_emails
from sla.models import Deadline, Escalation

TAIL = 5_000
LOST = 3_000
# Beat's interval here: the heartbeat must never be older than three of them (6 s).
INTERVAL = 2.0
RUN_FOR = 12 * INTERVAL
QUEUES = ("celery", settings.SLA_QUEUE, settings.ESCALATION_QUEUE)


def purge() -> None:
    with app.connection_for_write() as broker:
        for queue in QUEUES:
            broker.default_channel.queue_purge(queue)


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def workers(*queues: str):
    """A worker process per queue, as the Procfile runs them, each counting what it publishes; yields
    once all of them answer a ping (or fails after 120 s: a start-up on a busy machine is slow)."""
    names = {queue: f"watchdog-{queue}-{os.getpid()}@{socket.gethostname()}" for queue in queues}
    started = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "handoff", "worker", "--loglevel=WARNING", "-Q", queue),
                *("--pool=threads", "--concurrency=2", "-n", name),
                *("--include", publish_counter.__name__, "--without-heartbeat", "--without-mingle", "--without-gossip"),
            ],
            env={**os.environ, "DATABASE_URL": database_url(), "PUBLISH_COUNTER": "1"},
            stdout=subprocess.DEVNULL,
        )
        for queue, name in names.items()
    ]
    try:
        answered: set[str] = set()
        give_up = time.monotonic() + 120
        while answered != set(names.values()) and time.monotonic() < give_up:
            for reply in app.control.ping(destination=list(names.values()), timeout=1.0):
                answered |= set(reply)
        assert answered == set(names.values()), f"workers {set(names.values()) - answered} did not start"
        yield started
    finally:
        for worker in started:
            worker.kill()
            worker.wait(timeout=30)


def heartbeat_age(since) -> float | None:
    """Seconds since the sweep last finished, or None while no sweep has finished since `since`."""
    last = SweepHeartbeat.objects.filter(pk=1).values_list("last_finished_at", flat=True).first()
    if last is None or last < since:
        return None
    return (timezone.now() - last).total_seconds()


@pytest.mark.django_db(transaction=True)
def test_a_storms_tail_never_starves_the_sweep(manager):
    """Given 3,000 breaches whose escalation messages were lost 8 minutes ago and 5,000 deadlines
    falling due at once, when beat sends the sweep and the safety nets every interval for 24 s, then
    the sweep's worker runs sweeps only, its heartbeat is never older than three intervals, every
    deadline of the tail is recorded, and the safety net hands the lost steps out in sets."""
    lost_at = timezone.now() - timedelta(minutes=8)
    lost = claim_deadlines_fill(campaign_name="Watchdog", count=LOST, due=lost_at)
    sweep_as_of(now=lost_at + timedelta(seconds=1))
    purge()  # their escalation sets and emails are lost: only the safety nets can find them
    tail = claim_deadlines_fill(campaign_name="Watchdog", count=TAIL, due=timezone.now())
    publish_counter.reset()

    ran_on_sla_worker: list[str] = []

    def note(sender=None, **kwargs) -> None:
        ran_on_sla_worker.append(sender.name)

    ages: list[float] = []
    began = timezone.now()
    before_task_publish.connect(publish_counter.count)
    task_prerun.connect(note)
    try:
        with (
            workers("celery", settings.ESCALATION_QUEUE),
            start_worker(
                app,
                loglevel="WARNING",
                queues=[settings.SLA_QUEUE],
                perform_ping_check=False,
                pool="threads",
                concurrency=1,
            ),
        ):
            # Beat, faster than the real one for the safety nets: each interval, everything.
            ticks = 0
            next_tick = time.monotonic()
            stop_at = time.monotonic() + RUN_FOR
            while time.monotonic() < stop_at:
                if time.monotonic() >= next_tick:
                    sweep_deadlines.apply_async(expires=INTERVAL)
                    for safety_net in (requeue_stuck_escalations, requeue_lost_breach_notices, resend_unsent_emails):
                        safety_net.delay()
                    ticks += 1
                    next_tick += INTERVAL
                if (age := heartbeat_age(began)) is not None:
                    ages.append(age)
                time.sleep(0.2)
            # The lost steps' sets, handed out by the safety net, still running: let them finish.
            lost_done = wait_for(
                lambda: Escalation.objects.filter(deadline__in=lost, done_at__isnull=False).exists(), timeout=30
            )
    finally:
        before_task_publish.disconnect(publish_counter.count)
        task_prerun.disconnect(note)
        purge()
    published = publish_counter.counted()
    publish_counter.reset()

    assert ages, "no sweep finished within the run"
    assert set(ran_on_sla_worker) == {sweep_deadlines.name}, f"the sweep's worker ran {set(ran_on_sla_worker)}"
    assert max(ages) <= STALE_AFTER_INTERVALS * INTERVAL, f"the heartbeat was {max(ages):.1f} s old"
    assert Deadline.objects.filter(pk__in=tail, breached_at__isnull=True).count() == 0
    # The lost steps were found again (their first messages were purged), by a safety net, in sets:
    # its budget of REQUEUE_SETS sets a run, not a message per deadline (which would be ~2,000 a run).
    assert lost_done, "the safety net never handed out the lost steps"
    from_safety_net = sum(n for (queue, task), n in published.items() if queue == settings.ESCALATION_QUEUE)
    sweep_sets = math.ceil(TAIL / 100)  # a sweep batch is one set (fresh-first may split one in three)
    assert 0 < from_safety_net <= sweep_sets + ticks * escalation.REQUEUE_SETS, published
